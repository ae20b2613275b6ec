//! What Tab may complete at a point in the line: command names as the
//! first word, then what that command's argument takes there (state names,
//! `none`, a keyword such as `stack`, `all` for a CPU list), read from [`COMMANDS`].
//!
//! Owns the choice of candidates and their common prefix. It never writes
//! to the screen or edits the line: the editor does both with the answer.

use crate::spec::ArgKind;
use crate::COMMANDS;

use super::limits::MAX_LINE;

/// Lists the names of the states defined now; the kernel's table changes
/// at run time (`register`), so the editor asks on every Tab.
pub type StateNames<'a> = &'a dyn Fn(&mut dyn FnMut(&str));

/// Calls `each` with every word that fits after `before` (the line up to
/// the start of the word being completed).
pub fn candidates(before: &[u8], states: StateNames, each: &mut dyn FnMut(&str)) {
    let mut words = before
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty());
    let Some(command) = words.next() else {
        COMMANDS.iter().for_each(|c| each(c.name));
        return;
    };
    let index = words.count();
    let Some(spec) = COMMANDS.iter().find(|c| c.name.as_bytes() == command) else {
        return;
    };
    match spec.args.get(index).map(|a| a.kind) {
        Some(ArgKind::State | ArgKind::StateName) => states(each),
        Some(ArgKind::StateOrNone) => {
            each("none");
            states(each);
        }
        Some(ArgKind::Keyword(word)) => each(word),
        Some(ArgKind::CpuList) => each("all"),
        _ => {}
    }
}

/// The candidates that start with `prefix`: how many, and the longest
/// start they all share (at least `prefix`).
pub struct Matches {
    /// How many candidates start with the prefix.
    pub count: usize,
    common: [u8; MAX_LINE],
    common_len: usize,
}

impl Matches {
    /// Collects the candidates for the word `prefix` after `before`.
    pub fn find(before: &[u8], prefix: &[u8], states: StateNames) -> Self {
        let mut matches = Matches {
            count: 0,
            common: [0; MAX_LINE],
            common_len: 0,
        };
        candidates(before, states, &mut |name| {
            let name = name.as_bytes();
            if !name.starts_with(prefix) || name.len() > MAX_LINE {
                return;
            }
            if matches.count == 0 {
                matches.common[..name.len()].copy_from_slice(name);
                matches.common_len = name.len();
            } else {
                let shared = (matches.common[..matches.common_len].iter())
                    .zip(name)
                    .take_while(|(a, b)| a == b)
                    .count();
                matches.common_len = shared;
            }
            matches.count += 1;
        });
        matches
    }

    /// The longest start every match shares.
    pub fn common(&self) -> &[u8] {
        &self.common[..self.common_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn states(each: &mut dyn FnMut(&str)) {
        ["offline", "cpu:prepare", "cpu:starting", "online"]
            .into_iter()
            .for_each(each);
    }

    fn listed(before: &str) -> Vec<String> {
        let mut names = Vec::new();
        candidates(before.as_bytes(), &states, &mut |n| {
            names.push(n.to_string())
        });
        names
    }

    #[test]
    fn the_first_word_is_a_command() {
        assert_eq!(listed("").len(), COMMANDS.len());
        assert_eq!(listed("  ").len(), COMMANDS.len());
        let matches = Matches::find(b"", b"of", &states);
        assert_eq!((matches.count, matches.common()), (1, &b"offline"[..]));
        let matches = Matches::find(b"", b"tim", &states);
        assert_eq!((matches.count, matches.common()), (2, &b"timer"[..]));
    }

    #[test]
    fn arguments_follow_the_command_table() {
        assert_eq!(listed("online "), ["all"], "a CPU list");
        assert!(listed("crash ").is_empty(), "one CPU number");
        assert_eq!(listed("target 1 ").len(), 4);
        assert_eq!(listed("fail 1 ")[0], "none");
        assert_eq!(listed("unregister ").len(), 4);
        assert_eq!(listed("crash 1 "), ["stack"]);
        assert!(listed("target 1 online ").is_empty(), "no third argument");
        assert!(listed("frob ").is_empty(), "unknown command");
        let matches = Matches::find(b"target 1 ", b"cpu:", &states);
        assert_eq!((matches.count, matches.common()), (2, &b"cpu:"[..]));
    }
}
