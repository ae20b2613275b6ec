//! The property tests' keys and a plain reading of the README's editing
//! rules: the line as a `Vec`, the cursor, the history.

use proptest::prelude::*;
use shell::HISTORY_LINES;

pub const LEFT: &[u8] = b"\x1b[D";
pub const RIGHT: &[u8] = b"\x1b[C";
pub const UP: &[u8] = b"\x1b[A";
pub const DOWN: &[u8] = b"\x1b[B";
pub const HOME: &[u8] = b"\x1b[H";
pub const END: &[u8] = b"\x1bOF";
pub const DELETE: &[u8] = b"\x1b[3~";

/// One key of the property test.
#[derive(Clone, Debug)]
pub enum Key {
    Text(Vec<u8>),
    Raw(&'static [u8]),
}

pub fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        4 => proptest::collection::vec(0x20u8..0x7f, 1..4).prop_map(Key::Text),
        1 => prop::sample::select(vec![
            LEFT, RIGHT, UP, DOWN, HOME, END, DELETE, b"\x7f", b"\x08", b"\r", b"\x03",
            b"\x1b[5~", b"\x1b[1;2A", b"\x1bOQ",
        ])
        .prop_map(Key::Raw),
    ]
}

/// The line, cursor and history as a plain reading of the README.
#[derive(Default)]
pub struct Model {
    pub line: Vec<u8>,
    pub cursor: usize,
    history: Vec<Vec<u8>>,
    back: usize,
    draft: Vec<u8>,
    pub lines: Vec<Vec<u8>>,
}

impl Model {
    fn show(&mut self, back: usize) {
        if self.back == 0 {
            self.draft = self.line.clone();
        }
        self.back = back;
        self.line = match back {
            0 => self.draft.clone(),
            n => self.history[self.history.len() - n].clone(),
        };
        self.cursor = self.line.len();
    }

    pub fn press(&mut self, key: &[u8]) {
        match key {
            LEFT => self.cursor = self.cursor.saturating_sub(1),
            RIGHT => self.cursor = (self.cursor + 1).min(self.line.len()),
            HOME => self.cursor = 0,
            END => self.cursor = self.line.len(),
            DELETE if self.cursor < self.line.len() => drop(self.line.remove(self.cursor)),
            b"\x7f" | b"\x08" if self.cursor > 0 => {
                self.cursor -= 1;
                self.line.remove(self.cursor);
            }
            UP if self.back < self.history.len() => self.show(self.back + 1),
            DOWN if self.back > 0 => self.show(self.back - 1),
            b"\r" | b"\x03" => {
                let line = std::mem::take(&mut self.line);
                let kept = line.iter().any(|b| *b != b' ') && self.history.last() != Some(&line);
                if key == b"\r" {
                    if kept {
                        self.history.push(line.clone());
                        if self.history.len() > HISTORY_LINES {
                            self.history.remove(0);
                        }
                    }
                    self.lines.push(line);
                }
                (self.cursor, self.back) = (0, 0);
            }
            _ => {}
        }
    }
}
