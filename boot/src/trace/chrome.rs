//! Trace events as a Chrome Trace Event file (the JSON object format).
//!
//! One process, one thread per CPU (`cpu0`, `cpu1`, ... named with `M`
//! metadata events and sorted by number); each callback a complete (`X`)
//! event named after its state on the track of the CPU that ran it, with
//! `args` `direction`, `cpu` (the CPU being moved) and `result` (and
//! `rollback: true` on the teardowns of an online that failed); requests
//! and answers are short (at most 1 us) `X` events joined by flow events
//! (`s`/`f`):
//! control CPU's request to the AP's first step of it, and the AP's answer
//! back to the control CPU's next event. INIT, SIPI, alive, parked and
//! forced-down are instant (`i`) events. Times are microseconds.

use super::panels::rollback_steps;
use super::{Event, Kind};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The one process all CPU tracks belong to.
const PID: u32 = 1;

/// The whole file for `events` (in dump order: by start time).
pub fn trace_json(events: &[Event]) -> Value {
    let mut out = Vec::new();
    out.push(json!({
        "ph": "M", "pid": PID, "tid": 0, "name": "process_name",
        "args": {"name": "hotplug kernel"},
    }));
    let cpus: BTreeSet<u32> = events.iter().map(|e| e.ran_on).collect();
    for &cpu in &cpus {
        out.push(json!({
            "ph": "M", "pid": PID, "tid": cpu, "name": "thread_name",
            "args": {"name": format!("cpu{cpu}")},
        }));
        out.push(json!({
            "ph": "M", "pid": PID, "tid": cpu, "name": "thread_sort_index",
            "args": {"sort_index": cpu},
        }));
    }
    let rollback = rollback_steps(events);
    for (i, event) in events.iter().enumerate() {
        let mut value = slice_or_instant(event, handshake_ns(events, i));
        if rollback[i] {
            value["args"]["rollback"] = json!(true);
        }
        out.push(value);
    }
    out.extend(flows(events));
    json!({ "traceEvents": out, "displayTimeUnit": "ns" })
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// How long a request or answer slice lasts: a flow binds to the slice
/// around its point, so it gets up to [`HANDSHAKE_NS`], cut short where
/// the next slice on its track begins (slices must nest).
fn handshake_ns(events: &[Event], i: usize) -> u64 {
    let event = &events[i];
    let next = events[i + 1..]
        .iter()
        .find(|e| e.ran_on == event.ran_on)
        .map_or(u64::MAX, |e| e.start_ns);
    HANDSHAKE_NS.min(next.saturating_sub(event.start_ns))
}

/// The longest a request or answer slice is drawn.
const HANDSHAKE_NS: u64 = 1000;

fn slice_or_instant(event: &Event, handshake_ns: u64) -> Value {
    let ts = us(event.start_ns);
    let tid = event.ran_on;
    match &event.kind {
        Kind::Step {
            state,
            direction,
            result,
        } => json!({
            "ph": "X", "pid": PID, "tid": tid, "ts": ts,
            "dur": us(event.end_ns - event.start_ns),
            "name": state, "cat": "step",
            "args": {"direction": direction.word(), "cpu": event.cpu, "result": result.word()},
        }),
        Kind::Request(id) | Kind::Answer(id) => json!({
            "ph": "X", "pid": PID, "tid": tid, "ts": ts, "dur": us(handshake_ns),
            "name": format!("{} cpu{}", event.kind.word(), event.cpu), "cat": "handshake",
            "args": {"cpu": event.cpu, "request": id},
        }),
        kind => json!({
            "ph": "i", "s": "t", "pid": PID, "tid": tid, "ts": ts,
            "name": format!("{} cpu{}", kind.word(), event.cpu), "cat": "smp",
            "args": {"cpu": event.cpu},
        }),
    }
}

/// A flow id per (moved CPU, request, leg): unique in the file.
fn flow_id(cpu: u32, request: u64, back: bool) -> u64 {
    (u64::from(cpu) << 40) | (request << 1) | u64::from(back)
}

/// The handshake arrows: request to the AP, answer back.
fn flows(events: &[Event]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let later = &events[i + 1..];
        let (id, from, to_tid, to_ts) = match event.kind {
            Kind::Request(id) => {
                // The AP's first event after the request (its first step,
                // or its answer if it ran none).
                let Some(to) = later.iter().find(|e| e.ran_on == event.cpu) else {
                    continue;
                };
                (flow_id(event.cpu, id, false), event, to.ran_on, to.start_ns)
            }
            Kind::Answer(id) => {
                // The control CPU's next event: it has woken up.
                let control = events
                    .iter()
                    .find(|e| e.kind == Kind::Request(id) && e.cpu == event.cpu)
                    .map(|e| e.ran_on);
                let Some(control) = control else { continue };
                let to_ts = later
                    .iter()
                    .find(|e| e.ran_on == control)
                    .map_or(event.start_ns, |e| e.start_ns);
                (flow_id(event.cpu, id, true), event, control, to_ts)
            }
            _ => continue,
        };
        let name = format!("cpu{} request {id}", from.cpu);
        out.push(json!({
            "ph": "s", "pid": PID, "tid": from.ran_on, "ts": us(from.start_ns),
            "id": id, "name": name, "cat": "handshake",
        }));
        out.push(json!({
            "ph": "f", "bp": "e", "pid": PID, "tid": to_tid, "ts": us(to_ts),
            "id": id, "name": name, "cat": "handshake",
        }));
    }
    out
}

#[cfg(test)]
mod tests;
