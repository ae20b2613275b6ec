//! Turns input bytes into keys: plain bytes, and the ECMA-48 escape
//! sequences (CSI `ESC [ ...`, SS3 `ESC O x`) that terminals send for the
//! arrows, Home, End and Delete.
//!
//! Owns only the decoding state between bytes. A sequence it does not
//! know, of any length, becomes [`Key::Ignored`], never bytes of the line;
//! it never looks at the line itself.

const ESC: u8 = 0x1b;

/// One decoded key press.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A byte that is not part of an escape sequence.
    Byte(u8),
    /// Cursor up (`ESC [ A`, `ESC O A`).
    Up,
    /// Cursor down.
    Down,
    /// Cursor right.
    Right,
    /// Cursor left.
    Left,
    /// Home (`ESC [ H`, `ESC O H`, `ESC [ 1 ~`, `ESC [ 7 ~`).
    Home,
    /// End (`ESC [ F`, `ESC O F`, `ESC [ 4 ~`, `ESC [ 8 ~`).
    End,
    /// Delete the character under the cursor (`ESC [ 3 ~`).
    Delete,
    /// Inside, or the end of, a sequence that means nothing here.
    Ignored,
}

/// Where the decoder is inside an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    /// After `ESC`.
    Escape,
    /// After `ESC` and intermediate bytes (`ESC ( B`): waits for the final.
    EscapeIntermediate,
    /// After `ESC [`: parameters, intermediates, then one final byte.
    Csi {
        /// The first numeric parameter (saturating), for `ESC [ n ~`.
        first: u16,
        /// A `;` was seen: later digits belong to other parameters.
        past_first: bool,
    },
    /// After `ESC O`: one final byte.
    Ss3,
}

/// Decodes one byte at a time; see the module docs.
#[derive(Clone, Copy, Debug)]
pub struct KeyDecoder {
    state: State,
}

impl KeyDecoder {
    /// Outside any sequence.
    pub const fn new() -> Self {
        KeyDecoder {
            state: State::Ground,
        }
    }

    /// Feeds one byte. A control byte (or a non-ASCII byte) inside a
    /// sequence cuts it short and counts as itself, as terminals do, so a
    /// CR always ends the line even after a stray `ESC`.
    pub fn feed(&mut self, byte: u8) -> Key {
        let state = core::mem::replace(&mut self.state, State::Ground);
        if byte == ESC {
            self.state = State::Escape;
            return Key::Ignored;
        }
        if state != State::Ground && !(0x20..0x7f).contains(&byte) {
            return Key::Byte(byte);
        }
        match state {
            State::Ground => Key::Byte(byte),
            State::Escape => match byte {
                b'[' => self.wait(State::Csi {
                    first: 0,
                    past_first: false,
                }),
                b'O' => self.wait(State::Ss3),
                0x20..=0x2f => self.wait(State::EscapeIntermediate),
                _ => Key::Ignored,
            },
            State::EscapeIntermediate => match byte {
                0x20..=0x2f => self.wait(State::EscapeIntermediate),
                _ => Key::Ignored,
            },
            State::Ss3 => final_key(byte, 0),
            State::Csi { first, past_first } => match byte {
                b'0'..=b'9' if !past_first => self.wait(State::Csi {
                    first: first
                        .saturating_mul(10)
                        .saturating_add(u16::from(byte - b'0')),
                    past_first,
                }),
                0x30..=0x3f => self.wait(State::Csi {
                    first,
                    past_first: past_first || byte == b';',
                }),
                // Intermediates: a sequence we never bind, ends at its final.
                0x20..=0x2f => self.wait(State::Csi {
                    first: u16::MAX,
                    past_first: true,
                }),
                // Modified keys (`ESC [ 1 ; 5 C`) are not bound.
                _ => final_key(byte, if past_first { u16::MAX } else { first }),
            },
        }
    }

    fn wait(&mut self, state: State) -> Key {
        self.state = state;
        Key::Ignored
    }
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The key a sequence's final byte names, given its first parameter.
fn final_key(byte: u8, first: u16) -> Key {
    match (byte, first) {
        (b'A', 0 | 1) => Key::Up,
        (b'B', 0 | 1) => Key::Down,
        (b'C', 0 | 1) => Key::Right,
        (b'D', 0 | 1) => Key::Left,
        (b'H', 0 | 1) | (b'~', 1 | 7) => Key::Home,
        (b'F', 0 | 1) | (b'~', 4 | 8) => Key::End,
        (b'~', 3) => Key::Delete,
        _ => Key::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = KeyDecoder::new();
        bytes
            .iter()
            .map(|&b| decoder.feed(b))
            .filter(|k| *k != Key::Ignored)
            .collect()
    }

    #[test]
    fn arrows_home_end_delete_in_both_forms() {
        assert_eq!(
            keys(b"\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1bOD"),
            [
                Key::Up,
                Key::Down,
                Key::Right,
                Key::Left,
                Key::Up,
                Key::Left
            ]
        );
        assert_eq!(
            keys(b"\x1b[H\x1b[F\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[3~"),
            [
                Key::Home,
                Key::End,
                Key::Home,
                Key::End,
                Key::Home,
                Key::End,
                Key::Home,
                Key::End,
                Key::Delete
            ]
        );
    }

    #[test]
    fn unknown_sequences_of_any_length_vanish() {
        assert_eq!(
            keys(b"a\x1b[15~b\x1b[1;5C\x1b[?2004hc\x1b[123456789;99;1 qd\x1bOPe\x1b(Bf\x1bxg"),
            [
                Key::Byte(b'a'),
                Key::Byte(b'b'),
                Key::Byte(b'c'),
                Key::Byte(b'd'),
                Key::Byte(b'e'),
                Key::Byte(b'f'),
                Key::Byte(b'g')
            ]
        );
    }

    #[test]
    fn a_control_byte_cuts_a_sequence_short() {
        assert_eq!(keys(b"\x1b[12\r"), [Key::Byte(b'\r')]);
        assert_eq!(keys(b"\x1b\x03"), [Key::Byte(0x03)]);
        assert_eq!(keys(b"\x1bO\x00"), [Key::Byte(0)]);
        assert_eq!(keys(b"\x1b\x1b[A"), [Key::Up]);
    }
}
