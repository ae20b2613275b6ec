//! `make bench-big`: the very large machines (q35, x2APIC), time from QEMU
//! start to the prompt and the boot bring-up, one guest at a time.
//!
//! Owns which machines count as "big" and how their boot is split (the
//! firmware and loader until the kernel's first line, the kernel until the
//! prompt, and within it the bring-up the kernel measures itself).

use super::report::number_after;
use crate::console::Console;
use crate::qemu::{Firmware, Machine, QemuConfig};
use std::time::Duration;

/// The kernel's first line: everything before it is firmware and loader.
const KERNEL_FIRST_LINE: &str = "hotplug kernel: booting";
/// SeaBIOS needs about 90 s for 1024 CPUs under TCG, OVMF 40 s for 512.
const BIG_BOOT_TIMEOUT: Duration = Duration::from_secs(900);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The machines `make bench-big` boots, in order.
pub const BIG_MACHINES: [(Firmware, u32); 2] = [(Firmware::Bios, 1024), (Firmware::Uefi, 512)];

/// One big boot.
#[derive(Clone, Debug)]
pub struct BigBoot {
    /// The firmware.
    pub firmware: Firmware,
    /// `-smp`.
    pub smp: u32,
    /// QEMU start to the kernel's first line.
    pub to_kernel: Duration,
    /// QEMU start to the prompt.
    pub to_prompt: Duration,
    /// The kernel's boot bring-up (`cpus`), in microseconds.
    pub bringup_us: u64,
    /// `cpus`'s status line, for the record.
    pub cpus_status: String,
}

/// The machine a big boot runs on.
pub fn big_machine(firmware: Firmware, smp: u32) -> QemuConfig {
    QemuConfig::default()
        .firmware(firmware)
        .machine(Machine::Q35)
        .cpu("qemu64,+x2apic")
        .smp(&smp.to_string())
        .memory("4G")
}

/// Boots one big machine and powers it off.
pub fn boot(firmware: Firmware, smp: u32) -> BigBoot {
    let config = big_machine(firmware, smp);
    eprintln!("  big: {}", config.command_line());
    let mut console = Console::start(&config);
    let to_kernel = super::wait_for_text(&console, KERNEL_FIRST_LINE, BIG_BOOT_TIMEOUT)
        .unwrap_or_else(|| console.fail(&format!("no {KERNEL_FIRST_LINE:?} line")));
    console.wait_prompt(BIG_BOOT_TIMEOUT);
    let to_prompt = console.elapsed();
    let cpus = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let bringup_us = number_after(&cpus.status, "boot bring-up")
        .unwrap_or_else(|e| console.fail(&e.to_string()));
    console.poweroff(COMMAND_TIMEOUT);
    BigBoot {
        firmware,
        smp,
        to_kernel,
        to_prompt,
        bringup_us,
        cpus_status: cpus.status,
    }
}

/// The big boots as a markdown table.
pub fn table(boots: &[BigBoot]) -> String {
    let mut out = String::from(
        "| firmware | -smp | QEMU start to prompt (s) | firmware + loader (s) | kernel to prompt (s) | boot bring-up (ms) |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for b in boots {
        out += &format!(
            "| {} | {} | {:.1} | {:.1} | {:.2} | {:.1} |\n",
            match b.firmware {
                Firmware::Bios => "BIOS",
                Firmware::Uefi => "UEFI",
            },
            b.smp,
            b.to_prompt.as_secs_f64(),
            b.to_kernel.as_secs_f64(),
            (b.to_prompt.saturating_sub(b.to_kernel)).as_secs_f64(),
            b.bringup_us as f64 / 1000.0
        );
    }
    out
}
