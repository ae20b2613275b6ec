//! `make trace`'s default scenario end to end: boot bring-up, `offline 2`,
//! `online 2`, and an online that fails at an armed fault and rolls back,
//! traced in the kernel, dumped, parsed and written as Chrome Trace JSON.
//! The AP states of `online 2` must sit on cpu2's track in table order,
//! its `cpu:kick` and `cpu:bringup` on cpu0's. Needs `make images` first.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;
use boot::trace::dump::parse_dump;
use boot::trace::{chrome, scenario, Direction, Event, Kind, StepResult};
use serde_json::Value;
use std::time::Duration;

/// The AP states in table order, from `states`.
fn ap_states(console: &mut Console) -> Vec<String> {
    let reply = console.expect_ok("states", COMMAND_TIMEOUT);
    (reply.lines.iter().skip(1))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() > 2 && cols[2] == "ap")
        .filter(|cols| !["online", "offline"].contains(&cols[1]))
        .map(|cols| cols[1].to_string())
        .collect()
}

fn is_step(event: &Event, name: &str, direction: Direction) -> bool {
    matches!(&event.kind, Kind::Step { state, direction: d, .. } if state == name && *d == direction)
}

/// `(track, name, direction)` of every step slice of the JSON, in order.
fn json_steps(json: &Value) -> Vec<(u64, String, String, f64)> {
    let events = json["traceEvents"].as_array().expect("traceEvents");
    events
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "step")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["name"].as_str().unwrap().to_owned(),
                e["args"]["direction"].as_str().unwrap().to_owned(),
                e["ts"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn default_scenario_traces_every_step_on_the_right_track() {
    let mut console = Console::boot(&QemuConfig::default().smp("4"));
    let table = ap_states(&mut console);
    let commands = scenario::commands(scenario::DEFAULT_SCENARIO);
    let (steps, events) = scenario::run(&mut console, &commands);
    let statuses: Vec<&str> = steps.iter().map(|s| s.status.as_str()).collect();
    let last = statuses.last().copied().unwrap_or("");
    if statuses[..statuses.len() - 1]
        .iter()
        .any(|s| !s.starts_with("ok"))
        || !last.starts_with("error")
    {
        console.fail(&format!(
            "scenario statuses {statuses:?}: all ok but the failing online"
        ));
    }

    // Boot bring-up is in the buffer: every AP was kicked, and waited for,
    // from cpu0.
    for cpu in 1..4 {
        for state in ["cpu:kick", "cpu:bringup"] {
            let on_cpu0 = events
                .iter()
                .any(|e| e.cpu == cpu && e.ran_on == 0 && is_step(e, state, Direction::Up));
            if !on_cpu0 {
                console.fail(&format!(
                    "no boot bring-up {state} of cpu{cpu} on cpu0's track"
                ));
            }
        }
    }

    // Parallel bring-up: at boot every AP was kicked before cpu0 waited for
    // any (they run the trampoline together), and each came alive, on its
    // own track, after its own kick.
    let boot_step = |cpu: u32, state: &str| {
        (events.iter())
            .find(|e| e.cpu == cpu && e.ran_on == 0 && is_step(e, state, Direction::Up))
            .map(|e| e.start_ns)
    };
    let last_kick = (1..4).filter_map(|cpu| boot_step(cpu, "cpu:kick")).max();
    let first_wait = (1..4).filter_map(|cpu| boot_step(cpu, "cpu:bringup")).min();
    if !matches!((last_kick, first_wait), (Some(k), Some(w)) if k < w) {
        console.fail(&format!(
            "boot bring-up did not kick every AP before the first wait \
             (last cpu:kick at {last_kick:?} ns, first cpu:bringup at {first_wait:?} ns)"
        ));
    }
    for cpu in 1..4 {
        let kick = boot_step(cpu, "cpu:kick").unwrap_or(u64::MAX);
        let alive = (events.iter())
            .find(|e| e.cpu == cpu && e.ran_on == cpu && e.kind == Kind::Alive)
            .map(|e| e.start_ns);
        if !alive.is_some_and(|ns| ns >= kick) {
            console.fail(&format!(
                "cpu{cpu} not alive on its own track after its kick"
            ));
        }
    }

    // The handshake: every request the control CPU sent was answered,
    // later, on the track of the CPU it went to.
    for request in &events {
        let Kind::Request(id) = request.kind else {
            continue;
        };
        let answered = events.iter().any(|e| {
            e.kind == Kind::Answer(id)
                && e.cpu == request.cpu
                && e.ran_on == request.cpu
                && e.start_ns >= request.start_ns
        });
        if request.ran_on != 0 || !answered {
            console.fail(&format!(
                "request {id} to cpu{} (sent on cpu{}) has no answer on cpu{}'s track",
                request.cpu, request.ran_on, request.cpu
            ));
        }
    }

    // `online 2`: the first kick of cpu2 after the scenario's first offline.
    let json = chrome::trace_json(&events);
    let slices = json_steps(&json);
    let offline = slices
        .iter()
        .position(|(_, name, dir, _)| name == "cpu:bringup" && dir == "down")
        .unwrap_or_else(|| console.fail("no cpu:bringup down (offline 2) in the trace"));
    let kick = (offline..slices.len())
        .find(|&i| slices[i].1 == "cpu:kick" && slices[i].2 == "up")
        .unwrap_or_else(|| console.fail("no cpu:kick up (online 2) after the offline"));
    let bringup = (kick..slices.len())
        .find(|&i| slices[i].1 == "cpu:bringup" && slices[i].2 == "up")
        .unwrap_or_else(|| console.fail("no cpu:bringup up (online 2) after its cpu:kick"));
    if slices[kick].0 != 0 || slices[bringup].0 != 0 {
        console.fail(&format!(
            "online 2's cpu:kick is on track {}, its cpu:bringup on {}",
            slices[kick].0, slices[bringup].0
        ));
    }
    let on_cpu2: Vec<String> = slices[kick..]
        .iter()
        .filter(|(track, _, _, ts)| *track == 2 && *ts >= slices[kick].3)
        .take_while(|(_, _, dir, _)| dir == "up")
        .map(|(_, name, _, _)| name.clone())
        .collect();
    // States with no bring-up (irq:affinity only tears down) never show
    // going up: compare against the ones the trace saw going up at all.
    let with_bring_up: Vec<String> = (table.iter())
        .filter(|name| {
            slices
                .iter()
                .any(|(_, n, dir, _)| n == *name && dir == "up")
        })
        .cloned()
        .collect();
    if on_cpu2 != with_bring_up || with_bring_up.len() + 1 < table.len() {
        console.fail(&format!(
            "online 2's AP states on cpu2's track: {on_cpu2:?}, table order {table:?}"
        ));
    }

    // The failed online: the armed fault stands in for smp:online on cpu2,
    // then the AP states come down again on cpu2, the rest on cpu0.
    let injected = events.iter().position(|e| {
        e.ran_on == 2
            && is_step(e, "smp:online", Direction::Up)
            && matches!(
                e.kind,
                Kind::Step {
                    result: StepResult::Injected,
                    ..
                }
            )
    });
    let Some(injected) = injected else {
        console.fail("no injected smp:online on cpu2's track")
    };
    let back: Vec<&str> = events[injected..]
        .iter()
        .filter_map(|e| match &e.kind {
            Kind::Step {
                state,
                direction: Direction::Down,
                ..
            } if e.ran_on == 2 => Some(state.as_str()),
            _ => None,
        })
        .collect();
    let expected: Vec<&str> = table.iter().rev().skip(1).map(String::as_str).collect();
    if back != expected {
        console.fail(&format!(
            "rollback on cpu2: {back:?}, expected {expected:?}"
        ));
    }
    let flagged = json["traceEvents"].as_array().map_or(0, |all| {
        all.iter()
            .filter(|e| e["args"]["rollback"] == true && e["args"]["direction"] == "down")
            .count()
    });
    if flagged < expected.len() {
        console.fail(&format!(
            "{flagged} slices flagged rollback in the JSON, the AP alone tore down {}",
            expected.len()
        ));
    }
    if !events[injected..]
        .iter()
        .any(|e| e.ran_on == 0 && is_step(e, "cpu:bringup", Direction::Down))
    {
        console.fail("the rollback never parked cpu2 (no cpu:bringup down on cpu0)");
    }
    full_rings_drop_the_oldest(&mut console);
    console.poweroff(COMMAND_TIMEOUT);
}

/// Events each AP's ring holds (`AP_RING_EVENTS` in kernel/src/trace).
const AP_RING_EVENTS: usize = 512;

/// Enough cycles to overflow every online AP's ring: each full ring keeps its
/// newest events, and the dump says how many went.
fn full_rings_drop_the_oldest(console: &mut Console) {
    console.expect_ok("trace clear", COMMAND_TIMEOUT);
    console.expect_ok("trace on", COMMAND_TIMEOUT);
    console.expect_ok("bench 40", Duration::from_secs(120));
    console.expect_ok("trace off", COMMAND_TIMEOUT);
    let status = console.expect_ok("trace", COMMAND_TIMEOUT).status;
    let dump = console.expect_ok("trace dump", COMMAND_TIMEOUT);
    let events = parse_dump(&dump.lines).unwrap_or_else(|e| console.fail(&e.to_string()));
    let dropped = dump
        .summary()
        .and_then(|s| s.strip_prefix(&format!("{} events, ", events.len())))
        .and_then(|s| s.strip_suffix(" dropped (oldest first)"))
        .and_then(|n| n.parse::<u64>().ok());
    if !dropped.is_some_and(|n| n > 0) || !status.contains(" dropped") {
        console.fail(&format!(
            "bench 40 should overflow the AP rings: dump said {:?}, trace said {status:?}",
            dump.status
        ));
    }
    // cpu2 is offline since the failed online: bench cycles 1 and 3, and
    // the clear left nothing of cpu2's.
    for (cpu, expected) in [(1, AP_RING_EVENTS), (2, 0), (3, AP_RING_EVENTS)] {
        let held = events.iter().filter(|e| e.ran_on == cpu).count();
        if held != expected {
            console.fail(&format!(
                "cpu{cpu}'s ring holds {held} events after bench 40, not {expected}"
            ));
        }
    }
}
