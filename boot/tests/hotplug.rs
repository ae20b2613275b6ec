//! The hotplug state machine, driven over the serial console: online and
//! offline cycles, partial targets, fault injection with rollback,
//! refusals, and run-time registration. Needs `make images` first.

use boot::console::{Console, Reply, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow};
use boot::qemu::QemuConfig;

fn boot(smp: &str) -> Console {
    Console::boot(&QemuConfig::default().smp(smp))
}

fn cpus(console: &mut Console) -> Vec<CpuRow> {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")))
}

fn state_of(console: &mut Console, cpu: u32) -> String {
    let rows = cpus(console);
    rows.iter()
        .find(|r| r.cpu == cpu)
        .map(|r| r.state.clone())
        .unwrap_or_default()
}

/// One `states` row: index, name, side, may-fail, section, up and down
/// may-fail, can-rest, then the reason and any extra columns (a demo
/// state's calls).
struct StateRow {
    index: u16,
    name: String,
    may_fail: bool,
    up_may_fail: bool,
    down_may_fail: bool,
    can_rest: bool,
    extra: Vec<String>,
}

/// The columns `states` announces in its header line.
const STATES_HEADER: &str = "INDEX NAME SIDE FAIL SECTION UP DOWN REST WHY";

fn states(console: &mut Console) -> Vec<StateRow> {
    let reply = console.expect_ok("states", COMMAND_TIMEOUT);
    let mut lines = reply.lines.iter().filter(|l| !l.trim().is_empty());
    if lines.next().map(|l| l.trim()) != Some(STATES_HEADER) {
        console.fail(&format!("`states` must start with {STATES_HEADER:?}"));
    }
    lines
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() < 9 {
                console.fail(&format!("short `states` line: {l:?}"));
            }
            let flag = |col: usize, yes: &str, no: &str| match cols[col] {
                c if c == yes => Some(true),
                c if c == no => Some(false),
                _ => None,
            };
            let fail = |col| flag(col, "may-fail", "no-fail");
            let (Some(may_fail), Some(up_may_fail), Some(down_may_fail), Some(can_rest)) =
                (fail(3), fail(5), fail(6), flag(7, "can-rest", "cant-rest"))
            else {
                console.fail(&format!("bad fail or rest column in {l:?}"))
            };
            StateRow {
                index: cols[0]
                    .parse()
                    .unwrap_or_else(|_| console.fail(&format!("bad index in {l:?}"))),
                name: cols[1].to_owned(),
                may_fail,
                up_may_fail,
                down_may_fail,
                can_rest,
                extra: cols[8..].iter().map(|s| s.to_string()).collect(),
            }
        })
        .collect()
}

fn expect_error(console: &mut Console, command: &str, needle: &str) -> Reply {
    let reply = console.command(command, COMMAND_TIMEOUT);
    match reply.error() {
        Some(e) if e.contains(needle) => reply,
        _ => console.fail(&format!(
            "`{command}`: expected an error containing {needle:?}, got {:?}",
            reply.status
        )),
    }
}

/// `ok: cpuN <verb> in <us> us`, with the number parsed.
fn expect_timed(console: &mut Console, command: &str, cpu: u32, verb: &str) -> u64 {
    let reply = console.expect_ok(command, COMMAND_TIMEOUT);
    let summary = reply.summary().unwrap_or("");
    let us = summary
        .strip_prefix(&format!("cpu{cpu} {verb} in "))
        .and_then(|rest| rest.strip_suffix(" us"))
        .and_then(|n| n.parse().ok());
    us.unwrap_or_else(|| console.fail(&format!("`{command}`: bad status line {:?}", reply.status)))
}

#[test]
fn offline_online_cycles_every_ap() {
    let mut console = boot("4");
    for round in 0..3 {
        for cpu in 1..4 {
            expect_timed(&mut console, &format!("offline {cpu}"), cpu, "offline");
            let rows = cpus(&mut console);
            let row = &rows[cpu as usize];
            if row.state != "offline" || row.apic_mode != "-" {
                console.fail(&format!("round {round}: cpu{cpu} after offline: {row:?}"));
            }
            expect_timed(&mut console, &format!("online {cpu}"), cpu, "online");
        }
        let rows = cpus(&mut console);
        if !rows.iter().all(|r| r.is_online() && r.apic_mode != "-") {
            console.fail(&format!(
                "round {round}: not all CPUs back online: {rows:?}"
            ));
        }
    }
    // Online of an online CPU is a no-op that succeeds.
    expect_timed(&mut console, "online 2", 2, "online");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn partial_targets_up_and_down_by_name_and_index() {
    let mut console = boot("2");
    let table = states(&mut console);
    if table.first().map(|s| s.name.as_str()) != Some("offline")
        || table.last().map(|s| s.name.as_str()) != Some("online")
    {
        console.fail("the table must run from `offline` to `online`");
    }
    // Walk down one state at a time, then up, stopping at each stoppable one.
    let mut stoppable = Vec::new();
    for row in table.iter().rev() {
        let reply = console.command(&format!("target 1 {}", row.name), COMMAND_TIMEOUT);
        if reply.is_ok() != row.can_rest {
            console.fail(&format!(
                "target 1 {}: `states` says can-rest {}, got {}",
                row.name, row.can_rest, reply.status
            ));
        }
        if reply.is_ok() {
            let state = state_of(&mut console, 1);
            if state != row.name {
                console.fail(&format!("target 1 {}: cpus says {state}", row.name));
            }
            stoppable.push(row.index);
        } else if !reply.status.contains("cannot stop") {
            console.fail(&format!("target 1 {}: {}", row.name, reply.status));
        }
    }
    if state_of(&mut console, 1) != "offline" || stoppable.len() < 4 {
        console.fail(&format!("walk down ended badly; stoppable {stoppable:?}"));
    }
    for index in stoppable.iter().rev() {
        console.expect_ok(&format!("target 1 {index}"), COMMAND_TIMEOUT);
        let name = &table.iter().find(|s| s.index == *index).unwrap().name;
        if &state_of(&mut console, 1) != name {
            console.fail(&format!("target 1 {index}: expected {name}"));
        }
    }
    // A partially-up CPU goes fully online and offline from there.
    console.expect_ok("target 1 cpu:active", COMMAND_TIMEOUT);
    let row = cpus(&mut console).remove(1);
    if !row.extra.iter().any(|c| c == "active") {
        console.fail(&format!(
            "at cpu:active the CPU must be in the active mask only: {row:?}"
        ));
    }
    expect_timed(&mut console, "offline 1", 1, "offline");
    console.expect_ok("target 1 cpu:active", COMMAND_TIMEOUT);
    expect_timed(&mut console, "online 1", 1, "online");
    console.poweroff(COMMAND_TIMEOUT);
}

/// Arms a fault on cpu1 at `row` and expects it accepted if `fires`, else
/// refused (`may not fail` for a no-fail state, `never fire` otherwise).
fn arm(console: &mut Console, row: &StateRow, fires: bool) {
    let armed = console.command(&format!("fail 1 {}", row.name), COMMAND_TIMEOUT);
    let needle = if row.may_fail {
        "never fire"
    } else {
        "may not fail"
    };
    let ok = match (fires, armed.error()) {
        (true, None) => armed.is_ok(),
        (false, Some(e)) => e.contains(needle),
        _ => false,
    };
    if !ok {
        console.fail(&format!(
            "fail 1 {} (fires {fires}): {}",
            row.name, armed.status
        ));
    }
}

/// The failed operation's error names cpu1, the state and the direction, and
/// the CPU is back where it started.
fn expect_fault(console: &mut Console, command: &str, row: &StateRow, dir: &str, back: &str) {
    let reply = console.command(command, COMMAND_TIMEOUT);
    let fired = reply.error().map(str::to_owned);
    match fired {
        Some(e) if e.contains("cpu1") && e.contains(&row.name) && e.contains(dir) => {}
        _ => console.fail(&format!(
            "`{command}` with a fault on {}: expected a {dir} failure, got {:?}",
            row.name, reply.status
        )),
    }
    if state_of(console, 1) != back {
        console.fail(&format!(
            "after a {} {dir} fault cpu1 must be {back}",
            row.name
        ));
    }
}

/// Every state, both directions: `fail` accepts exactly the faults the next
/// pass can fire (a teardown while cpu1 is online, a bring-up while it is
/// offline, as `states` says), and each accepted fault fires and rolls back.
#[test]
fn injected_faults_roll_back_in_both_directions() {
    let mut console = boot("3");
    let table = states(&mut console);
    for row in &table {
        // cpu1 is online: the next pass of every state is a teardown.
        arm(&mut console, row, row.down_may_fail);
        if row.down_may_fail {
            expect_fault(&mut console, "offline 1", row, "teardown", "online");
        }
        expect_timed(&mut console, "offline 1", 1, "offline");
        // cpu1 is offline: the next pass of every state is a bring-up.
        arm(&mut console, row, row.up_may_fail);
        if row.up_may_fail {
            expect_fault(&mut console, "online 1", row, "bring-up", "offline");
        }
        expect_timed(&mut console, "online 1", 1, "online");
    }
    if !table.iter().any(|r| r.may_fail && !r.down_may_fail) {
        console.fail("expected a state whose teardown cannot fail (cpu:bringup)");
    }
    // `fail N none` disarms: the online that would have failed succeeds.
    expect_timed(&mut console, "offline 2", 2, "offline");
    console.expect_ok("fail 2 cpu:prepare", COMMAND_TIMEOUT);
    console.expect_ok("fail 2 none", COMMAND_TIMEOUT);
    expect_timed(&mut console, "online 2", 2, "online");
    expect_timed(&mut console, "offline 2", 2, "offline");
    expect_timed(&mut console, "online 2", 2, "online");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn refusals_change_nothing() {
    let mut console = boot("2,maxcpus=4");
    let before = cpus(&mut console);
    expect_error(&mut console, "offline 0", "boot CPU");
    expect_error(&mut console, "online 3", "not present");
    expect_error(&mut console, "online 4", "no such CPU");
    expect_error(&mut console, "target 1 no:such-state", "unknown state");
    expect_error(&mut console, "target 1 999", "no such state");
    expect_error(&mut console, "fail 1 cpu:active", "may not fail");
    // cpu1 is online, so the next pass is a teardown, which cpu:prepare lacks.
    expect_error(&mut console, "fail 1 cpu:prepare", "would never fire");
    expect_error(&mut console, "offline", "needs a CPU number");
    expect_error(&mut console, "offline -1", "not a valid CPU number");
    expect_error(&mut console, "online 99999999999", "not a valid CPU number");
    if cpus(&mut console)
        .iter()
        .map(|r| &r.state)
        .ne(before.iter().map(|r| &r.state))
    {
        console.fail("a refused command changed a CPU's state");
    }
    console.poweroff(COMMAND_TIMEOUT);

    let mut console = boot("1");
    expect_error(&mut console, "offline 0", "last online CPU");
    console.poweroff(COMMAND_TIMEOUT);
}

/// The calls column of a demo state: (bring-up, teardown) per CPU.
fn demo_calls(console: &mut Console, name: &str) -> Option<Vec<(u64, u64)>> {
    let row = states(console).into_iter().find(|s| s.name == name)?;
    // `calls up/down ...` (numbers on both sides), then the WHY column.
    let is_pair = |c: &&String| {
        c.split_once('/')
            .is_some_and(|(u, d)| u.parse::<u64>().is_ok() && d.parse::<u64>().is_ok())
    };
    let calls = (row.extra.iter().skip_while(|c| *c != "calls").skip(1)).take_while(is_pair);
    Some(
        calls
            .map(|c| {
                let (up, down) = c.split_once('/').unwrap_or(("x", "x"));
                (
                    up.parse().unwrap_or(u64::MAX),
                    down.parse().unwrap_or(u64::MAX),
                )
            })
            .collect(),
    )
}

#[test]
fn registration_runs_on_every_cpu_past_the_slot() {
    let mut console = boot("3");
    expect_timed(&mut console, "offline 2", 2, "offline");
    console.expect_ok("register demo:count", COMMAND_TIMEOUT);
    expect_error(&mut console, "register demo:count", "already used");
    // Ran at once on the two online CPUs, not on the offline one.
    let calls = demo_calls(&mut console, "demo:count");
    if calls != Some(vec![(1, 0), (1, 0), (0, 0)]) {
        console.fail(&format!("after register: {calls:?}"));
    }
    expect_timed(&mut console, "online 2", 2, "online");
    expect_timed(&mut console, "offline 1", 1, "offline");
    let calls = demo_calls(&mut console, "demo:count");
    if calls != Some(vec![(1, 0), (1, 1), (1, 0)]) {
        console.fail(&format!("after online 2 / offline 1: {calls:?}"));
    }
    // A demo state may fail like any online step, and rolls back.
    console.expect_ok("fail 2 demo:count", COMMAND_TIMEOUT);
    expect_error(&mut console, "offline 2", "demo:count teardown failed");
    expect_timed(&mut console, "online 1", 1, "online");
    console.expect_ok("unregister demo:count", COMMAND_TIMEOUT);
    if demo_calls(&mut console, "demo:count").is_some() {
        console.fail("unregistered state still listed");
    }
    expect_error(&mut console, "unregister demo:count", "unknown state");
    expect_error(
        &mut console,
        "unregister cpu:kick",
        "not a registered dynamic state",
    );
    expect_timed(&mut console, "offline 1", 1, "offline");
    console.poweroff(COMMAND_TIMEOUT);
}
