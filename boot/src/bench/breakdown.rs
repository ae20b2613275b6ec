//! Where the boot bring-up's time goes: the trace the kernel records from
//! boot until the first prompt, summed per state, per phase of one CPU's
//! bring-up and per CPU track.
//!
//! Owns only the arithmetic over parsed events ([`crate::trace::Event`]);
//! never talks to a guest and never guesses a missing event: a CPU whose
//! markers are not all in the dump (a ring overflowed) is left out of the
//! phases and counted as such.

use crate::trace::{Direction, Event, Kind};
use std::collections::{BTreeMap, BTreeSet};

/// The phases of one CPU's bring-up, in order, between the markers the
/// kernel traces: its first event (a BP-side prepare step), INIT, SIPI,
/// alive (the AP runs kernel code), the control CPU's request for the AP
/// side, the AP's first and last callback, and its answer.
pub const PHASES: [&str; 7] = [
    "first step to INIT (own prepare steps, then its turn)",
    "INIT to SIPI",
    "SIPI to alive (trampoline, AP arch setup)",
    "alive to request (the rest of the kick and bring-up wait)",
    "request to AP's first step (IPI wake)",
    "AP steps (first start to last end)",
    "AP's last step to answer",
];

/// Per CPU being brought up: its (start, end) intervals in one state or
/// phase.
type SpansPerCpu = BTreeMap<u32, Vec<(u64, u64)>>;

/// Totals over the CPUs for one state or phase, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// CPUs it was seen for.
    pub cpus: usize,
    /// Median over those CPUs (a CPU's own time summed first).
    pub median_ns: u64,
    /// Sum over every CPU.
    pub sum_ns: u64,
    /// Time at least one CPU was in it: the sum when CPUs go one at a
    /// time, less when they overlap.
    pub wall_ns: u64,
}

/// One state's share; `bp` when another CPU (the control CPU) ran the
/// callback for the CPU coming up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateShare {
    /// The state's name.
    pub state: String,
    /// Whether the callback ran on another CPU than the one coming up.
    pub bp: bool,
    /// Its totals.
    pub share: Share,
}

/// One CPU's track: the callbacks recorded on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// The CPU that recorded the events.
    pub cpu: u32,
    /// Time in its callbacks (overlaps counted once).
    pub busy_ns: u64,
    /// Its first event to its last.
    pub span_ns: u64,
}

/// The whole boot bring-up, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakdown {
    /// First event's start to last event's end.
    pub window_ns: u64,
    /// Time some callback ran on some CPU.
    pub in_callbacks_ns: u64,
    /// Time no CPU was being brought up: the window less the union of
    /// every CPU's first event to its last (the control CPU between one
    /// CPU's answer and the next CPU's first step, and the boot's log
    /// lines).
    pub between_cpus_ns: u64,
    /// Per state, in the order first seen.
    pub states: Vec<StateShare>,
    /// Per entry of [`PHASES`].
    pub phases: Vec<Share>,
    /// CPUs brought up.
    pub cpus: usize,
    /// CPUs with every marker, counted in [`Breakdown::phases`].
    pub complete: usize,
    /// Per recording CPU, by number.
    pub tracks: Vec<Track>,
}

/// Takes apart the bring-up steps of `events` (teardown steps and
/// instants about no bring-up are ignored).
pub fn breakdown(events: &[Event]) -> Breakdown {
    let ups: Vec<&Event> = events.iter().filter(|e| is_up_step(e)).collect();
    let window = (
        events.iter().map(|e| e.start_ns).min().unwrap_or(0),
        events.iter().map(|e| e.end_ns).max().unwrap_or(0),
    );
    let mut states: Vec<(String, bool, SpansPerCpu)> = Vec::new();
    for e in &ups {
        let Kind::Step { state, .. } = &e.kind else {
            continue;
        };
        let bp = e.ran_on != e.cpu;
        let index = match states.iter().position(|s| &s.0 == state && s.1 == bp) {
            Some(i) => i,
            None => {
                states.push((state.clone(), bp, BTreeMap::new()));
                states.len() - 1
            }
        };
        states[index]
            .2
            .entry(e.cpu)
            .or_default()
            .push((e.start_ns, e.end_ns));
    }
    let targets: BTreeSet<u32> = ups.iter().map(|e| e.cpu).collect();
    let mut per_phase: Vec<SpansPerCpu> = vec![BTreeMap::new(); PHASES.len()];
    let mut complete = 0;
    for &cpu in &targets {
        if let Some(markers) = markers(events, cpu) {
            complete += 1;
            for (i, pair) in markers.windows(2).enumerate() {
                per_phase[i].insert(cpu, vec![(pair[0], pair[1])]);
            }
        }
    }
    let per_cpu_spans: BTreeMap<u32, (u64, u64)> = events
        .iter()
        .filter(|e| targets.contains(&e.cpu))
        .fold(BTreeMap::new(), |mut m, e| {
            let span = m.entry(e.cpu).or_insert((e.start_ns, e.end_ns));
            *span = (span.0.min(e.start_ns), span.1.max(e.end_ns));
            m
        });
    let window_ns = window.1.saturating_sub(window.0);
    Breakdown {
        window_ns,
        between_cpus_ns: window_ns.saturating_sub(union_ns(per_cpu_spans.into_values().collect())),
        in_callbacks_ns: union_ns(ups.iter().map(|e| (e.start_ns, e.end_ns)).collect()),
        states: (states.into_iter())
            .map(|(state, bp, per_cpu)| StateShare {
                state,
                bp,
                share: share(&per_cpu),
            })
            .collect(),
        phases: per_phase.iter().map(share).collect(),
        cpus: targets.len(),
        complete,
        tracks: tracks(&ups),
    }
}

fn is_up_step(e: &Event) -> bool {
    matches!(
        e.kind,
        Kind::Step {
            direction: Direction::Up,
            ..
        }
    )
}

/// `cpu`'s eight phase boundaries, or `None` if one is missing or out of
/// order (a dropped event).
fn markers(events: &[Event], cpu: u32) -> Option<[u64; 8]> {
    let about: Vec<&Event> = events.iter().filter(|e| e.cpu == cpu).collect();
    let first = about.iter().map(|e| e.start_ns).min()?;
    let sipi = about.iter().find(|e| e.kind == Kind::Sipi)?.start_ns;
    let init = (about.iter())
        .filter(|e| e.kind == Kind::Init && e.start_ns <= sipi)
        .map(|e| e.start_ns)
        .max()?;
    let alive = (about.iter())
        .find(|e| e.kind == Kind::Alive && e.start_ns >= sipi)?
        .start_ns;
    let request = (about.iter())
        .find(|e| matches!(e.kind, Kind::Request(_)) && e.start_ns >= alive)?
        .start_ns;
    let ap_steps =
        || (about.iter()).filter(|e| is_up_step(e) && e.ran_on == cpu && e.start_ns >= request);
    let ap_first = ap_steps().map(|e| e.start_ns).min()?;
    let ap_last = ap_steps().map(|e| e.end_ns).max()?;
    let answer = (about.iter())
        .filter(|e| matches!(e.kind, Kind::Answer(_)) && e.start_ns >= ap_last)
        .map(|e| e.start_ns)
        .max()?;
    let m = [first, init, sipi, alive, request, ap_first, ap_last, answer];
    m.windows(2).all(|w| w[0] <= w[1]).then_some(m)
}

fn share(per_cpu: &SpansPerCpu) -> Share {
    let mut own: Vec<u64> = (per_cpu.values())
        .map(|spans| spans.iter().map(|(s, e)| e - s).sum())
        .collect();
    own.sort_unstable();
    Share {
        cpus: own.len(),
        median_ns: own.get(own.len() / 2).copied().unwrap_or(0),
        sum_ns: own.iter().sum(),
        wall_ns: union_ns(per_cpu.values().flatten().copied().collect()),
    }
}

fn tracks(ups: &[&Event]) -> Vec<Track> {
    let mut by_cpu: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    for e in ups {
        by_cpu
            .entry(e.ran_on)
            .or_default()
            .push((e.start_ns, e.end_ns));
    }
    (by_cpu.into_iter())
        .map(|(cpu, spans)| Track {
            cpu,
            span_ns: spans.iter().map(|s| s.1).max().unwrap_or(0)
                - spans.iter().map(|s| s.0).min().unwrap_or(0),
            busy_ns: union_ns(spans),
        })
        .collect()
}

/// Total length of the union of `spans`.
fn union_ns(mut spans: Vec<(u64, u64)>) -> u64 {
    spans.sort_unstable();
    let mut total = 0;
    let mut current: Option<(u64, u64)> = None;
    for (start, end) in spans {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(0, |(s, e)| e - s)
}

#[cfg(test)]
mod tests;
