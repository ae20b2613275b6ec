//! Formatting one record into a fixed buffer before it is pushed.
//!
//! The ring's lock is held only for a copy, never while `Display` code
//! runs (which may take other locks), so a record is formatted here first,
//! on the producer's stack.

use core::fmt;

/// What ends a record that was longer than its buffer.
pub const CUT_MARK: &str = " [line cut]\n";

/// Up to `N` bytes of formatted text. Text past `N` is cut; the record
/// then ends with [`CUT_MARK`] (at a UTF-8 boundary) so a reader can tell.
#[derive(Debug)]
pub struct LineBuf<const N: usize> {
    bytes: [u8; N],
    len: usize,
    cut: bool,
}

impl<const N: usize> Default for LineBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuf<N> {
    const ROOM_FOR_MARK: () = assert!(N > CUT_MARK.len(), "buffer shorter than the cut mark");

    /// An empty buffer.
    pub const fn new() -> Self {
        let () = Self::ROOM_FOR_MARK;
        Self {
            bytes: [0; N],
            len: 0,
            cut: false,
        }
    }

    /// The record: everything written, or its head and [`CUT_MARK`].
    pub fn record(&mut self) -> &[u8] {
        if !self.cut {
            return &self.bytes[..self.len];
        }
        let mut end = N - CUT_MARK.len();
        // Never split a UTF-8 sequence: back up over continuation bytes.
        while end > 0 && self.bytes[end] & 0xc0 == 0x80 {
            end -= 1;
        }
        self.bytes[end..end + CUT_MARK.len()].copy_from_slice(CUT_MARK.as_bytes());
        &self.bytes[..end + CUT_MARK.len()]
    }
}

impl<const N: usize> fmt::Write for LineBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let taken = s.len().min(room);
        self.bytes[self.len..self.len + taken].copy_from_slice(&s.as_bytes()[..taken]);
        self.len += taken;
        self.cut |= taken < s.len();
        // Keep formatting going: the cut is reported in the record itself.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::fmt::Write;

    #[test]
    fn short_text_is_kept_as_is() {
        let mut line = LineBuf::<32>::new();
        writeln!(line, "cpu{}: up", 3).unwrap();
        assert_eq!(line.record(), b"cpu3: up\n");
    }

    #[test]
    fn long_text_is_cut_and_marked() {
        let mut line = LineBuf::<20>::new();
        write!(line, "{}", "x".repeat(50)).unwrap();
        let record = line.record();
        assert_eq!(record.len(), 20);
        assert!(record.ends_with(CUT_MARK.as_bytes()));
        assert!(record.starts_with(b"xxxxxxxx"));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let mut line = LineBuf::<20>::new();
        // 'é' is two bytes: the cut point (20 - 12 = 8) falls inside one.
        write!(line, "a{}", "é".repeat(20)).unwrap();
        let record = line.record();
        let text = core::str::from_utf8(record).expect("valid UTF-8");
        assert!(text.ends_with(CUT_MARK));
        assert_eq!(text.len(), 7 + CUT_MARK.len());
    }
}
