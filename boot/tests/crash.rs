//! Crashes are reported, never silent: an exception on the boot CPU or an
//! AP, and a thread running off its stack, each print the CPU, registers,
//! hotplug state and thread, then exit QEMU with the failure code.

use std::time::Duration;

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::{Firmware, GuestExit, Machine, QemuConfig};

const CRASH_TIMEOUT: Duration = Duration::from_secs(30);

fn boot() -> Console {
    Console::boot(&QemuConfig::default().smp("4"))
}

/// Sends `command`, expects QEMU to exit with the failure code, and checks
/// that the report contains every line fragment in `expected`.
fn expect_report(console: &mut Console, command: &str, expected: &[&str]) {
    console.send_line(command);
    let exit = console.wait_exit(CRASH_TIMEOUT);
    if exit != GuestExit::Failure {
        console.fail(&format!(
            "`{command}`: expected the failure exit code, got {exit:?}"
        ));
    }
    let log = console.log();
    let report = log
        .split_once("\nEXCEPTION on ")
        .or_else(|| log.split_once("\nPANIC on "))
        .map(|(_, r)| r);
    let Some(report) = report else {
        console.fail(&format!("`{command}`: no crash report"));
    };
    for fragment in expected {
        if !report.contains(fragment) {
            console.fail(&format!("`{command}`: crash report lacks {fragment:?}"));
        }
    }
}

#[test]
fn exception_on_the_boot_cpu_is_reported() {
    let mut console = boot();
    expect_report(
        &mut console,
        "crash 0",
        &[
            "cpu0: vector 6 (invalid opcode)",
            "rip 0x",
            "rsp 0x",
            "registers: rflags",
            "hotplug: cpu0 at online",
            "thread: console",
        ],
    );
}

#[test]
fn exception_on_an_ap_names_its_hotplug_state() {
    let mut console = boot();
    console.expect_ok("target 2 sched:active", COMMAND_TIMEOUT);
    expect_report(
        &mut console,
        "crash 2",
        &[
            "cpu2: vector 6 (invalid opcode)",
            "hotplug: cpu2 at sched:active",
            "thread: idle/2",
        ],
    );
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    let mut console = boot();
    expect_report(
        &mut console,
        "crash 3 stack",
        &[
            "cpu3: vector 8 (double fault)",
            "thread: overflow/3",
            "stack overflow: guard page of thread overflow/3 hit",
        ],
    );
}

#[test]
fn crash_of_a_cpu_that_is_not_running_is_refused() {
    let mut console = boot();
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    let reply = console.command("crash 1", COMMAND_TIMEOUT);
    if !reply.error().is_some_and(|e| e.contains("not running")) {
        console.fail(&format!("crash of an offline CPU: {:?}", reply.status));
    }
    // The overflowing thread would wait, queued on the parked CPU, and
    // crash it on its next online, before its bring-up steps.
    let reply = console.command("crash 1 stack", COMMAND_TIMEOUT);
    if !reply.error().is_some_and(|e| e.contains("not running")) {
        console.fail(&format!(
            "stack crash of an offline CPU: {:?}",
            reply.status
        ));
    }
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    let threads = console.expect_ok("threads", COMMAND_TIMEOUT);
    if threads.lines.iter().any(|l| l.contains("overflow/1")) {
        console.fail("a refused stack crash left its thread behind");
    }
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}

/// A CPU in the MADT that never answers the kick: one deadline, an error,
/// the CPU stays offline and the console keeps working.
#[test]
fn a_cpu_that_never_answers_times_out_and_stays_offline() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp("2,maxcpus=4");
    let mut console = Console::boot(&config);
    let reply = console.command("probe 3", COMMAND_TIMEOUT);
    if !reply
        .error()
        .is_some_and(|e| e.contains("no response to INIT-SIPI-SIPI") && e.contains("left offline"))
    {
        console.fail(&format!("probe of an absent CPU: {:?}", reply.status));
    }
    let reply = console.command("probe 1", COMMAND_TIMEOUT);
    if !reply.error().is_some_and(|e| e.contains("present")) {
        console.fail(&format!("probe of a present CPU: {:?}", reply.status));
    }
    let cpus = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let row3 = cpus
        .lines
        .iter()
        .find(|l| l.split_whitespace().next() == Some("3"));
    if !row3.is_some_and(|l| l.split_whitespace().nth(2) == Some("offline")) {
        console.fail(&format!("cpu3 after the probe: {row3:?}"));
    }
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}

/// In xAPIC mode an IPI names its target in 8 bits (0xff is broadcast), so
/// a CPU whose APIC id is above 254 cannot be addressed: it is listed
/// `unaddressable` and refused, never sent an INIT that, cut to 8 bits,
/// would reset another CPU (`probe 299` used to hit APIC id 43).
#[test]
fn xapic_refuses_cpus_it_cannot_address() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("qemu64")
        .smp("4,maxcpus=300");
    let mut console = Console::boot(&config);
    let reply = console.command("probe 299", COMMAND_TIMEOUT);
    if !reply
        .error()
        .is_some_and(|e| e.contains("cannot be addressed"))
    {
        console.fail(&format!(
            "probe of APIC id 299 in xAPIC mode: {:?}",
            reply.status
        ));
    }
    let reply = console.command("online 299", COMMAND_TIMEOUT);
    if !reply.error().is_some_and(|e| e.contains("not present")) {
        console.fail(&format!(
            "online of APIC id 299 in xAPIC mode: {:?}",
            reply.status
        ));
    }
    let cpus = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let presence = |n: &str| {
        let row = cpus
            .lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(n));
        row.and_then(|l| l.split_whitespace().nth(3))
            .map(str::to_owned)
    };
    // An empty slot (QEMU's CPU hotplug block says so): `absent`.
    if presence("254").as_deref() != Some("absent")
        || presence("299").as_deref() != Some("unaddressable")
    {
        console.fail(&format!(
            "presence of cpu254 / cpu299: {:?} / {:?}",
            presence("254"),
            presence("299")
        ));
    }
    if !cpus.status.contains("4 online") {
        console.fail(&format!(
            "the online CPUs after the refusals: {:?}",
            cpus.status
        ));
    }
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}
