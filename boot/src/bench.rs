//! Measuring hotplug latency in QEMU, for our kernel (`bench` over the
//! console) and for Debian's Linux (a static `/init` writing to sysfs), on
//! the same machine flags, so `make bench` and `make bench-linux` print
//! comparable tables.
//!
//! Beyond the table: [`detail`] takes the boot bring-up apart from the
//! boot trace ([`breakdown`]) and times the set operation against single
//! moves ([`set`]); [`big`] boots the very large machines.
//!
//! The numbers come from console and log lines whose format belongs to the
//! kernel (`kernel/src/bench.rs`, `show.rs`) and to
//! `scripts/linux-bench/init.c`; `report` reads them, and a line it
//! cannot read is a [`FormatError`] naming the line, never a silent zero
//! in the table.

pub mod big;
mod breakdown;
mod report;
pub mod set;
mod tables;
pub mod timed;

pub use breakdown::{breakdown, Breakdown, Share, StateShare, Track, PHASES};
pub use report::{number_after, parse_linux, parse_ours, FormatError, Measurement};
pub use tables::{breakdown_table, ratios, table};

use std::path::Path;
use std::time::Duration;

use crate::console::{Console, BOOT_TIMEOUT};
use crate::cpio::{archive, Entry};
use crate::qemu::{Firmware, Machine, QemuConfig};

const BENCH_TIMEOUT: Duration = Duration::from_secs(600);
const HUGE_BOOT_TIMEOUT: Duration = Duration::from_secs(400);
/// Above this many CPUs only the boot bring-up is measured.
pub const MAX_HOTPLUG_SMP: u32 = 64;

/// The machine both kernels run on.
pub fn machine(smp: u32) -> QemuConfig {
    let cpu = if smp > 255 { "qemu64,+x2apic" } else { "max" };
    QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu(cpu)
        .smp(&smp.to_string())
        .memory("2G")
}

/// Boots our kernel, reads the boot bring-up from `cpus` and runs `bench`.
pub fn ours(smp: u32, cycles: u32) -> Measurement {
    let mut console = Console::start(&machine(smp));
    console.wait_prompt(if smp > MAX_HOTPLUG_SMP {
        HUGE_BOOT_TIMEOUT
    } else {
        BOOT_TIMEOUT
    });
    let ready = console.elapsed();
    let cpus = console.expect_ok("cpus", BENCH_TIMEOUT);
    let bench = (smp <= MAX_HOTPLUG_SMP).then(|| {
        let reply = console.expect_ok(&format!("bench {cycles}"), BENCH_TIMEOUT);
        for line in &reply.lines {
            eprintln!("  ours, smp {smp}: {line}");
        }
        reply.status
    });
    let measurement = match parse_ours(smp, &cpus.status, bench.as_deref()) {
        Ok(measurement) => measurement,
        Err(e) => console.fail(&e.to_string()),
    };
    console.poweroff(BENCH_TIMEOUT);
    Measurement {
        ready_ms: Some(ready.as_millis() as u64),
        ..measurement
    }
}

/// How long Linux may take to reach its `/init` under TCG: at 255 CPUs
/// its boot alone took 10 to 20 minutes on the 2-core host (its APs come
/// up in parallel, then each calibrates its delay loop), so about 4 s a
/// CPU on top of a fixed 10 minutes.
pub fn linux_boot_timeout(smp: u32) -> Duration {
    BENCH_TIMEOUT + Duration::from_secs(4) * smp
}

/// The time since the guest started when `needle` first showed in its
/// serial log (polled every 50 ms, the figure's resolution), or `None`
/// after `timeout`.
pub fn wait_for_text(console: &Console, needle: &str, timeout: Duration) -> Option<Duration> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if console.log().contains(needle) {
            return Some(console.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Packs the static benchmark `/init` into an initramfs at `out`.
pub fn write_initramfs(init: &Path, out: &Path) -> std::io::Result<()> {
    let data = std::fs::read(init)?;
    let entries = [
        Entry::Dir("dev"),
        Entry::CharDev {
            name: "dev/console",
            major: 5,
            minor: 1,
        },
        Entry::Dir("proc"),
        Entry::Dir("sys"),
        Entry::File {
            name: "init",
            mode: 0o755,
            data: &data,
        },
    ];
    std::fs::write(out, archive(&entries))
}

/// Boots Linux with the benchmark initramfs and parses its report.
/// `lpj`, if given, is passed as `lpj=`: every AP then takes that delay-loop
/// rate instead of measuring it (Linux's own advice when the measurement
/// fails, as it does under TCG with many CPUs: 20 s or more per AP at 255).
pub fn linux(smp: u32, cycles: u32, kernel: &Path, initrd: &Path, lpj: Option<u64>) -> Measurement {
    let cycles = if smp > MAX_HOTPLUG_SMP { 0 } else { cycles };
    let mut append = format!("console=ttyS0 quiet panic=-1 cycles={cycles}");
    if let Some(lpj) = lpj {
        append += &format!(" lpj={lpj}");
    }
    let command = machine(smp).linux_command(kernel, initrd, &append);
    let label = format!("{command:?}");
    let mut console = Console::spawn(command, label);
    // The init's first line: Linux has booted and runs user space.
    let ready = wait_for_text(&console, "linux-bench: cpus", linux_boot_timeout(smp))
        .unwrap_or_else(|| console.fail("Linux did not reach its /init"));
    // Linux under TCG takes up to a few hundred ms per operation at high
    // CPU counts: two operations per AP per cycle, plus the boot.
    let per_op = Duration::from_millis(1_000);
    console.wait_exit(BENCH_TIMEOUT + per_op * (2 * cycles * smp));
    let log = console.log();
    let report: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("linux-bench:"))
        .collect();
    if !report.iter().any(|l| l.contains("done")) {
        console.fail("the Linux guest did not finish its benchmark");
    }
    for line in &report {
        eprintln!("  linux, smp {smp}: {line}");
    }
    match parse_linux(smp, &report, cycles > 0) {
        Ok(measurement) => Measurement {
            ready_ms: Some(ready.as_millis() as u64),
            ..measurement
        },
        Err(e) => console.fail(&e.to_string()),
    }
}

/// What [`detail`] measured in one guest.
pub struct Detail {
    /// The kernel's boot bring-up, in microseconds.
    pub bringup_us: u64,
    /// The boot bring-up taken apart, from the boot trace.
    pub breakdown: Breakdown,
    /// Events the rings dropped before the dump (oldest first).
    pub dropped: String,
    /// The set operation against single moves (none if no rounds were
    /// asked for).
    pub set: Option<set::SetReport>,
}

/// One guest at `smp` CPUs: the boot trace taken apart, then the set
/// session (`rounds` rounds, `bench cycles` per calibration setting; no
/// session at all with 0 rounds).
pub fn detail(smp: u32, rounds: u32, cycles: u32) -> Detail {
    let mut console = Console::start(&machine(smp));
    console.wait_prompt(BOOT_TIMEOUT);
    let cpus = console.expect_ok("cpus", BENCH_TIMEOUT);
    let bringup_us = number_after(&cpus.status, "boot bring-up")
        .unwrap_or_else(|e| console.fail(&e.to_string()));
    // The kernel traced from boot until this prompt, then stopped.
    let dump = console.expect_ok("trace dump", BENCH_TIMEOUT);
    let events = crate::trace::dump::parse_dump(&dump.lines)
        .unwrap_or_else(|e| console.fail(&e.to_string()));
    let dropped = dump
        .status
        .split_once(", ")
        .map_or("none".into(), |(_, d)| d.to_owned());
    let set = (rounds > 0).then(|| set::run(&mut console, smp - 1, rounds, cycles));
    console.poweroff(BENCH_TIMEOUT);
    Detail {
        bringup_us,
        breakdown: breakdown(&events),
        dropped,
        set,
    }
}
