//! Line editing: echo, backspace, and a hard cap on line length.
//!
//! Owns the bytes of the line being typed. It never interprets them: a
//! finished line goes to the parser as it was typed, control bytes included.

/// Longest line kept; longer input is consumed but the line is rejected.
pub const MAX_LINE: usize = 256;

const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;

/// What the console must do after one input byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Nothing to show.
    None,
    /// Echo this byte.
    Echo(u8),
    /// Erase the last character on screen (`BS space BS`).
    Erase,
    /// A line is complete; fetch it with [`LineEditor::take_line`].
    Line,
}

/// Accumulates one input line.
pub struct LineEditor {
    buf: [u8; MAX_LINE],
    len: usize,
    /// Set once input ran past `MAX_LINE`; the line will be rejected.
    overflowed: bool,
    /// The previous byte was CR, so an LF right after it ends nothing.
    after_cr: bool,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    /// An empty line.
    pub const fn new() -> Self {
        LineEditor {
            buf: [0; MAX_LINE],
            len: 0,
            overflowed: false,
            after_cr: false,
        }
    }

    /// Feeds one byte. CR, LF and CRLF each end one line.
    pub fn feed(&mut self, byte: u8) -> Edit {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => Edit::None,
            b'\r' | b'\n' => Edit::Line,
            BACKSPACE | DELETE => {
                if self.len > 0 && !self.overflowed {
                    self.len -= 1;
                    Edit::Erase
                } else {
                    Edit::None
                }
            }
            _ => {
                if self.len == MAX_LINE {
                    self.overflowed = true;
                } else {
                    self.buf[self.len] = byte;
                    self.len += 1;
                }
                // Echo only what a terminal shows as itself; control bytes
                // are kept (and rejected by the parser) but not echoed.
                if byte.is_ascii_graphic() || byte == b' ' {
                    Edit::Echo(byte)
                } else {
                    Edit::None
                }
            }
        }
    }

    /// Copies the finished line into `out`, returns its length and starts a
    /// new one. `Err(len)` if the input ran past [`MAX_LINE`]; `len` bytes
    /// were kept but the line must be rejected.
    pub fn take_line(&mut self, out: &mut [u8; MAX_LINE]) -> Result<usize, usize> {
        let len = self.len;
        let overflowed = core::mem::replace(&mut self.overflowed, false);
        self.len = 0;
        out[..len].copy_from_slice(&self.buf[..len]);
        if overflowed {
            Err(len)
        } else {
            Ok(len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(ed: &mut LineEditor, bytes: &[u8]) -> Option<Result<usize, usize>> {
        let mut out = [0; MAX_LINE];
        let mut result = None;
        for &b in bytes {
            if ed.feed(b) == Edit::Line {
                result = Some(ed.take_line(&mut out));
            }
        }
        result
    }

    #[test]
    fn crlf_ends_one_line_not_two() {
        let mut ed = LineEditor::new();
        let mut lines = 0;
        for &b in b"cpus\r\nhelp\r\n" {
            if ed.feed(b) == Edit::Line {
                lines += 1;
                ed.take_line(&mut [0; MAX_LINE]).unwrap();
            }
        }
        assert_eq!(lines, 2);
    }

    #[test]
    fn empty_lf_after_lf_is_a_line() {
        let mut ed = LineEditor::new();
        assert_eq!(ed.feed(b'\n'), Edit::Line);
        assert_eq!(ed.feed(b'\n'), Edit::Line);
    }

    #[test]
    fn backspace_edits() {
        let mut ed = LineEditor::new();
        let mut out = [0; MAX_LINE];
        for &b in b"cpuz" {
            ed.feed(b);
        }
        assert_eq!(ed.feed(0x7f), Edit::Erase);
        ed.feed(b's');
        assert_eq!(ed.feed(b'\r'), Edit::Line);
        let n = ed.take_line(&mut out).unwrap();
        assert_eq!(&out[..n], b"cpus");
        assert_eq!(ed.feed(0x08), Edit::None, "nothing to erase");
    }

    #[test]
    fn overlong_line_is_rejected_and_next_line_works() {
        let mut ed = LineEditor::new();
        let mut long = [b'a'; MAX_LINE + 10];
        long[MAX_LINE + 9] = b'\n';
        assert!(matches!(feed_all(&mut ed, &long), Some(Err(_))));
        assert_eq!(feed_all(&mut ed, b"ok\n"), Some(Ok(2)));
    }
}
