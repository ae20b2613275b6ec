//! A CPU that stops answering inside a hotplug step is forced offline with
//! INIT, cleaned up by the control CPU and can come back: a hang at every
//! AP state in both directions, under a demo workload that must lose
//! nothing. Needs `make images` first.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow};
use boot::qemu::QemuConfig;
use boot::views::{self, stop_and_drain};
use std::time::Duration;

fn cpu_row(console: &mut Console, cpu: u32) -> CpuRow {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")));
    rows.into_iter()
        .find(|r| r.cpu == cpu)
        .unwrap_or_else(|| console.fail(&format!("`cpus` has no cpu{cpu}")))
}

/// The `cpus` column after mode: interrupts, masks, fault, hang.
fn column(console: &mut Console, row: &CpuRow, at: usize) -> String {
    row.extra.get(at).cloned().unwrap_or_else(|| {
        console.fail(&format!("`cpus` row for cpu{} has no column {at}", row.cpu))
    })
}
const MASKS: usize = 1;
const HANG: usize = 3;

/// The built-in AP states, from `states` (demo states are registered ones).
fn ap_states(console: &mut Console) -> Vec<String> {
    let reply = console.expect_ok("states", COMMAND_TIMEOUT);
    (reply.lines.iter().skip(1))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() > 2 && cols[2] == "ap" && !cols.contains(&"calls"))
        .filter(|cols| !["online", "offline"].contains(&cols[1]))
        .map(|cols| cols[1].to_string())
        .collect()
}

/// The CPU is offline everywhere: engine state, APIC mode, masks, no armed
/// hang, nothing runnable on it, no timer left on its queue.
fn assert_cleanly_offline(console: &mut Console, cpu: u32, after: &str) {
    let row = cpu_row(console, cpu);
    let masks = column(console, &row, MASKS);
    let hang = column(console, &row, HANG);
    if (
        row.state.as_str(),
        row.apic_mode.as_str(),
        masks.as_str(),
        hang.as_str(),
    ) != ("offline", "-", "-", "-")
    {
        console.fail(&format!(
            "after {after}: cpu{cpu} is not cleanly offline: {row:?}"
        ));
    }
    let mine = cpu.to_string();
    if let Some(t) = (views::threads(console).into_iter()).find(|t| t.cpu == mine && t.runnable()) {
        console.fail(&format!(
            "after {after}: {} is {} on offline cpu{cpu}",
            t.name, t.state
        ));
    }
    let pending = views::timers(console)[cpu as usize].0;
    if pending != 0 {
        console.fail(&format!(
            "after {after}: {pending} timers still queued on cpu{cpu}"
        ));
    }
}

#[test]
fn a_hang_at_every_ap_state_in_either_direction_is_recovered() {
    let mut console = Console::boot(&QemuConfig::default().smp("3"));
    console.expect_ok("spawn 24", COMMAND_TIMEOUT);
    let states = ap_states(&mut console);
    if states.len() < 6 {
        console.fail(&format!("expected at least 6 AP states, found {states:?}"));
    }
    let mut hangs = 0;
    for state in &states {
        for (command, direction) in [("online", "bring-up"), ("offline", "teardown")] {
            let what = format!("a hang in {state} {direction}");
            if command == "online" {
                console.expect_ok("offline 1", COMMAND_TIMEOUT);
            }
            let armed = console.command(&format!("hang 1 {state}"), COMMAND_TIMEOUT);
            if armed
                .error()
                .is_some_and(|e| e.contains("has no callback there"))
            {
                // A state with one callback only (irq:affinity tears down
                // only): nothing to hang in that direction.
                if command == "online" {
                    console.expect_ok("online 1", COMMAND_TIMEOUT);
                }
                continue;
            }
            if !armed.is_ok() {
                console.fail(&format!("hang 1 {state}: {:?}", armed.status));
            }
            hangs += 1;
            let row = cpu_row(&mut console, 1);
            if column(&mut console, &row, HANG) != *state {
                console.fail(&format!("`cpus` does not show the hang armed on {state}"));
            }
            let reply = console.command(&format!("{command} 1"), COMMAND_TIMEOUT);
            let expected = format!("cpu1: {state} {direction} timed out; cpu1 forced offline");
            if reply.error() != Some(expected.as_str()) {
                console.fail(&format!(
                    "{what}: expected `error: {expected}`, got {:?}",
                    reply.status
                ));
            }
            assert_cleanly_offline(&mut console, 1, &what);
            // It comes back healthy and cycles normally.
            console.expect_ok("online 1", COMMAND_TIMEOUT);
            console.expect_ok("offline 1", COMMAND_TIMEOUT);
            console.expect_ok("online 1", COMMAND_TIMEOUT);
        }
    }
    if hangs < 12 {
        console.fail(&format!("only {hangs} hangs could be armed"));
    }
    let drained = stop_and_drain(&mut console, Duration::from_secs(30));
    eprintln!("lost_cpu: {hangs} hangs recovered; workload drained: {drained:?}");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn hangs_are_refused_where_they_would_hang_the_control_cpu_or_never_fire() {
    let mut console = Console::boot(&QemuConfig::default().smp("2"));
    let reply = console.command("hang 1 timers:prepare", COMMAND_TIMEOUT);
    let error = reply.error().unwrap_or_default().to_string();
    if !error.contains("only AP states can hang") {
        console.fail(&format!(
            "a BP state must be refused, got {:?}",
            reply.status
        ));
    }
    let reply = console.command("hang 1 nosuch:state", COMMAND_TIMEOUT);
    if reply.error() != Some("unknown state 'nosuch:state' (see 'states')") {
        console.fail(&format!(
            "an unknown state must be refused, got {:?}",
            reply.status
        ));
    }
    console.expect_ok("hang 1 smp:online", COMMAND_TIMEOUT);
    console.expect_ok("hang 1 none", COMMAND_TIMEOUT);
    // Disarmed: the next offline is an ordinary one.
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    // A registration whose callback hangs on cpu1 forces it offline too.
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.expect_ok("register demo:a", COMMAND_TIMEOUT);
    console.expect_ok("hang 1 demo:a", COMMAND_TIMEOUT);
    console.expect_ok("unregister demo:a", COMMAND_TIMEOUT);
    assert_cleanly_offline(&mut console, 1, "a hang in unregister");
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}
