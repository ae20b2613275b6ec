//! Boot-time CPU bring-up: set up the boot CPU, then start every present AP.
//!
//! Kept thin on purpose: each AP goes through the same prepare + kick that a
//! later `online` uses.

use crate::cpus::{self, CpuEntry};
use arch::acpi::Presence;
use arch::percpu::{self, PerCpu};
use arch::smp::KickError;
use arch::CpuId;

/// Why the boot CPU could not be set up.
#[derive(Debug)]
pub enum BootCpuError {
    Memory(arch::memory::MemoryError),
    Apic(arch::apic::ApicError),
    ApicIdMismatch {
        cpuid: arch::ApicId,
        lapic: arch::ApicId,
    },
}

impl core::fmt::Display for BootCpuError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootCpuError::Memory(e) => write!(f, "per-CPU area: {e:?}"),
            BootCpuError::Apic(e) => write!(f, "LAPIC: {e:?}"),
            BootCpuError::ApicIdMismatch { cpuid, lapic } => {
                write!(f, "CPUID says APIC id {cpuid}, the LAPIC says {lapic}")
            }
        }
    }
}

/// Gives the boot CPU its per-CPU area, tables and LAPIC.
pub fn init_boot_cpu() -> Result<(), BootCpuError> {
    let entry = cpus::get(CpuId::BOOT).expect("cpu table built");
    let area = percpu::prepare(CpuId::BOOT, entry.apic_id).map_err(BootCpuError::Memory)?;
    #[allow(unsafe_code, reason = "one-time per-CPU install on the boot CPU")]
    // SAFETY: this is the boot CPU, interrupts are still off, and nothing has
    // used per-CPU data yet.
    unsafe {
        area.install()
    };
    let mode = arch::apic::init_current().map_err(BootCpuError::Apic)?;
    let lapic = arch::apic::current_id();
    if lapic != entry.apic_id {
        return Err(BootCpuError::ApicIdMismatch {
            cpuid: entry.apic_id,
            lapic,
        });
    }
    let ticks = arch::apic::calibrate_timer();
    println!(
        "cpu0: APIC id {} ({}), LAPIC timer {} ticks/ms",
        lapic,
        mode.name(),
        ticks
    );
    entry.set_online(true);
    Ok(())
}

/// Why an AP did not come up.
#[derive(Debug)]
pub enum StartError {
    Memory(arch::memory::MemoryError),
    Kick(KickError),
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartError::Memory(e) => write!(f, "per-CPU area: {e:?}"),
            StartError::Kick(e) => write!(f, "cpu:kick: {e}"),
        }
    }
}

/// Prepares and kicks one AP.
pub fn start_cpu(entry: &CpuEntry) -> Result<(), StartError> {
    let area = percpu::prepare(entry.cpu, entry.apic_id).map_err(StartError::Memory)?;
    arch::smp::kick(area).map_err(StartError::Kick)?;
    entry.set_online(true);
    Ok(())
}

/// Starts every present AP, one at a time. A CPU that fails is reported
/// and left offline; the boot goes on.
pub fn bring_up_all() {
    let start = arch::time::now_ns();
    let mut up = 0;
    let aps = cpus::all()
        .iter()
        .filter(|e| e.cpu != CpuId::BOOT && e.presence == Presence::Present);
    for entry in aps {
        match start_cpu(entry) {
            Ok(()) => up += 1,
            Err(e) => println!("{}: failed to start: {e}", entry.cpu),
        }
    }
    let us = (arch::time::now_ns() - start) / 1000;
    println!(
        "smp: {} of {} APs online in {} us",
        up,
        cpus::all()
            .iter()
            .filter(|e| e.presence == Presence::Present)
            .count()
            - 1,
        us
    );
}

/// Where every AP continues once alive: idle, halted, until work arrives.
pub fn ap_main(_area: &'static PerCpu) -> ! {
    loop {
        arch::cpu::enable_interrupts_and_halt();
    }
}
