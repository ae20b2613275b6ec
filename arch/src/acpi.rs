//! Discovery from the ACPI tables: CPUs and interrupt controllers from the
//! MADT, fixed hardware from the FADT, QEMU's CPU hotplug block from the
//! DSDT, the HPET from its table.
//!
//! CPUs: reads both Local APIC (type 0) and Local x2APIC (type 9) entries. Each
//! CPU is classified by its flags (ACPI 6.5 Table 5.46): Enabled means
//! present and usable now; Online Capable means firmware may enable it
//! later (it is *possible* but not present); neither means unusable, except
//! in tables older than the Online Capable bit (see below).
//!
//! The RSDP comes only from the bootloader, through `memory::init`, so the
//! tables read here (and the HPET address found in them) are the firmware's:
//! no caller can point this module at memory of its choosing. The same goes
//! for the I/O APIC addresses ([`madt_irq::IoApicInfo`]), the FADT's ports
//! ([`fadt::FixedHardware`]) and the hotplug block's port
//! ([`dsdt::CpuHotplugPort`]): only [`discover`] makes them.

mod aml_scan;
pub mod cpu_hotplug;
pub mod cpu_hotplug_regs;
pub mod dsdt;
pub mod fadt;
pub mod fixed;
pub mod fixed_regs;
pub mod madt_irq;
pub mod slot_check;

use crate::memory::phys_to_virt;
use crate::ApicId;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, HpetInfo, PhysicalMapping};
use alloc::vec::Vec;
use core::ptr::NonNull;
use spin::Once;
use x86_64::PhysAddr;

const MADT_ENABLED: u32 = 1 << 0;
const MADT_ONLINE_CAPABLE: u32 = 1 << 1;
/// MADT revision that defined Online Capable (ACPI 6.3). Before it, a
/// disabled entry was the way to describe a hot-pluggable CPU, and Linux
/// still counts those as possible; QEMU writes revision 3 with its
/// `maxcpus` slots disabled.
const MADT_REV_ONLINE_CAPABLE: u8 = 5;

/// How the MADT describes one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Enabled: present now.
    Present,
    /// Disabled but online capable: may be hot-added.
    OnlineCapable,
    /// Disabled and not online capable: never usable.
    Absent,
}

impl Presence {
    /// The name `cpus` prints.
    pub fn name(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::OnlineCapable => "online-capable",
            Presence::Absent => "absent",
        }
    }
}

/// One processor entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MadtCpu {
    /// The CPU's APIC id.
    pub apic_id: ApicId,
    /// Whether it is there now, may be hot-added, or never usable.
    pub presence: Presence,
}

/// Why discovery failed.
#[derive(Debug)]
pub enum AcpiError {
    /// `memory::init` has not run, so there is neither a direct map nor
    /// the bootloader's RSDP yet.
    MemoryNotInitialised,
    /// The bootloader found no RSDP.
    NoRsdp,
    /// The `acpi` crate could not read the tables.
    Tables(acpi::AcpiError),
    /// The MADT's I/O APIC or override entries are unusable.
    Interrupts(madt_irq::MadtIrqError),
}

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AcpiError::MemoryNotInitialised => write!(f, "memory is not set up yet"),
            AcpiError::NoRsdp => write!(f, "no RSDP from the bootloader"),
            AcpiError::Tables(e) => write!(f, "ACPI tables unreadable: {e:?}"),
            AcpiError::Interrupts(e) => write!(f, "{e}"),
        }
    }
}

/// Maps tables through the bootloader's direct map; nothing to unmap.
#[derive(Clone, Copy)]
struct DirectMap;

impl AcpiHandler for DirectMap {
    unsafe fn map_physical_region<T>(&self, phys: usize, size: usize) -> PhysicalMapping<Self, T> {
        let virt = phys_to_virt(PhysAddr::new(phys as u64)).as_mut_ptr::<T>();
        // SAFETY: the direct map covers all RAM including ACPI tables, so
        // `virt` is valid for `size` bytes; the acpi crate's contract says
        // `phys` holds a `T`.
        unsafe {
            PhysicalMapping::new(
                phys,
                NonNull::new(virt).expect("null direct map"),
                size,
                size,
                *self,
            )
        }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// The RSDP the bootloader reported, recorded by `memory::init` (the one
/// place that reads the `BootInfo`); unset until then.
static RSDP: Once<Option<u64>> = Once::new();

/// Records the bootloader's RSDP. Called once, by `memory::init`, with the
/// address from the `BootInfo`.
pub(crate) fn record_rsdp(rsdp: Option<u64>) {
    RSDP.call_once(|| rsdp);
}

/// The HPET's register block, as the firmware's HPET table gives it. Only
/// [`discover`] makes one (the field is private), so whoever holds it holds
/// the real HPET's address, never one of their own choosing; `time::init`
/// maps and writes it.
#[derive(Debug)]
pub struct HpetBase(PhysAddr);

impl HpetBase {
    /// The physical address of the register block.
    pub fn address(&self) -> PhysAddr {
        self.0
    }
}

/// The platform's interrupt and ACPI hardware, as the tables describe it;
/// `platform::init` sets it up.
pub struct PlatformHardware {
    /// I/O APICs and ISA overrides from the MADT.
    pub interrupts: madt_irq::MadtInterrupts,
    /// The FADT's fixed hardware, or why it is unusable.
    pub fixed: Result<fadt::FixedHardware, fadt::FadtError>,
    /// QEMU's CPU hotplug block, if the DSDT declares one.
    pub cpu_hotplug: Option<dsdt::CpuHotplugPort>,
}

/// What the kernel needs from the ACPI tables.
pub struct Platform {
    /// Processor entries, in MADT order (the firmware's CPU order).
    pub cpus: Vec<MadtCpu>,
    /// The HPET's register block, if there is one.
    pub hpet: Option<HpetBase>,
    /// Interrupt controllers, fixed hardware, CPU hotplug block.
    pub hardware: PlatformHardware,
}

/// Reads the MADT (required: CPUs, I/O APICs, overrides), the FADT and the
/// DSDT (their problems are reported in [`PlatformHardware`], not fatal)
/// and the HPET table (optional), starting from the RSDP the bootloader
/// reported (kept by `memory::init`).
pub fn discover() -> Result<Platform, AcpiError> {
    let rsdp = RSDP
        .get()
        .ok_or(AcpiError::MemoryNotInitialised)?
        .ok_or(AcpiError::NoRsdp)?;
    // SAFETY: `rsdp` is the address the bootloader found in firmware
    // (`memory::init` records it from the `BootInfo`, and nothing else
    // can), and `memory::init` has set up the direct map `DirectMap` reads
    // through (the RSDP is recorded only by it).
    let tables =
        unsafe { AcpiTables::from_rsdp(DirectMap, rsdp as usize) }.map_err(AcpiError::Tables)?;
    let hpet = HpetInfo::new(&tables)
        .ok()
        .map(|h| HpetBase(PhysAddr::new(h.base_address as u64)));
    let hardware = PlatformHardware {
        interrupts: madt_irq::read(&tables).map_err(AcpiError::Interrupts)?,
        fixed: fadt::FixedHardware::from_tables(&tables),
        cpu_hotplug: dsdt::find(&tables),
    };
    Ok(Platform {
        cpus: madt_cpus(&tables)?,
        hpet,
        hardware,
    })
}

/// All processor entries, in MADT order.
fn madt_cpus(tables: &AcpiTables<DirectMap>) -> Result<Vec<MadtCpu>, AcpiError> {
    let madt = tables.find_table::<Madt>().map_err(AcpiError::Tables)?;
    let revision = madt.get().header.revision;
    let mut cpus = Vec::new();
    for entry in madt.get().entries() {
        let (apic_id, flags) = match entry {
            MadtEntry::LocalApic(e) => (u32::from(e.apic_id), e.flags),
            MadtEntry::LocalX2Apic(e) => (e.x2apic_id, e.flags),
            _ => continue,
        };
        let presence = if flags & MADT_ENABLED != 0 {
            Presence::Present
        } else if flags & MADT_ONLINE_CAPABLE != 0 || revision < MADT_REV_ONLINE_CAPABLE {
            Presence::OnlineCapable
        } else {
            Presence::Absent
        };
        // Some firmware lists a CPU in both forms; keep the first.
        if !cpus.iter().any(|c: &MadtCpu| c.apic_id.0 == apic_id) {
            cpus.push(MadtCpu {
                apic_id: ApicId(apic_id),
                presence,
            });
        }
    }
    Ok(cpus)
}
