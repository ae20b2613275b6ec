//! `make bench`: boots the kernel under QEMU (`-machine q35 -cpu max`,
//! TCG) with several CPU counts, runs `bench` in each, and prints one
//! table: boot-time AP bring-up and the online/offline medians.
//!
//! Usage: bench [--cycles N] [--smp LIST] (LIST like `4,16,64`; CPU counts
//! above 64 only measure the boot bring-up).

use std::time::Duration;

use boot::console::{Console, BOOT_TIMEOUT};
use boot::qemu::{Firmware, Machine, QemuConfig};

const BENCH_TIMEOUT: Duration = Duration::from_secs(600);
const HUGE_BOOT_TIMEOUT: Duration = Duration::from_secs(400);

struct Row {
    smp: u32,
    bringup_us: u64,
    medians: Option<(u64, u64)>,
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    rest.split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

fn measure(smp: u32, cycles: u32) -> Row {
    let cpu = if smp > 255 { "qemu64,+x2apic" } else { "max" };
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu(cpu)
        .smp(&smp.to_string())
        .memory("2G");
    let mut console = Console::start(&config);
    console.wait_prompt(if smp > 64 {
        HUGE_BOOT_TIMEOUT
    } else {
        BOOT_TIMEOUT
    });
    let cpus = console.expect_ok("cpus", BENCH_TIMEOUT);
    let bringup_us = number_after(&cpus.status, "boot bring-up").unwrap_or(0);
    let medians = (smp <= 64).then(|| {
        let reply = console.expect_ok(&format!("bench {cycles}"), BENCH_TIMEOUT);
        for line in &reply.lines {
            eprintln!("  smp {smp}: {line}");
        }
        let status = &reply.status;
        let online = number_after(status, "online median").unwrap_or(0);
        let offline = number_after(status, "offline median").unwrap_or(0);
        (online, offline)
    });
    console.poweroff(BENCH_TIMEOUT);
    Row {
        smp,
        bringup_us,
        medians,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cycles = 10;
    let mut smps = vec![4, 16, 64, 255];
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--cycles", Some(n)) => cycles = n.parse().expect("--cycles N"),
            ("--smp", Some(list)) => {
                smps = list
                    .split(',')
                    .map(|n| n.parse().expect("--smp 4,16,64"))
                    .collect()
            }
            _ => {
                eprintln!("usage: bench [--cycles N] [--smp 4,16,64,255]");
                std::process::exit(2);
            }
        }
    }
    let rows: Vec<Row> = smps.iter().map(|&smp| measure(smp, cycles)).collect();
    println!(
        "QEMU -machine q35 -cpu max (qemu64,+x2apic above 255), TCG, bench {cycles} cycles per AP"
    );
    println!();
    println!("| -smp | boot AP bring-up (ms) | online median (us) | offline median (us) |");
    println!("| ---: | ---: | ---: | ---: |");
    for row in &rows {
        let (on, off) = match row.medians {
            Some((on, off)) => (on.to_string(), off.to_string()),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {:.1} | {on} | {off} |",
            row.smp,
            row.bringup_us as f64 / 1000.0,
        );
    }
}
