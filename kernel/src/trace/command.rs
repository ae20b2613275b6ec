//! `trace [on|off|clear|dump|mark|cost]`: the console's view of the trace.

use crate::trace::buffer;
use crate::trace::event::Kind;
use hotplug::CpuId;

/// How many events `trace cost` times.
const COST_EVENTS: u32 = 10_000;

/// Runs `trace` with its optional word and prints its status line.
pub fn run(word: Option<&str>) {
    match word {
        None => {
            let counts = buffer::counts();
            note_unreadable(&counts);
            let state = if buffer::recording() { "on" } else { "off" };
            println!(
                "ok: trace {state}, {} events, {} dropped",
                counts.held, counts.dropped
            );
        }
        Some("on") => {
            buffer::set_recording(true);
            println!("ok: trace on");
        }
        Some("off") => {
            buffer::set_recording(false);
            println!("ok: trace off");
        }
        Some("clear") => {
            buffer::clear();
            println!("ok: trace cleared");
        }
        Some("dump") => dump(),
        Some("mark") => {
            // Where an operation starts, for the host's picture.
            buffer::record_now(CpuId::BOOT, Kind::Mark);
            println!("ok: trace mark");
        }
        Some("cost") => match buffer::cost_ns(COST_EVENTS) {
            Some(ns) => println!("ok: trace cost {ns} ns per event ({COST_EVENTS} events timed)"),
            None => println!("error: trace cost: no memory for a scratch ring"),
        },
        Some(other) => println!("error: 'trace': unexpected argument '{other}'"),
    }
}

/// One line per event in time order, then the count (and what was lost).
/// Recording pauses meanwhile, so the dump does not trace itself.
fn dump() {
    let was_recording = buffer::recording();
    buffer::set_recording(false);
    let events = buffer::snapshot();
    for event in &events {
        println!("{event}");
    }
    let counts = buffer::counts();
    note_unreadable(&counts);
    buffer::set_recording(was_recording);
    match counts.dropped {
        0 => println!("ok: {} events", events.len()),
        n => println!("ok: {} events, {n} dropped (oldest first)", events.len()),
    }
}

/// A ring left held by a CPU stopped mid-write is not in the output: say
/// so (a line the host's parser skips, before the status line).
fn note_unreadable(counts: &buffer::Counts) {
    for cpu in &counts.unreadable {
        println!("note: {cpu}'s trace ring is held by a stopped CPU; its events are left out");
    }
}
