//! Line editing as in a shell: insert and delete anywhere in the line,
//! cursor keys, history, Tab completion, Ctrl-C; a hard cap on length.
//!
//! Owns the bytes of the line being typed and what the terminal must show
//! of them. It does no I/O: every key's echo, cursor move and redraw goes
//! to the caller's `out`, which writes it to the UART (or, in a test, keeps
//! it). A finished line goes to the parser as it was typed, control bytes
//! included; escape sequences never reach the line (see [`keys`]).
//!
//! Typing at the end of the line echoes exactly the byte typed, and
//! backspace there `BS space BS`, so a tool that sends plain lines sees the
//! same echo as on a dumb terminal. Ctrl-A is not bound: it is QEMU's
//! escape key.

mod complete;
mod history;
mod keys;
mod limits;
mod screen;

pub use complete::StateNames;
pub use history::HISTORY_LINES;
pub use limits::MAX_LINE;
pub use screen::HIDE;

use complete::Matches;
use history::History;
use keys::{Key, KeyDecoder};

const CTRL_C: u8 = 0x03;
const BACKSPACE: u8 = 0x08;
const TAB: u8 = b'\t';
const DELETE: u8 = 0x7f;

/// What the console must do after one input byte, besides writing what
/// the editor gave to `out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Still typing.
    Pending,
    /// A line is complete; fetch it with [`LineEditor::take_line`].
    Line,
    /// Ctrl-C dropped the line (`^C` was echoed): start a new prompt.
    Cancelled,
}

/// Accumulates one input line and remembers the last ones.
pub struct LineEditor {
    /// Printed again after a list of completions.
    prompt: &'static str,
    buf: [u8; MAX_LINE],
    len: usize,
    /// Where the next byte goes, `0..=len`; the terminal cursor is there.
    cursor: usize,
    /// Set once input ran past `MAX_LINE`; the line will be rejected.
    overflowed: bool,
    /// The previous byte was CR, so an LF right after it ends nothing.
    after_cr: bool,
    keys: KeyDecoder,
    history: History,
    /// How many lines up the history the line shown came from; 0 is the
    /// line being typed, kept in `draft` while browsing.
    browsing: usize,
    draft: [u8; MAX_LINE],
    draft_len: usize,
}

impl LineEditor {
    /// An empty line, with `prompt` as the console prints it.
    pub const fn new(prompt: &'static str) -> Self {
        LineEditor {
            prompt,
            buf: [0; MAX_LINE],
            len: 0,
            cursor: 0,
            overflowed: false,
            after_cr: false,
            keys: KeyDecoder::new(),
            history: History::new(),
            browsing: 0,
            draft: [0; MAX_LINE],
            draft_len: 0,
        }
    }

    /// Feeds one byte; what the terminal must show goes to `out`, and Tab
    /// asks `states` for state names. CR, LF and CRLF each end one line.
    pub fn feed(&mut self, byte: u8, states: StateNames, out: &mut dyn FnMut(&[u8])) -> Edit {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        if byte == b'\n' && after_cr {
            return Edit::Pending;
        }
        let key = self.keys.feed(byte);
        match key {
            Key::Byte(b'\r' | b'\n') => return self.enter(out),
            Key::Byte(CTRL_C) => return self.cancel(out),
            // The line is lost already: show what is typed, edit nothing.
            Key::Byte(b) if self.overflowed => {
                if screen::printable(b) {
                    out(&[b]);
                }
            }
            _ if self.overflowed => {}
            Key::Byte(BACKSPACE | DELETE) if self.cursor > 0 => {
                self.cursor -= 1;
                self.remove_at_cursor(out, true);
            }
            Key::Byte(BACKSPACE | DELETE) => {}
            Key::Byte(TAB) => self.complete(states, out),
            Key::Byte(b) => self.type_byte(b, out),
            Key::Delete if self.cursor < self.len => self.remove_at_cursor(out, false),
            Key::Left if self.cursor > 0 => self.move_to(self.cursor - 1, out),
            Key::Right if self.cursor < self.len => self.move_to(self.cursor + 1, out),
            Key::Home => self.move_to(0, out),
            Key::End => self.move_to(self.len, out),
            Key::Up if self.browsing < self.history.len() => self.recall(self.browsing + 1, out),
            Key::Down if self.browsing > 0 => self.recall(self.browsing - 1, out),
            Key::Delete | Key::Left | Key::Right | Key::Up | Key::Down | Key::Ignored => {}
        }
        Edit::Pending
    }

    /// Copies the finished line into `out`, returns its length and starts a
    /// new one. `Err(len)` if the input ran past [`MAX_LINE`]; `len` bytes
    /// were kept but the line must be rejected.
    pub fn take_line(&mut self, out: &mut [u8; MAX_LINE]) -> Result<usize, usize> {
        let len = self.len;
        let overflowed = core::mem::replace(&mut self.overflowed, false);
        self.len = 0;
        self.cursor = 0;
        out[..len].copy_from_slice(&self.buf[..len]);
        if overflowed {
            Err(len)
        } else {
            Ok(len)
        }
    }

    /// The line as typed so far.
    pub fn line(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Where the cursor is in [`LineEditor::line`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Makes room for lines that are not the editor's (the console's held
    /// `event:` lines, arriving while the prompt is on screen): erases the
    /// prompt line ([`HIDE`]). The caller prints whole lines, each ending
    /// in CRLF, then calls [`LineEditor::redraw`]. The line, its history
    /// and a half-read escape sequence are untouched.
    pub fn hide(&self, out: &mut dyn FnMut(&[u8])) {
        out(screen::HIDE);
    }

    /// Draws the prompt and the line at the start of the current (empty)
    /// row, and moves the cursor back to where the editor has it.
    pub fn redraw(&self, out: &mut dyn FnMut(&[u8])) {
        out(self.prompt.as_bytes());
        screen::show(&self.buf[..self.len], out);
        screen::left(self.len - self.cursor, out);
    }

    fn enter(&mut self, out: &mut dyn FnMut(&[u8])) -> Edit {
        // The newline the console prints must not cut the line in two.
        screen::right(self.len - self.cursor, out);
        self.cursor = self.len;
        let line = &self.buf[..self.len];
        if !self.overflowed && line.iter().any(|b| !b.is_ascii_whitespace()) {
            self.history.push(line);
        }
        self.browsing = 0;
        Edit::Line
    }

    fn cancel(&mut self, out: &mut dyn FnMut(&[u8])) -> Edit {
        out(b"^C");
        self.len = 0;
        self.cursor = 0;
        self.overflowed = false;
        self.browsing = 0;
        Edit::Cancelled
    }

    fn type_byte(&mut self, byte: u8, out: &mut dyn FnMut(&[u8])) {
        if self.len == MAX_LINE {
            // Kept as before editing existed: the line is rejected whole.
            self.overflowed = true;
            if screen::printable(byte) {
                out(&[byte]);
            }
        } else {
            self.insert(&[byte], out);
        }
    }

    /// Inserts `bytes` at the cursor (they must fit) and redraws the tail.
    fn insert(&mut self, bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
        let (at, n) = (self.cursor, bytes.len());
        self.buf.copy_within(at..self.len, at + n);
        self.buf[at..at + n].copy_from_slice(bytes);
        self.len += n;
        self.cursor += n;
        screen::show(&self.buf[at..self.len], out);
        screen::left(self.len - self.cursor, out);
    }

    /// Removes the byte under the cursor; `backspace` if the cursor just
    /// stepped back over it (the screen cursor has not moved yet).
    fn remove_at_cursor(&mut self, out: &mut dyn FnMut(&[u8]), backspace: bool) {
        let at = self.cursor;
        self.buf.copy_within(at + 1..self.len, at);
        self.len -= 1;
        if backspace {
            out(b"\x08");
        }
        screen::show(&self.buf[at..self.len], out);
        out(b" ");
        screen::left(self.len - at + 1, out);
    }

    fn move_to(&mut self, to: usize, out: &mut dyn FnMut(&[u8])) {
        if to < self.cursor {
            screen::left(self.cursor - to, out);
        } else {
            screen::right(to - self.cursor, out);
        }
        self.cursor = to;
    }

    /// Shows the line `back` steps up the history (0: the draft) instead
    /// of the current one; nothing if there is no such line.
    fn recall(&mut self, back: usize, out: &mut dyn FnMut(&[u8])) {
        let mut line = [0u8; MAX_LINE];
        let len = match back {
            0 => {
                line[..self.draft_len].copy_from_slice(&self.draft[..self.draft_len]);
                self.draft_len
            }
            _ => match self.history.get(back - 1) {
                Some(entry) => {
                    line[..entry.len()].copy_from_slice(entry);
                    entry.len()
                }
                None => return,
            },
        };
        if self.browsing == 0 {
            self.draft[..self.len].copy_from_slice(&self.buf[..self.len]);
            self.draft_len = self.len;
        }
        self.browsing = back;
        self.replace_line(&line[..len], out);
    }

    fn replace_line(&mut self, line: &[u8], out: &mut dyn FnMut(&[u8])) {
        screen::left(self.cursor, out);
        screen::show(line, out);
        if line.len() < self.len {
            out(screen::ERASE_TO_END);
        }
        self.buf[..line.len()].copy_from_slice(line);
        self.len = line.len();
        self.cursor = line.len();
    }

    /// Tab: completes the word before the cursor as far as the matches
    /// agree, a space after a unique match; lists them when it cannot go
    /// further; rings the bell when nothing matches or it would not fit.
    fn complete(&mut self, states: StateNames, out: &mut dyn FnMut(&[u8])) {
        let start = (self.buf[..self.cursor].iter())
            .rposition(|b| *b == b' ')
            .map_or(0, |i| i + 1);
        let (before, prefix) = self.buf[..self.cursor].split_at(start);
        let matches = Matches::find(before, prefix, states);
        if matches.count == 0 {
            out(screen::BELL);
            return;
        }
        let mut rest = [0u8; MAX_LINE + 1];
        let mut n = matches.common().len() - prefix.len();
        rest[..n].copy_from_slice(&matches.common()[prefix.len()..]);
        if matches.count == 1 && self.buf.get(self.cursor) != Some(&b' ') {
            rest[n] = b' ';
            n += 1;
        }
        if self.len + n > MAX_LINE {
            out(screen::BELL);
        } else if n > 0 {
            self.insert(&rest[..n], out);
        } else if matches.count > 1 {
            self.list(before, prefix, states, out);
        }
    }

    /// Prints every match on the lines below, then the prompt and the
    /// line again, the cursor where it was.
    fn list(&self, before: &[u8], prefix: &[u8], states: StateNames, out: &mut dyn FnMut(&[u8])) {
        let mut column = 0;
        out(b"\r\n");
        complete::candidates(before, states, &mut |name| {
            if !name.as_bytes().starts_with(prefix) {
                return;
            }
            if column > 0 && column + 2 + name.len() > screen::WIDTH {
                out(b"\r\n");
                column = 0;
            } else if column > 0 {
                out(b"  ");
                column += 2;
            }
            out(name.as_bytes());
            column += name.len();
        });
        out(b"\r\n");
        out(self.prompt.as_bytes());
        screen::show(&self.buf[..self.len], out);
        screen::left(self.len - self.cursor, out);
    }
}
