//! The kernel's `event:` lines come only between commands: a `device_add`
//! while the console runs a command (and has more queued, with long
//! output) is reported after that command's status line, never inside
//! any command's output; a `device_del` while a half-typed line with its
//! cursor moved sits at the prompt is reported in place of the prompt
//! line, which comes back with the line, and the line then completes as
//! typed. Needs `make images`.

// Shared with acpi_hotplug.rs, which uses the rest of it.
#[allow(dead_code)]
mod hotplug_guest;

use std::time::{Duration, Instant};

use boot::console::{is_event_line, COMMAND_TIMEOUT, PROMPT};
use boot::cpu_table;
use boot::qemu::{Machine, QemuConfig};
use hotplug_guest::{Guest, EMPTY_SLOT, EVENT_TIMEOUT};

/// Commands with long output, queued behind the one that holds the
/// console while the hot-add happens.
const LONG_OUTPUT: [&str; 6] = ["states", "help", "cpus", "states", "help", "cpus"];

fn is_status(line: &str) -> bool {
    line == "ok" || line.starts_with("ok: ") || line.starts_with("error: ")
}

/// Every event line in the log stands between commands: right after a
/// status line, another event line or an erased prompt line (the log
/// shows the erase as a line end after `hp> ...`), and what follows the
/// last of a run is the next prompt.
fn events_only_between_commands(m: &mut Guest) {
    let log = m.console.log();
    let lines: Vec<&str> = log.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !is_event_line(line) || i == 0 {
            continue;
        }
        let before = lines[i - 1];
        let after = lines.get(i + 1).copied().unwrap_or(PROMPT);
        let placed_before =
            is_status(before) || is_event_line(before) || before.starts_with(PROMPT);
        let placed_after = is_event_line(after) || after.starts_with(PROMPT);
        if !placed_before || !placed_after {
            m.fail(&format!(
                "event line {line:?} inside other output: after {before:?}, before {after:?}"
            ));
        }
    }
}

/// Waits until the serial log ends with `tail` (the console has read and
/// echoed what was sent).
fn wait_for_tail(m: &mut Guest, tail: &str) {
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    while !m.console.log().ends_with(tail) {
        if Instant::now() > deadline {
            m.fail(&format!("the log never ended with {tail:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn events_wait_for_the_end_of_a_command_and_spare_a_half_typed_line() {
    let mut m = Guest::boot("events", QemuConfig::default().machine(Machine::Q35));

    // The console is busy for 2 s in `timer` when the vCPU is plugged in:
    // its events wait for the status line.
    let hold = "timer 1 2000";
    m.console.send_line(hold);
    wait_for_tail(&mut m, &format!("{hold}\n"));
    let from = m.log_len();
    m.device_add("c5", 5);
    let reply = m.console.reply(hold, EVENT_TIMEOUT);
    if !reply
        .events
        .iter()
        .any(|e| e == "event: cpu5 added (APIC id 5)")
    {
        m.fail(&format!(
            "the hot-add during `{hold}` was not printed after its status line: {reply:?}"
        ));
    }
    let online = m.wait_line(from, "event: cpu5 online");
    if !online.starts_with("event: cpu5 online in ") {
        m.fail(&format!("hot-added CPU did not come online: {online:?}"));
    }

    // Six commands with long output queued, and a vCPU plugged in while
    // they run: its events are in no command's output, only after status
    // lines (or at a prompt).
    for command in LONG_OUTPUT {
        m.console.send_line(command);
    }
    let from = m.log_len();
    m.device_add("c6", 6);
    let mut events = Vec::new();
    for command in LONG_OUTPUT {
        let reply = m.console.reply(command, EVENT_TIMEOUT);
        if !reply.is_ok() {
            m.fail(&format!("{command}: {}", reply.status));
        }
        if let Some(inside) = reply.lines.iter().find(|l| is_event_line(l)) {
            m.fail(&format!(
                "{command}: event line inside its output: {inside:?}"
            ));
        }
        events.extend(reply.events);
    }
    m.wait_line(from, "event: cpu6 online in ");
    let reply = m.console.expect_ok("autoonline", COMMAND_TIMEOUT);
    events.extend(reply.events);
    for expected in ["event: cpu6 added (APIC id 6)", "event: cpu6 online in "] {
        if events.iter().filter(|e| e.starts_with(expected)).count() != 1 {
            m.fail(&format!("{expected:?} not once among {events:?}"));
        }
    }
    m.expect_row(5, cpu_table::ONLINE, cpu_table::PRESENT);
    m.expect_row(6, cpu_table::ONLINE, cpu_table::PRESENT);

    // A half-typed `cpu`, the cursor one to the left, when the vCPU is
    // unplugged: the events replace the prompt line, which is drawn again
    // with the cursor back in place (a BS after the line).
    m.console.send_bytes(b"cpu\x1b[D");
    wait_for_tail(&mut m, &format!("{PROMPT}cpu\x08"));
    let from = m.log_len();
    m.device_del("c5");
    m.wait_line(from, "event: cpu5 removed");
    wait_for_tail(&mut m, &format!("event: cpu5 removed\n{PROMPT}cpu\x08"));
    // Right arrow, then the rest: the line is `cpus`, as typed.
    m.console.send_bytes(b"\x1b[Cs\n");
    let reply = m.console.reply("cpus", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: 3 online, 8 possible") {
        m.fail(&format!(
            "the half-typed `cpus` after the events: {reply:?}"
        ));
    }
    for expected in ["event: cpu5 remove requested", "event: cpu5 removed"] {
        if !reply.events.iter().any(|e| e == expected) {
            m.fail(&format!("{expected:?} not among {:?}", reply.events));
        }
    }
    let rows = cpu_table::parse(&reply.lines).unwrap_or_else(|e| m.fail(&e));
    if !rows
        .iter()
        .any(|r| r.cpu == 5 && r.state == "offline" && r.presence == EMPTY_SLOT)
    {
        m.fail(&format!("cpu5 not offline and {EMPTY_SLOT}: {rows:?}"));
    }
    events_only_between_commands(&mut m);
    m.console.poweroff(COMMAND_TIMEOUT);
}
