//! Boot-time CPU bring-up: set up the boot CPU, then start every present AP.
//!
//! Kept thin on purpose: each AP goes through the same hotplug state machine
//! that a later `online` uses.

use crate::{cpuhp, cpus};
use arch::percpu;
use hotplug::CpuId;

/// Why the boot CPU could not be set up.
#[derive(Debug)]
pub enum BootCpuError {
    /// The CPU table has no entry for it (it was not built yet).
    NotInTable,
    /// Its per-CPU area could not be given tables and stacks.
    Install(arch::install::InstallError),
    /// Its LAPIC could not be enabled.
    Apic(arch::apic::ApicError),
    /// CPUID and the LAPIC disagree about its APIC id.
    ApicIdMismatch {
        cpuid: arch::ApicId,
        lapic: arch::ApicId,
    },
}

impl core::fmt::Display for BootCpuError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootCpuError::NotInTable => write!(f, "not in the CPU table"),
            BootCpuError::Install(e) => write!(f, "per-CPU area: {e}"),
            BootCpuError::Apic(e) => write!(f, "LAPIC: {e}"),
            BootCpuError::ApicIdMismatch { cpuid, lapic } => {
                write!(f, "CPUID says APIC id {cpuid}, the LAPIC says {lapic}")
            }
        }
    }
}

/// Gives the boot CPU (whose per-CPU area `kernel_main` adopted first
/// thing) its stacks, tables and LAPIC.
pub fn init_boot_cpu() -> Result<(), BootCpuError> {
    let entry = cpus::get(CpuId::BOOT).ok_or(BootCpuError::NotInTable)?;
    arch::install::init_boot_cpu_tables().map_err(BootCpuError::Install)?;
    let mode = arch::apic::init_current().map_err(BootCpuError::Apic)?;
    let lapic = arch::apic::current_id();
    if lapic != entry.apic_id {
        return Err(BootCpuError::ApicIdMismatch {
            cpuid: entry.apic_id,
            lapic,
        });
    }
    let timer = crate::lapic_rate::init_boot_cpu();
    println!("cpu0: APIC id {lapic} ({}), {timer}", mode.name());
    entry.set_active(true);
    entry.set_online(true);
    Ok(())
}

/// Parks every present AP firmware left running (INIT, before any kick):
/// OVMF's MONITOR/MWAIT loop spins under TCG and slows the bring-up of
/// the others by as much as 100 times at 64 CPUs.
pub fn park_firmware_aps() {
    let ids = (cpus::all().iter())
        .filter(|e| e.cpu != CpuId::BOOT && e.is_present() && e.addressable())
        .map(|e| e.apic_id);
    let parked = arch::smp::park_firmware_aps(ids);
    if parked > 0 {
        println!("smp: {parked} APs put into wait-for-SIPI before bring-up");
    }
}

/// Brings every present AP online through the hotplug state machine in
/// one set operation (`set_target_many`): each member is prepared and
/// kicked before any is brought the rest of the way, as Linux's parallel
/// bring-up does. A CPU that fails is reported (the engine has rolled it
/// back to `offline`) and the boot goes on.
pub fn bring_up_all() {
    let engine = cpuhp::engine();
    let start = arch::time::now_ns();
    let aps: alloc::vec::Vec<CpuId> = cpus::all()
        .iter()
        .filter(|e| e.cpu != CpuId::BOOT && e.is_present() && e.addressable())
        .map(|e| e.cpu)
        .collect();
    let up = match aps.is_empty() {
        true => 0,
        false => bring_up_set(engine, &aps),
    };
    let us = (arch::time::now_ns() - start) / 1000;
    BOOT_BRINGUP_US.store(us, core::sync::atomic::Ordering::Relaxed);
    println!("smp: {} of {} APs online in {} us", up, aps.len(), us);
}

/// Brings `aps` online together; returns how many made it. Should the set
/// be refused as a whole (it never is at boot: every member is present and
/// offline), each is brought up alone instead, so that one bad member
/// costs only itself.
fn bring_up_set(engine: &hotplug::Engine, aps: &[CpuId]) -> usize {
    let online = engine.online_state();
    match engine.set_target_many(&cpuhp::Kernel, aps, online) {
        Ok(outcome) => {
            for failure in &outcome.failures {
                let error = hotplug::HotplugError::StepFailed(*failure);
                println!("{}: failed to come online: {error}", failure.cpu);
            }
            outcome.reached.len()
        }
        Err(e) => {
            println!("smp: parallel bring-up refused: {e}; one CPU at a time");
            let mut up = 0;
            for &cpu in aps {
                match engine.cpu_up(&cpuhp::Kernel, cpu) {
                    Ok(()) => up += 1,
                    Err(e) => println!("{cpu}: failed to come online: {e}"),
                }
            }
            up
        }
    }
}

/// Time from the first INIT to the last AP online, at boot.
pub static BOOT_BRINGUP_US: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Why `probe` did not start a CPU.
#[derive(Debug)]
pub enum ProbeError {
    NoSuchCpu,
    Present,
    Prepare,
    Kick(arch::smp::KickError),
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeError::NoSuchCpu => write!(f, "no such CPU"),
            ProbeError::Present => write!(f, "present: use online"),
            ProbeError::Prepare => write!(f, "cannot allocate its per-CPU area"),
            ProbeError::Kick(e) => write!(f, "cpu:kick: {e}"),
        }
    }
}

/// Kicks a CPU the MADT lists but marks not present, outside the state
/// machine: the proof that a CPU that never answers costs one deadline and
/// nothing else. One that does answer is put straight back with INIT.
pub fn probe(cpu: CpuId) -> Result<(), ProbeError> {
    let entry = cpus::get(cpu).ok_or(ProbeError::NoSuchCpu)?;
    if entry.is_present() {
        return Err(ProbeError::Present);
    }
    // Refused before anything is allocated for it.
    if !entry.addressable() {
        return Err(ProbeError::Kick(arch::smp::KickError::Unaddressable(
            entry.apic_id,
        )));
    }
    crate::percpu_threads::create(cpu).map_err(|_| ProbeError::Prepare)?;
    let area = percpu::prepare(cpu.index(), entry.apic_id).map_err(|_| ProbeError::Prepare)?;
    arch::smp::kick(area).map_err(ProbeError::Kick)?;
    let _ = arch::smp::wait_parked(area, 0);
    Ok(())
}
