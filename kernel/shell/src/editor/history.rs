//! The last [`HISTORY_LINES`] lines entered, for up and down.
//!
//! Owns copies of the lines, oldest overwritten first. It never edits a
//! line: the editor copies one out, and edits to the copy stay there.

use super::limits::MAX_LINE;

/// How many lines up and down can reach.
pub const HISTORY_LINES: usize = 32;

/// A ring of the last [`HISTORY_LINES`] lines.
pub struct History {
    lines: [[u8; MAX_LINE]; HISTORY_LINES],
    lens: [u16; HISTORY_LINES],
    /// Where the next line goes.
    next: usize,
    /// How many slots hold a line.
    count: usize,
}

impl History {
    /// No lines yet.
    pub const fn new() -> Self {
        History {
            lines: [[0; MAX_LINE]; HISTORY_LINES],
            lens: [0; HISTORY_LINES],
            next: 0,
            count: 0,
        }
    }

    /// How many lines are held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Keeps `line`, dropping the oldest when full; a line equal to the
    /// newest is not kept twice, so repeating a command costs no slot.
    pub fn push(&mut self, line: &[u8]) {
        if self.count > 0 && self.get(0) == Some(line) {
            return;
        }
        self.lines[self.next][..line.len()].copy_from_slice(line);
        self.lens[self.next] = line.len() as u16;
        self.next = (self.next + 1) % HISTORY_LINES;
        self.count = (self.count + 1).min(HISTORY_LINES);
    }

    /// The line `back` steps before the newest (0 is the newest).
    pub fn get(&self, back: usize) -> Option<&[u8]> {
        if back >= self.count {
            return None;
        }
        let slot = (self.next + HISTORY_LINES - 1 - back) % HISTORY_LINES;
        Some(&self.lines[slot][..usize::from(self.lens[slot])])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_newest_first() {
        let mut history = History::new();
        for i in 0..40u8 {
            history.push(&[b'a' + i % 26, i]);
        }
        assert_eq!(history.len(), HISTORY_LINES);
        assert_eq!(history.get(0), Some(&[b'a' + 39 % 26, 39][..]));
        assert_eq!(history.get(31), Some(&[b'a' + 8, 8][..]));
        assert_eq!(history.get(32), None);
    }

    #[test]
    fn a_repeat_of_the_newest_is_kept_once() {
        let mut history = History::new();
        history.push(b"cpus");
        history.push(b"cpus");
        history.push(b"help");
        history.push(b"cpus");
        assert_eq!(history.len(), 3);
    }
}
