//! One LAPIC timer calibration: the boot CPU measures the timer rate once
//! and every AP coming online takes it after a 5 us check, with no
//! fallback under QEMU (all its LAPIC timers count one 1 GHz clock), and
//! its timers still fire on time; `calibrate each` brings back a full
//! calibration per online. Needs `make images` first.
//!
//! Runs on `-cpu qemu64` (xAPIC) and `-cpu max` (x2APIC): under TCG both
//! run the timer one-shot (TCG has no TSC-deadline mode) and neither
//! reports CPUID leaf 0x15, so the boot CPU's figure is measured.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;

/// QEMU's LAPIC timer: 1 GHz through our divide-by-16.
const QEMU_TICKS_PER_MS: u64 = 62_500;
/// What the AP log says when its check fails.
const FALLBACK: &str = "calibrated its own";
/// A timer this long on an AP must fire within a tenth of it: a rate off
/// by more than the check's 10% would make it later than that every time.
const TIMER_MS: u64 = 500;
/// A host that stalls the vCPU past the bound (the 2-core host runs other
/// guests) gets one more try; a wrong rate is late on both.
const TIMER_TRIES: usize = 2;

fn boot(cpu: &str) -> Console {
    Console::boot(&QemuConfig::default().cpu(cpu).smp("4"))
}

/// The boot CPU's rate from its boot line.
fn boot_rate(console: &mut Console) -> u64 {
    let log = console.log();
    let line = log
        .lines()
        .find(|l| l.starts_with("cpu0: APIC id "))
        .map(str::to_owned);
    let Some(line) = line else {
        console.fail("no `cpu0: APIC id` boot line")
    };
    let rate = line
        .split(", LAPIC timer one-shot, ")
        .nth(1)
        .and_then(|rest| rest.split(" ticks/ms").next())
        .and_then(|n| n.parse::<u64>().ok());
    match rate {
        Some(rate) => rate,
        None => console.fail(&format!("no one-shot rate in {line:?}")),
    }
}

fn no_fallback(console: &mut Console, after: &str) {
    if let Some(line) = console.log().lines().find(|l| l.contains(FALLBACK)) {
        console.fail(&format!("an AP fell back {after}: {line:?}"));
    }
}

/// `timer <cpu> 500` fires on that CPU less than 50 ms late.
fn timer_on_time(console: &mut Console, cpu: u32) {
    let mut status = String::new();
    for _ in 0..TIMER_TRIES {
        let reply = console.expect_ok(&format!("timer {cpu} {TIMER_MS}"), COMMAND_TIMEOUT);
        let late_us = reply
            .status
            .strip_prefix(&format!("ok: cpu{cpu} timer fired on cpu{cpu} "))
            .and_then(|rest| rest.strip_suffix(" us late"))
            .and_then(|n| n.parse::<u64>().ok());
        if late_us.is_some_and(|us| us <= TIMER_MS * 1000 / 10) {
            return;
        }
        status = reply.status;
    }
    console.fail(&format!(
        "timer {cpu} {TIMER_MS}: want it on cpu{cpu} within {} ms, got {status:?} ({TIMER_TRIES} tries)",
        TIMER_MS / 10
    ))
}

fn cycle(console: &mut Console, cpus: &[u32]) {
    for &cpu in cpus {
        console.expect_ok(&format!("offline {cpu}"), COMMAND_TIMEOUT);
        console.expect_ok(&format!("online {cpu}"), COMMAND_TIMEOUT);
    }
}

/// `bench 3`'s median `timers:starting` bring-up, in microseconds.
fn timers_starting_us(console: &mut Console) -> f64 {
    let reply = console.expect_ok("bench 3", COMMAND_TIMEOUT);
    let row = reply
        .lines
        .iter()
        .find(|l| l.split_whitespace().next() == Some("timers:starting"))
        .map(|l| l.split_whitespace().nth(2).map(str::to_owned));
    match row.flatten().and_then(|us| us.parse::<f64>().ok()) {
        Some(us) => us,
        None => console.fail("`bench 3` has no timers:starting median"),
    }
}

fn shared_then_each(cpu: &str) {
    let mut console = boot(cpu);
    let rate = boot_rate(&mut console);
    if rate.abs_diff(QEMU_TICKS_PER_MS) > QEMU_TICKS_PER_MS / 20 {
        console.fail(&format!(
            "cpu0 measured {rate} ticks/ms; QEMU's LAPIC timer runs at {QEMU_TICKS_PER_MS}"
        ));
    }
    no_fallback(&mut console, "at boot");
    let shown = format!("ok: calibrate shared (cpu0 {rate} ticks/ms, calibrated; 0 APs fell back)");
    let reply = console.expect_ok("calibrate", COMMAND_TIMEOUT);
    if reply.status != shown {
        console.fail(&format!(
            "`calibrate`: want {shown:?}, got {:?}",
            reply.status
        ));
    }

    // Reused on every online, and the timers an AP runs on that figure fire
    // on time there.
    for _ in 0..3 {
        cycle(&mut console, &[1, 2, 3]);
    }
    timer_on_time(&mut console, 1);
    timer_on_time(&mut console, 3);
    let shared_us = timers_starting_us(&mut console);
    no_fallback(&mut console, "after 30 onlines");

    // Each AP calibrates fully: a 50 us window on every online.
    let reply = console.expect_ok("calibrate each", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: calibrate each (cpu0 ") {
        console.fail(&format!("`calibrate each`: {:?}", reply.status));
    }
    cycle(&mut console, &[2]);
    timer_on_time(&mut console, 2);
    let each_us = timers_starting_us(&mut console);
    if each_us < 50.0 || shared_us >= each_us {
        console.fail(&format!(
            "timers:starting median: {shared_us} us shared, {each_us} us each; \
             each must take its 50 us window and shared less"
        ));
    }

    for bad in ["calibrate bogus", "calibrate each extra", "calibrate 1"] {
        let reply = console.command(bad, COMMAND_TIMEOUT);
        if reply.error().is_none() {
            console.fail(&format!("{bad:?} must be refused, got {:?}", reply.status));
        }
    }
    let reply = console.expect_ok("calibrate", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: calibrate each ") {
        console.fail(&format!(
            "a refused argument changed the setting: {:?}",
            reply.status
        ));
    }
    console.expect_ok("calibrate shared", COMMAND_TIMEOUT);
    cycle(&mut console, &[3]);
    timer_on_time(&mut console, 3);
    no_fallback(&mut console, "at the end");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn xapic_aps_reuse_the_boot_calibration_and_each_brings_it_back() {
    shared_then_each("qemu64");
}

#[test]
fn x2apic_aps_reuse_the_boot_calibration_and_each_brings_it_back() {
    shared_then_each("max");
}
