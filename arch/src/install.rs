//! Making a per-CPU area the running CPU's own: the only way GS, the GDT,
//! the TSS and the IDT get loaded.
//!
//! Safe by construction: each entry point checks that it runs on the CPU
//! the area records (by the APIC id CPUID reports, which software cannot
//! change) and that this CPU has no area current yet in this incarnation,
//! and answers with an [`InstallError`] otherwise. The boot CPU adopts a
//! static area first thing at boot ([`adopt_boot_cpu`]), so "the current
//! CPU" is well defined from the first line of the kernel; an AP installs
//! its area in its entry path, before any other kernel code runs on it.

use crate::context;
use crate::cpu::{self, ApicId};
use crate::memory::MemoryError;
use crate::percpu::{self, PerCpu};
use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::registers::model_specific::GsBase;

/// Why an area was not installed. Nothing changed on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallError {
    /// This CPU already has a per-CPU area current.
    AlreadyInstalled,
    /// The area belongs to another CPU.
    WrongCpu {
        /// The APIC id the area records.
        expected: ApicId,
        /// The APIC id of the CPU that tried.
        found: ApicId,
    },
    /// [`adopt_boot_cpu`] has not run.
    BootCpuNotAdopted,
    /// The boot CPU's tables were loaded already.
    TablesLoaded,
    /// The area has no stacks (it was never prepared).
    NoStacks,
    /// The boot CPU's stacks could not be allocated.
    Memory(MemoryError),
}

impl core::fmt::Display for InstallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InstallError::AlreadyInstalled => write!(f, "this CPU has a per-CPU area already"),
            InstallError::WrongCpu { expected, found } => write!(
                f,
                "per-CPU area of APIC id {expected} installed on APIC id {found}"
            ),
            InstallError::BootCpuNotAdopted => write!(f, "boot CPU area not adopted yet"),
            InstallError::TablesLoaded => write!(f, "boot CPU tables loaded already"),
            InstallError::NoStacks => write!(f, "per-CPU area has no stacks"),
            InstallError::Memory(e) => write!(f, "boot CPU stacks: {e}"),
        }
    }
}

/// Whether the boot area was adopted (by the first CPU to ask).
static BOOT_ADOPTED: AtomicBool = AtomicBool::new(false);
/// Whether the boot CPU loaded its own tables.
static BOOT_TABLES: AtomicBool = AtomicBool::new(false);

fn check_fresh() -> Result<(), InstallError> {
    if GsBase::read().is_null() {
        Ok(())
    } else {
        Err(InstallError::AlreadyInstalled)
    }
}

fn check_owner(area: &PerCpu) -> Result<(), InstallError> {
    let found = cpu::initial_apic_id();
    let expected = area.apic_id();
    if found == expected {
        Ok(())
    } else {
        Err(InstallError::WrongCpu { expected, found })
    }
}

/// Makes the running CPU logical CPU 0: the first thing the kernel does.
/// Only the first CPU to call this gets the boot area; it records that
/// CPU's APIC id. Needs no memory, so it works before anything else is set
/// up; [`init_boot_cpu_tables`] finishes the job once memory works.
pub fn adopt_boot_cpu() -> Result<(), InstallError> {
    cpu::without_interrupts(|| {
        check_fresh()?;
        if BOOT_ADOPTED.swap(true, Ordering::AcqRel) {
            return Err(InstallError::AlreadyInstalled);
        }
        let area = percpu::boot_area();
        area.set_apic_id(cpu::initial_apic_id());
        // SAFETY: (1) the area now records this CPU's APIC id, and only one
        // CPU ever gets here (`BOOT_ADOPTED`); (2) GS was null, so no other
        // area is current here.
        unsafe { area.make_current() };
        Ok(())
    })
}

/// Gives the boot CPU its stacks, GDT, TSS and the shared IDT. Runs once,
/// on the CPU that adopted the boot area, after `memory::init`.
pub fn init_boot_cpu_tables() -> Result<&'static PerCpu, InstallError> {
    cpu::without_interrupts(|| {
        if !BOOT_ADOPTED.load(Ordering::Acquire) {
            return Err(InstallError::BootCpuNotAdopted);
        }
        let area = percpu::boot_area();
        // The boot area records the APIC id of the CPU that adopted it, and
        // that CPU's GS points at it from then on.
        check_owner(area)?;
        let stacks = area.ensure_stacks().map_err(InstallError::Memory)?;
        if BOOT_TABLES.swap(true, Ordering::AcqRel) {
            return Err(InstallError::TablesLoaded);
        }
        // SAFETY: (1) this is the boot CPU (its area is current and records
        // our APIC id); (2) interrupts are off; (3) `BOOT_TABLES` makes
        // this the only load, so nothing else uses the tables.
        unsafe { area.load_tables(stacks) };
        crate::interrupts::load_idt();
        // The boot CPU was never kicked, but it runs kernel code with its
        // own tables from here on, exactly what `Alive` says of an AP.
        area.set_stage(percpu::ArchStage::Alive);
        Ok(area)
    })
}

/// Installs an AP's area on the AP itself, in its entry path: tables, IDT
/// and GS, and forgets what the CPU ran in its previous incarnation.
pub(crate) fn install_ap(area: &'static PerCpu) -> Result<(), InstallError> {
    cpu::without_interrupts(|| {
        check_fresh()?;
        check_owner(area)?;
        let stacks = area.stacks().ok_or(InstallError::NoStacks)?;
        // SAFETY: (1) we are the CPU the area belongs to (its APIC id);
        // (2) interrupts are off; (3) GS is null, so this CPU runs no area
        // yet in this incarnation, and a previous incarnation (which did
        // use these tables) ended with INIT.
        unsafe { area.load_tables(stacks) };
        crate::interrupts::load_idt();
        // SAFETY: as above, (1) and (3).
        unsafe { area.make_current() };
        let guard = cpu::disable_irqs();
        context::forget_cpu_contexts(&guard);
        Ok(())
    })
}
