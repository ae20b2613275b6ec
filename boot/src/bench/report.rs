//! Reading the benchmark numbers out of report lines.
//!
//! Owns the knowledge of the line formats (ours: the `cpus` and `bench`
//! status lines; Linux: `scripts/linux-bench/init.c`'s `linux-bench:`
//! lines). It never guesses: a format it does not know is a
//! [`FormatError`] with the line, so a changed kernel or init fails the
//! benchmark instead of printing zeros.

use std::fmt;

/// One kernel at one CPU count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measurement {
    /// QEMU `-smp`.
    pub smp: u32,
    /// Boot-time bring-up of every AP, in microseconds.
    pub bringup_us: u64,
    /// (online, offline) medians in microseconds.
    pub medians: Option<(u64, u64)>,
    /// Host wall time from QEMU start until the system is usable (our
    /// prompt; Linux's `/init` running), in milliseconds: the one figure
    /// both kernels are timed alike for, whatever their clocks say.
    pub ready_ms: Option<u64>,
}

/// A report line this module cannot read: the output format changed, or
/// the guest did not print what it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// No line mentions `key`.
    NoLine {
        /// What was looked for (`boot bring-up`).
        key: &'static str,
    },
    /// The line mentions `key`, but what follows is not a number.
    NoNumber {
        /// What was looked for.
        key: &'static str,
        /// The whole line.
        line: String,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::NoLine { key } => {
                write!(f, "unknown bench output format: no line has '{key}'")
            }
            FormatError::NoNumber { key, line } => write!(
                f,
                "unknown bench output format: no number after '{key}' in {line:?}"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

/// The number after `key` in `line` (e.g. `median 12`, `12,` or `12`).
pub fn number_after(line: &str, key: &'static str) -> Result<u64, FormatError> {
    let no_number = || FormatError::NoNumber {
        key,
        line: line.to_owned(),
    };
    let start = line.find(key).ok_or_else(no_number)? + key.len();
    line[start..]
        .split_whitespace()
        .next()
        .and_then(|word| word.trim_end_matches(',').parse().ok())
        .ok_or_else(no_number)
}

/// The first of `lines` that mentions `key`.
fn line_with<'a>(lines: &[&'a str], key: &'static str) -> Result<&'a str, FormatError> {
    lines
        .iter()
        .find(|l| l.contains(key))
        .copied()
        .ok_or(FormatError::NoLine { key })
}

/// Our kernel's numbers: `cpus`'s status line (`ok: ... boot bring-up
/// <us> us`) and, if hotplug was measured, `bench`'s (`ok: online median
/// <x> us, offline median <y> us`).
pub fn parse_ours(
    smp: u32,
    cpus_status: &str,
    bench_status: Option<&str>,
) -> Result<Measurement, FormatError> {
    let bringup_us = number_after(cpus_status, "boot bring-up")?;
    let medians = match bench_status {
        Some(status) => Some((
            number_after(status, "online median")?,
            number_after(status, "offline median")?,
        )),
        None => None,
    };
    Ok(Measurement {
        smp,
        bringup_us,
        medians,
        ready_ms: None,
    })
}

/// Linux's numbers from the `linux-bench:` lines of
/// `scripts/linux-bench/init.c`: the boot bring-up and, if hotplug was
/// measured, the `online us:` and `offline us:` medians.
pub fn parse_linux(smp: u32, report: &[&str], hotplug: bool) -> Result<Measurement, FormatError> {
    let bringup_us = number_after(line_with(report, "boot bring-up")?, "us:")?;
    let medians = if hotplug {
        Some((
            number_after(line_with(report, "online us")?, "median")?,
            number_after(line_with(report, "offline us")?, "median")?,
        ))
    } else {
        None
    };
    Ok(Measurement {
        smp,
        bringup_us,
        medians,
        ready_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_status_lines() {
        let m = parse_ours(
            4,
            "ok: 4 online, 4 possible, boot bring-up 5123 us",
            Some("ok: online median 812 us, offline median 640 us"),
        )
        .unwrap();
        assert_eq!(
            (m.smp, m.bringup_us, m.medians),
            (4, 5123, Some((812, 640)))
        );
        let boot_only = parse_ours(
            255,
            "ok: 255 online, 255 possible, boot bring-up 9 us",
            None,
        );
        assert_eq!(boot_only.unwrap().medians, None);
    }

    #[test]
    fn reads_the_linux_report() {
        let report = [
            "linux-bench: cpus 4 cycles 2",
            "linux-bench: online us: min 100 median 150 max 900",
            "linux-bench: offline us: min 80 median 95 max 300",
            "linux-bench: boot bring-up us: 20500",
            "linux-bench: done",
        ];
        let m = parse_linux(4, &report, true).unwrap();
        assert_eq!((m.bringup_us, m.medians), (20500, Some((150, 95))));
        assert_eq!(parse_linux(4, &report, false).unwrap().medians, None);
    }

    /// A changed format names the line it could not read instead of
    /// putting a zero in the table.
    #[test]
    fn an_unknown_format_fails_loudly() {
        let changed = "ok: online p50 812 us, offline p50 640 us";
        let e = parse_ours(4, "ok: 4 online, boot bring-up 7 us", Some(changed)).unwrap_err();
        assert_eq!(
            e,
            FormatError::NoNumber {
                key: "online median",
                line: changed.into()
            }
        );
        assert!(e.to_string().contains(changed), "{e}");

        let renamed = "ok: 4 online, boot bring-up: 7us";
        let e = parse_ours(4, renamed, None).unwrap_err();
        assert!(e.to_string().contains(renamed), "{e}");

        let report = [
            "linux-bench: online us: min 1 median 2 max 3",
            "linux-bench: done",
        ];
        assert_eq!(
            parse_linux(4, &report, true),
            Err(FormatError::NoLine {
                key: "boot bring-up"
            })
        );
        let report = [
            "linux-bench: boot bring-up us: 10",
            "linux-bench: online us: median",
        ];
        assert!(matches!(
            parse_linux(4, &report, true),
            Err(FormatError::NoNumber { key: "median", .. })
        ));
    }

    #[test]
    fn number_after_takes_the_next_word() {
        assert_eq!(number_after("median 12, max 30", "median"), Ok(12));
        assert_eq!(number_after("us: 7", "us:"), Ok(7));
        assert!(number_after("median -1", "median").is_err());
        assert!(number_after("max 3", "median").is_err());
    }
}
