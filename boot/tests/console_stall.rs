//! A host that stops reading the console costs no CPU (issue 10).
//!
//! QEMU's serial pipe is shrunk to one page and filled, by blank lines
//! whose size on the wire is measured first, to just short of full. Then
//! `offline 1`, whose `threads:online` teardown is armed to fail, so the
//! AP logs inside the step; its line no longer fits, and the host stays
//! away for 5 s, past the engine's 2 s deadline. Before the kernel log
//! buffer the AP waited on the UART, missed the deadline and was lost
//! while the engine said `online` (mode `-`, every later `offline 1`
//! timing out). Now the AP logs into the buffer and answers in time: the
//! operation rolls back, and the CPU's engine state and its real state
//! agree afterwards and it cycles normally. Needs `make images` first.

use std::thread;
use std::time::Duration;

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow};
use boot::qemu::QemuConfig;

/// The pipe size under test: the smallest Linux allows.
const PIPE_BYTES: usize = 4096;
/// Longer than the engine waits for an AP's answer (2 s).
const STALL: Duration = Duration::from_secs(5);
/// Pipe bytes left free once `offline 1` is echoed: fewer than the AP's
/// failure line needs (~55), more than QEMU's UART holds back (~2).
const FREE_AFTER_ECHO: usize = 20;
/// Spaces in one filler line (the console takes up to 255).
const FILLER: usize = 200;
const OFFLINE: &str = "offline 1";
const AP_LINE: &str = "cpu1: threads:online teardown failed: injected fault";

fn cpu1(console: &mut Console) -> CpuRow {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")));
    match rows.into_iter().find(|r| r.cpu == 1) {
        Some(row) => row,
        None => console.fail("`cpus` lists no cpu1"),
    }
}

/// Online in the engine and really running: APIC mode known, in both masks.
fn assert_really_online(console: &mut Console, when: &str) {
    let row = cpu1(console);
    let masks = row.extra.get(1).map(String::as_str);
    if !row.is_online() || row.apic_mode == cpu_table::NOT_RUNNING || masks != Some("active,online")
    {
        console.fail(&format!("{when}: cpu1 is not consistently online: {row:?}"));
    }
}

/// Blank lines that put exactly `bytes` on the wire, given what one line
/// costs beyond its spaces (echo CRLF and the next prompt).
fn filler_lines(mut bytes: usize, per_line: usize) -> Vec<String> {
    let mut lines = Vec::new();
    while bytes >= FILLER + 2 * per_line {
        lines.push(" ".repeat(FILLER));
        bytes -= FILLER + per_line;
    }
    lines.push(" ".repeat(bytes - per_line));
    lines
}

#[test]
fn a_host_that_stops_reading_costs_no_cpu() {
    let mut console = Console::boot(&QemuConfig::default().smp("4"));
    let pipe = console.set_serial_pipe_size(PIPE_BYTES);
    console.expect_ok("fail 1 threads:online", COMMAND_TIMEOUT);

    // What a blank line costs on the wire, measured rather than assumed.
    let before = console.serial_bytes_read();
    console.send_line(&" ".repeat(FILLER));
    console.until_prompt(COMMAND_TIMEOUT);
    let per_line = console.serial_bytes_read() - before - FILLER;
    let echo = OFFLINE.len() + "\r\n".len();
    let lines = filler_lines(pipe - echo - FREE_AFTER_ECHO, per_line);

    // The guest is at its prompt, quiet: from here on nothing is read.
    console.stop_reading();
    let paused_at = console.serial_bytes_read();
    for line in &lines {
        console.send_line(line);
    }
    console.send_line(OFFLINE);
    thread::sleep(STALL);
    assert_eq!(console.serial_bytes_read(), paused_at, "read while paused");
    console.resume_reading();

    for _ in &lines {
        console.until_prompt(COMMAND_TIMEOUT);
    }
    let reply = console.reply(OFFLINE, COMMAND_TIMEOUT);
    let rolled_back = reply
        .error()
        .is_some_and(|e| e.contains(AP_LINE) && e.contains("rolled back to online"));
    if !rolled_back {
        console.fail(&format!(
            "`{OFFLINE}`: expected the injected failure, rolled back; got {reply:?}"
        ));
    }
    // The AP's own line, logged inside the step, comes out before the status.
    if !reply.lines.iter().any(|l| l.contains(AP_LINE)) {
        console.fail(&format!(
            "`{OFFLINE}`: the AP's log line is missing: {reply:?}"
        ));
    }

    assert_really_online(&mut console, "after the stall");
    console.expect_ok(OFFLINE, COMMAND_TIMEOUT);
    let row = cpu1(&mut console);
    if row.state != "offline" || row.apic_mode != cpu_table::NOT_RUNNING {
        console.fail(&format!("after `{OFFLINE}`: cpu1 is not offline: {row:?}"));
    }
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    assert_really_online(&mut console, "after `online 1`");
    console.poweroff(COMMAND_TIMEOUT);
}
