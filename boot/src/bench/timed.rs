//! Reading the kernel's own time for one move out of its status line:
//! `ok: cpu3 online in 412 us` for one CPU, `ok: cpus 1-63 online in
//! 5123 us` for a set (`online all`, `offline all`).
//!
//! Owns the format of those two lines on the host side (the kernel's is
//! `kernel/src/console/hotplug_cmd.rs` and `cpu_list.rs`); a line it
//! cannot read is a [`FormatError`] naming it, never a zero.

use super::report::{number_after, FormatError};

/// Which way a move went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `online`.
    Online,
    /// `offline`.
    Offline,
}

impl Verb {
    /// The command and the status line's word.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Online => "online",
            Verb::Offline => "offline",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Verb::Online => " online in ",
            Verb::Offline => " offline in ",
        }
    }
}

/// One move as the kernel timed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed {
    /// CPUs moved (1 for `cpuN`, the list's size for `cpus <list>`).
    pub cpus: u32,
    /// The kernel's time for the whole move.
    pub us: u64,
}

/// The CPUs and time of `status`, a `verb` move's status line.
pub fn parse_timed(status: &str, verb: Verb) -> Result<Timed, FormatError> {
    let key = verb.key();
    let bad = || FormatError::NoNumber {
        key,
        line: status.to_owned(),
    };
    let head = status.strip_prefix("ok: ").ok_or_else(bad)?;
    let who = &head[..head.find(key).ok_or_else(bad)?];
    let cpus = match (who.strip_prefix("cpus "), who.strip_prefix("cpu")) {
        (Some(list), _) => list_size(list).ok_or_else(bad)?,
        (None, Some(n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => 1,
        _ => return Err(bad()),
    };
    let us = number_after(status, key)?;
    if !status.ends_with(" us") {
        return Err(bad());
    }
    Ok(Timed { cpus, us })
}

/// How many CPUs a list such as `1-3,5,9-63` names (`None` if it is not
/// one: empty parts, a range running backwards, a stray character).
pub fn list_size(list: &str) -> Option<u32> {
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    list.split(',').try_fold(0u32, |total, part| {
        let size = match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                (a <= b).then(|| b - a + 1)?
            }
            None => number(part).map(|_| 1)?,
        };
        total.checked_add(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cpu_and_a_set() {
        assert_eq!(
            parse_timed("ok: cpu3 online in 412 us", Verb::Online),
            Ok(Timed { cpus: 1, us: 412 })
        );
        assert_eq!(
            parse_timed("ok: cpus 1-63 offline in 5123 us", Verb::Offline),
            Ok(Timed { cpus: 63, us: 5123 })
        );
        assert_eq!(
            parse_timed("ok: cpus 1-3,5,7-8 online in 9 us", Verb::Online),
            Ok(Timed { cpus: 6, us: 9 })
        );
    }

    /// The verb must be the one asked for: an `offline` line is not an
    /// online time, nor the other way round.
    #[test]
    fn the_verb_must_match() {
        assert!(parse_timed("ok: cpu3 offline in 412 us", Verb::Online).is_err());
        assert!(parse_timed("ok: cpu3 online in 412 us", Verb::Offline).is_err());
    }

    #[test]
    fn refuses_what_is_not_a_timed_move() {
        for line in [
            "error: cpu3 is already online",
            "ok",
            "ok: cpu online in 4 us",
            "ok: cpux online in 4 us",
            "ok: cpus online in 4 us",
            "ok: cpus 5-3 online in 4 us",
            "ok: cpus 1,,2 online in 4 us",
            "ok: cpu3 online in 412 ms",
            "ok: cpu3 online in many us",
        ] {
            let e = parse_timed(line, Verb::Online).unwrap_err();
            assert!(e.to_string().contains(line), "{line}: {e}");
        }
    }

    #[test]
    fn list_sizes() {
        assert_eq!(list_size("1"), Some(1));
        assert_eq!(list_size("1-63"), Some(63));
        assert_eq!(list_size("0-1,4-1023"), Some(1022));
        assert_eq!(list_size(""), None);
        assert_eq!(list_size("3-3"), Some(1));
        assert_eq!(list_size("1-"), None);
        assert_eq!(list_size("a"), None);
    }
}
