//! CPU lists on the console (issue 11) at -smp 16 with two empty hot-plug
//! slots: `online`, `offline` and `target` move a whole list in one set
//! operation, `all` means what each command can apply to, a bad list is
//! refused whole with nothing moved, a member with an armed fault rolls
//! back alone (one that hangs is forced offline alone) and is named,
//! `cpus` prints `online:`/`present:`/`possible:` lists, and the other CPU
//! commands take lists too (or refuse them, with a reason). Single CPUs
//! keep their formats. Needs `make images` first.

use boot::console::{Console, Reply, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow};
use boot::qemu::QemuConfig;

/// `cpus`: its rows and its three lists.
struct Cpus {
    rows: Vec<CpuRow>,
    online: String,
    present: String,
    possible: String,
}

fn cpus(console: &mut Console) -> Cpus {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")));
    let mut list = |name| {
        cpu_table::mask(&reply.lines, name)
            .unwrap_or_else(|| console.fail(&format!("`cpus` has no `{name}:` line")))
    };
    let (online, present, possible) = (list("online"), list("present"), list("possible"));
    // The lists come after the rows, right before the status line.
    let tail: Vec<&str> = (reply.lines.iter().map(|l| l.trim()))
        .filter(|l| !l.is_empty())
        .rev()
        .take(3)
        .collect();
    if tail
        != [
            &*format!("possible: {possible}"),
            &*format!("present: {present}"),
            &*format!("online: {online}"),
        ]
    {
        console.fail(&format!(
            "the lists are not the last lines before the status: {tail:?}"
        ));
    }
    Cpus {
        rows,
        online,
        present,
        possible,
    }
}

fn expect_online_list(console: &mut Console, expected: &str) -> Cpus {
    let now = cpus(console);
    if now.online != expected {
        console.fail(&format!("online: {:?}, expected {expected:?}", now.online));
    }
    // The list is the rows at `online`.
    let from_rows: Vec<u32> = (now.rows.iter().filter(|r| r.is_online()))
        .map(|r| r.cpu)
        .collect();
    if compress(&from_rows) != now.online {
        console.fail(&format!(
            "online: {} but rows say {from_rows:?}",
            now.online
        ));
    }
    now
}

/// The canonical list, written independently of the kernel's.
fn compress(cpus: &[u32]) -> String {
    let mut items: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        items.push(match i == j {
            true => cpus[i].to_string(),
            false => format!("{}-{}", cpus[i], cpus[j]),
        });
        i = j + 1;
    }
    items.join(",")
}

/// `ok: <what> in <us> us` with a plausible time.
fn expect_timed(console: &mut Console, command: &str, what: &str) -> Reply {
    let reply = console.command(command, COMMAND_TIMEOUT);
    let us = (reply.status.strip_prefix(&format!("ok: {what} in ")))
        .and_then(|rest| rest.strip_suffix(" us"))
        .and_then(|n| n.parse::<u64>().ok());
    if !us.is_some_and(|us| us > 0) {
        console.fail(&format!(
            "{command}: expected `ok: {what} in <us> us`, got {:?}",
            reply.status
        ));
    }
    reply
}

fn expect_status(console: &mut Console, command: &str, expected: &str) -> Reply {
    let reply = console.command(command, COMMAND_TIMEOUT);
    if reply.status != expected {
        console.fail(&format!(
            "{command}: expected {expected:?}, got {:?}",
            reply.status
        ));
    }
    reply
}

fn expect_error(console: &mut Console, command: &str, needle: &str) -> Reply {
    let reply = console.command(command, COMMAND_TIMEOUT);
    if !reply.error().is_some_and(|e| e.contains(needle)) {
        console.fail(&format!(
            "{command}: expected an error with {needle:?}, got {:?}",
            reply.status
        ));
    }
    reply
}

fn states(rows: &[CpuRow]) -> Vec<(u32, String)> {
    rows.iter().map(|r| (r.cpu, r.state.clone())).collect()
}

/// The FAULT column (armed fault) of `cpu`.
fn fault_of(rows: &[CpuRow], cpu: u32) -> String {
    // After the APIC mode: IRQS, MASKS, FAULT, HANG.
    (rows.iter().find(|r| r.cpu == cpu))
        .and_then(|r| r.extra.get(2).cloned())
        .unwrap_or_default()
}

#[test]
fn cpu_lists_move_whole_sets_and_refuse_bad_lists_whole() {
    let mut console = Console::boot(&QemuConfig::default().smp("16,maxcpus=18"));

    // Before anything moves: the sysfs-style lists.
    let before = expect_online_list(&mut console, "0-15");
    if (before.present.as_str(), before.possible.as_str()) != ("0-15", "0-17") {
        console.fail(&format!(
            "present {:?} possible {:?}, expected 0-15 and 0-17",
            before.present, before.possible
        ));
    }

    expect_timed(&mut console, "offline 1-15", "cpus 1-15 offline");
    expect_online_list(&mut console, "0");
    // `all` for online: every present CPU (not the empty slots 16-17).
    expect_timed(&mut console, "online all", "cpus 0-15 online");
    expect_online_list(&mut console, "0-15");
    expect_timed(&mut console, "offline 2,4-6,15", "cpus 2,4-6,15 offline");
    let now = expect_online_list(&mut console, "0-1,3,7-14");
    if (now.present.as_str(), now.possible.as_str()) != ("0-15", "0-17") {
        console.fail("present/possible changed with onlines");
    }

    // Refused whole: nothing changes.
    let before = states(&now.rows);
    for (command, needle) in [
        ("online 3-1", "runs backwards"),
        ("online 1-99", "cpus 18-99: no such CPU"),
        ("online 1,,2", "empty item"),
        ("online 1-", "has no end"),
        // Every online CPU: the engine says so before naming the boot CPU.
        (
            "offline 0-15",
            "refusing to offline every online CPU at once",
        ),
        ("offline 0-3", "cpu0: the boot CPU must stay online"),
        ("online 14-17", "not present"),
        ("target 1-3 no:such-state", "unknown state"),
        ("online 0-1024", "past 1023"),
    ] {
        expect_error(&mut console, command, needle);
    }
    if states(&cpus(&mut console).rows) != before {
        console.fail("a refused list changed a CPU's state");
    }

    // target: a list rests at the state; 1 and 3 come down, 2 goes up.
    expect_status(
        &mut console,
        "target 1-3 sched:active",
        "ok: cpus 1-3 at sched:active",
    );
    let rows = cpus(&mut console).rows;
    for row in &rows[1..=3] {
        if row.state != "sched:active" {
            console.fail(&format!(
                "cpu{} at {}, not sched:active",
                row.cpu, row.state
            ));
        }
    }
    expect_timed(&mut console, "online 1-3", "cpus 1-3 online");

    // One member with an armed fault rolls back alone and is named.
    console.expect_ok("fail 5 smp:online", COMMAND_TIMEOUT);
    let reply = console.command("online 4-6", COMMAND_TIMEOUT);
    let named = "error: cpu5 failed: cpu5 at offline; cpus 4,6 online in ";
    if !reply.status.starts_with(named) {
        console.fail(&format!(
            "online 4-6 with a fault on cpu5: {:?}",
            reply.status
        ));
    }
    let line = "cpu5: smp:online bring-up failed: injected fault; rolled back to offline";
    if !reply.lines.iter().any(|l| l.trim() == line) {
        console.fail(&format!("no line for the failed member: {:?}", reply.lines));
    }
    expect_online_list(&mut console, "0-4,6-14");
    // And going down: cpu9's teardown fails, 8 and 10 go offline.
    console.expect_ok("fail 9 smp:online", COMMAND_TIMEOUT);
    let reply = console.command("offline 8-10", COMMAND_TIMEOUT);
    if !reply
        .status
        .starts_with("error: cpu9 failed: cpu9 at online; cpus 8,10 offline in ")
    {
        console.fail(&format!(
            "offline 8-10 with a fault on cpu9: {:?}",
            reply.status
        ));
    }
    expect_online_list(&mut console, "0-4,6-7,9,11-14");

    // `offline all`: every CPU that is up but the boot CPU.
    expect_timed(&mut console, "offline all", "cpus 1-4,6-7,9,11-14 offline");
    expect_online_list(&mut console, "0");
    expect_timed(&mut console, "online all", "cpus 0-15 online");

    // A fault at cpu:bringup: the member was kicked with the others in the
    // first phase and is alive in the kernel by its turn, so the way back
    // asks it to park instead of cutting it off with INIT (which could
    // leave a lock it holds taken for good), and it comes up again later.
    expect_timed(&mut console, "offline 1-3", "cpus 1-3 offline");
    console.expect_ok("fail 2 cpu:bringup", COMMAND_TIMEOUT);
    let reply = console.command("online 1-3", COMMAND_TIMEOUT);
    if !(reply.status).starts_with("error: cpu2 failed: cpu2 at offline; cpus 1,3 online in ") {
        console.fail(&format!(
            "online 1-3 with cpu:bringup failing on cpu2: {:?}",
            reply.status
        ));
    }
    if let Some(cut) =
        (reply.lines.iter()).find(|l| l.contains("INIT") || l.contains("did not park"))
    {
        console.fail(&format!("cpu2 was cut off instead of parked: {cut:?}"));
    }
    expect_timed(&mut console, "online 2", "cpu2 online");
    expect_online_list(&mut console, "0-15");

    // Single CPUs keep their formats, however they are written.
    expect_timed(&mut console, "offline 1", "cpu1 offline");
    expect_timed(&mut console, "online 1-1", "cpu1 online");
    expect_status(&mut console, "target 1 sched:active", "ok");
    expect_timed(&mut console, "online 1", "cpu1 online");
    expect_error(&mut console, "online 16", "cpu16 is not present");
    expect_error(&mut console, "online 99", "cpu99: no such CPU");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn the_other_cpu_commands_take_lists_or_say_why_not() {
    let mut console = Console::boot(&QemuConfig::default().smp("4,maxcpus=6"));

    // fail: all or nothing. cpu1 is online, so cpu:prepare (a bring-up
    // only) would never fire there, but would on offline cpu2.
    expect_timed(&mut console, "offline 2", "cpu2 offline");
    console.expect_ok("fail 2 smp:online", COMMAND_TIMEOUT);
    let reply = expect_error(
        &mut console,
        "fail 1-2 cpu:prepare",
        "cpu1 refused; nothing armed",
    );
    if !reply
        .lines
        .iter()
        .any(|l| l.contains("cpu1: cpu:prepare: a fault would never fire"))
    {
        console.fail(&format!(
            "no line for the refused member: {:?}",
            reply.lines
        ));
    }
    let rows = cpus(&mut console).rows;
    if (fault_of(&rows, 1), fault_of(&rows, 2)) != ("-".into(), "smp:online".into()) {
        console.fail(&format!(
            "a refused `fail` list left faults: cpu1 {}, cpu2 {}",
            fault_of(&rows, 1),
            fault_of(&rows, 2)
        ));
    }
    expect_status(&mut console, "fail 1-3 smp:online", "ok: cpus 1-3 armed");
    let rows = cpus(&mut console).rows;
    if (1..=3).any(|cpu| fault_of(&rows, cpu) != "smp:online") {
        console.fail("fail 1-3 did not arm every member");
    }
    expect_status(&mut console, "fail all none", "ok: cpus 0-3 disarmed");
    let rows = cpus(&mut console).rows;
    if (0..4).any(|cpu| fault_of(&rows, cpu) != "-") {
        console.fail("fail all none left a fault armed");
    }
    console.expect_ok("fail 3 none", COMMAND_TIMEOUT);
    // hang: `all` leaves out the boot CPU, which cannot hang.
    expect_status(&mut console, "hang all none", "ok: cpus 1-3 disarmed");
    expect_error(
        &mut console,
        "hang 0-1 sched:active",
        "cpu0 refused; nothing armed",
    );
    expect_timed(&mut console, "online 2", "cpu2 online");

    // timer: one on each CPU at once.
    let reply = console.command("timer 1-3 20", COMMAND_TIMEOUT);
    if !reply
        .status
        .starts_with("ok: cpus 1-3 timers fired, at most ")
    {
        console.fail(&format!("timer 1-3 20: {:?}", reply.status));
    }
    for cpu in 1..=3 {
        let own = format!("cpu{cpu}: timer fired on cpu{cpu} ");
        if !reply.lines.iter().any(|l| l.starts_with(&own)) {
            console.fail(&format!("no line {own:?} in {:?}", reply.lines));
        }
    }
    let reply = console.command("timer all 1", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: cpus 0-3 timers fired") {
        console.fail(&format!("timer all 1: {:?}", reply.status));
    }
    let reply = console.command("timer 2 1", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: cpu2 timer fired on cpu2 ") {
        console.fail(&format!("timer 2 1: {:?}", reply.status));
    }
    expect_timed(&mut console, "offline 3", "cpu3 offline");
    expect_error(&mut console, "timer 1-3 5", "cpu3 take no timers");

    // probe: every CPU of the list is kicked; a present one refuses it all.
    expect_error(&mut console, "probe 3-4", "cpu3: present: use online");
    let reply = expect_error(&mut console, "probe all", "cpus 4-5 did not start");
    for cpu in [4, 5] {
        let own = format!("cpu{cpu}: cpu:kick: no response to INIT-SIPI-SIPI");
        if !reply.lines.iter().any(|l| l.starts_with(&own)) {
            console.fail(&format!("no line {own:?} in {:?}", reply.lines));
        }
    }

    // One CPU only, and why.
    expect_error(
        &mut console,
        "crash 1-2",
        "'crash' takes one CPU number, not a list",
    );
    expect_error(
        &mut console,
        "irq serial all",
        "'irq' takes one CPU number, not a list",
    );
    expect_online_list(&mut console, "0-2");

    // A member whose AP stops answering is forced offline alone.
    console.expect_ok("hang 1 sched:active", COMMAND_TIMEOUT);
    let reply = console.command("offline 1-2", COMMAND_TIMEOUT);
    if !reply
        .status
        .starts_with("error: cpu1 failed: cpu1 at offline; cpu2 offline in ")
    {
        console.fail(&format!(
            "offline 1-2 with cpu1 hanging: {:?}",
            reply.status
        ));
    }
    let line = "cpu1: sched:active teardown timed out; cpu1 forced offline";
    if !reply.lines.iter().any(|l| l.trim() == line) {
        console.fail(&format!("no line for the lost member: {:?}", reply.lines));
    }
    expect_timed(&mut console, "online 1-3", "cpus 1-3 online");
    expect_online_list(&mut console, "0-3");
    console.poweroff(COMMAND_TIMEOUT);
}
