//! The set operation against single moves, in one guest: `offline all`
//! then `online all`, each timed by the kernel's own status line, against
//! every AP moved one `offline N` / `online N` at a time; and the online
//! time per CPU with the LAPIC calibration reuse on and off.
//!
//! Owns the session (which commands, in which order) and its table; the
//! line formats belong to [`super::timed`]. A kernel without the set
//! commands or the calibration knob gets a row saying so, not a zero.

use super::timed::{parse_timed, Timed, Verb};
use crate::console::Console;
use std::time::Duration;

/// Deadline of one move (a set of 63 CPUs included) under TCG.
const MOVE_TIMEOUT: Duration = Duration::from_secs(120);
/// Deadline of a `bench` run.
const BENCH_TIMEOUT: Duration = Duration::from_secs(600);

/// The console command that turns the LAPIC calibration reuse off and on
/// again (the knob of the calibration-reuse change, issue 11), and the
/// `help` entry that says the kernel has it.
pub const CALIB_KNOB: CalibKnob = CalibKnob {
    command: "calibrate",
    off: "calibrate each",
    on: "calibrate shared",
};

/// A console knob: its command name and the two lines that set it.
#[derive(Clone, Copy, Debug)]
pub struct CalibKnob {
    /// The command's name in `help`.
    pub command: &'static str,
    /// The line that turns the reuse off (every CPU calibrates afresh).
    pub off: &'static str,
    /// The line that turns it back on.
    pub on: &'static str,
}

/// One round's medians and sums over the APs, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Singles {
    /// Sum of the `offline N`.
    pub offline_sum_us: u64,
    /// Sum of the `online N`.
    pub online_sum_us: u64,
    /// Median `offline N`.
    pub offline_median_us: u64,
    /// Median `online N`.
    pub online_median_us: u64,
}

/// Everything measured with the calibration reuse in one setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// The APs one at a time, median of the rounds' figures.
    pub singles: Singles,
    /// `offline all`, `online all` (median of the rounds), if the kernel
    /// has them.
    pub set: Option<(Timed, Timed)>,
    /// `bench`'s online median, per CPU.
    pub bench_online_us: u64,
}

/// What the session measured.
#[derive(Clone, Debug)]
pub struct SetReport {
    /// APs moved.
    pub aps: u32,
    /// Rounds taken.
    pub rounds: u32,
    /// With the reuse as the kernel boots (on, if it has it).
    pub default: Figures,
    /// With the reuse off, if the kernel has the knob.
    pub fresh: Option<Figures>,
}

/// Runs the session on a booted guest whose `aps` APs (1..=aps) are
/// online; leaves them online.
pub fn run(console: &mut Console, aps: u32, rounds: u32, cycles: u32) -> SetReport {
    let has_knob = has_command(console, CALIB_KNOB.command);
    let default = figures(console, aps, rounds, cycles);
    let fresh = has_knob.then(|| {
        console.expect_ok(CALIB_KNOB.off, MOVE_TIMEOUT);
        let fresh = figures(console, aps, rounds, cycles);
        console.expect_ok(CALIB_KNOB.on, MOVE_TIMEOUT);
        fresh
    });
    SetReport {
        aps,
        rounds,
        default,
        fresh,
    }
}

/// Whether `help` lists `name` as a command (its line starts with it).
pub fn has_command(console: &mut Console, name: &str) -> bool {
    let help = console.expect_ok("help", MOVE_TIMEOUT);
    help.lines
        .iter()
        .any(|l| l.split_whitespace().next() == Some(name))
}

fn figures(console: &mut Console, aps: u32, rounds: u32, cycles: u32) -> Figures {
    let mut singles = Vec::new();
    let mut sets = Vec::new();
    for _ in 0..rounds.max(1) {
        singles.push(one_at_a_time(console, aps));
        if let Some(set) = set_round(console, aps) {
            sets.push(set);
        }
    }
    let bench = console.expect_ok(&format!("bench {cycles}"), BENCH_TIMEOUT);
    let bench_online_us = super::number_after(&bench.status, "online median")
        .unwrap_or_else(|e| console.fail(&e.to_string()));
    let pick = |f: fn(&Singles) -> u64| median(singles.iter().map(f).collect());
    Figures {
        singles: Singles {
            offline_sum_us: pick(|s| s.offline_sum_us),
            online_sum_us: pick(|s| s.online_sum_us),
            offline_median_us: pick(|s| s.offline_median_us),
            online_median_us: pick(|s| s.online_median_us),
        },
        set: (!sets.is_empty()).then(|| {
            let of = |f: fn(&(Timed, Timed)) -> Timed| Timed {
                cpus: aps,
                us: median(sets.iter().map(|s| f(s).us).collect()),
            };
            (of(|s| s.0), of(|s| s.1))
        }),
        bench_online_us,
    }
}

/// Every AP offline, one command each, then every AP online likewise.
fn one_at_a_time(console: &mut Console, aps: u32) -> Singles {
    let mut times = [Vec::new(), Vec::new()];
    for (verb, times) in [Verb::Offline, Verb::Online].into_iter().zip(&mut times) {
        for cpu in 1..=aps {
            times.push(timed(console, &format!("{} {cpu}", verb.word()), verb, 1).us);
        }
    }
    let [off, on] = times;
    Singles {
        offline_sum_us: off.iter().sum(),
        online_sum_us: on.iter().sum(),
        offline_median_us: median(off),
        online_median_us: median(on),
    }
}

/// `offline all` then `online all`, or `None` if the kernel refuses
/// `offline all` (it has no CPU lists: nothing was moved).
fn set_round(console: &mut Console, aps: u32) -> Option<(Timed, Timed)> {
    let down = console.command("offline all", MOVE_TIMEOUT);
    if down.error().is_some() {
        eprintln!(
            "  set: 'offline all' refused ({}): no set figure",
            down.status
        );
        return None;
    }
    let down = checked(console, &down.status, Verb::Offline, aps);
    let up = timed(console, "online all", Verb::Online, aps);
    Some((down, up))
}

fn timed(console: &mut Console, command: &str, verb: Verb, cpus: u32) -> Timed {
    let reply = console.expect_ok(command, MOVE_TIMEOUT);
    checked(console, &reply.status, verb, cpus)
}

/// The move's time, once its line names `cpus` CPUs: `online all` may
/// name the boot CPU as well (it is present, and already online), so one
/// more is accepted there.
fn checked(console: &mut Console, status: &str, verb: Verb, cpus: u32) -> Timed {
    let named = |n: u32| n == cpus || (verb == Verb::Online && cpus > 1 && n == cpus + 1);
    match parse_timed(status, verb) {
        Ok(t) if named(t.cpus) => t,
        Ok(t) => console.fail(&format!("{status:?} moved {} CPUs, not {cpus}", t.cpus)),
        Err(e) => console.fail(&e.to_string()),
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// The session's figures as markdown tables.
pub fn table(report: &SetReport) -> String {
    let n = report.aps;
    let mut out = format!(
        "{n} APs; kernel's own times; median of {} rounds\n\n| | offline | online |\n| --- | ---: | ---: |\n",
        report.rounds
    );
    let f = &report.default;
    let ms = |us: u64| format!("{:.1} ms", us as f64 / 1000.0);
    let s = &f.singles;
    out += &format!(
        "| {n} single moves, sum | {} | {} |\n| single move, median | {} us | {} us |\n",
        ms(s.offline_sum_us),
        ms(s.online_sum_us),
        s.offline_median_us,
        s.online_median_us
    );
    match f.set {
        Some((down, up)) => {
            out += &format!(
                "| `offline all` / `online all` | {} | {} |\n| set, per CPU | {} us | {} us |\n| sum of singles / set | {:.1}x | {:.1}x |\n",
                ms(down.us),
                ms(up.us),
                down.us / u64::from(n.max(1)),
                up.us / u64::from(n.max(1)),
                ratio(s.offline_sum_us, down.us),
                ratio(s.online_sum_us, up.us)
            )
        }
        None => out += "| `offline all` / `online all` | not in this kernel | not in this kernel |\n",
    }
    out += "\nOnline time per CPU, LAPIC calibration reuse on and off:\n\n| calibration | `bench` online median | `online N` median | `online all` per CPU |\n| --- | ---: | ---: | ---: |\n";
    let row = |name: &str, f: &Figures| {
        let set = f.set.map_or("-".to_owned(), |(_, up)| {
            format!("{} us", up.us / u64::from(n.max(1)))
        });
        format!(
            "| {name} | {} us | {} us | {set} |\n",
            f.bench_online_us, f.singles.online_median_us
        )
    };
    match &report.fresh {
        Some(fresh) => {
            out += &row("reused (default)", f);
            out += &row(&format!("fresh (`{}`)", CALIB_KNOB.off), fresh);
        }
        None => {
            out += &row("as booted", f);
            out += &format!(
                "| fresh | no `{}` command in this kernel | | |\n",
                CALIB_KNOB.command
            );
        }
    }
    out
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}
