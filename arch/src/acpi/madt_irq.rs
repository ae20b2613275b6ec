//! The MADT's interrupt-controller side: every I/O APIC (id, register
//! address, first GSI) and every ISA interrupt source override.
//!
//! Read with the `acpi` crate's MADT entry iterator (its `PlatformInfo`
//! needs the allocator feature, which this workspace keeps off).

use crate::apic::irq_line::{IsaOverride, ReservedIntiFlags};
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables};
use alloc::vec::Vec;
use x86_64::PhysAddr;

/// The ISA bus, the only source bus an override may name (ACPI 6.5 Table
/// 5.49).
const BUS_ISA: u8 = 0;

/// One I/O APIC as the MADT lists it. Only [`read`] (ACPI discovery) makes
/// one (the fields are private), so `ioapic::init` maps only the
/// firmware's addresses.
#[derive(Clone, Copy, Debug)]
pub struct IoApicInfo {
    id: u8,
    address: PhysAddr,
    gsi_base: u32,
}

impl IoApicInfo {
    fn new(id: u8, address: PhysAddr, gsi_base: u32) -> Self {
        IoApicInfo {
            id,
            address,
            gsi_base,
        }
    }

    /// The id the MADT gives it.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Physical address of its register page.
    pub fn address(&self) -> PhysAddr {
        self.address
    }

    /// The GSI of its first input.
    pub fn gsi_base(&self) -> u32 {
        self.gsi_base
    }
}

/// What the MADT says about interrupt routing.
#[derive(Clone, Debug, Default)]
pub struct MadtInterrupts {
    /// The I/O APICs, in MADT order.
    pub ioapics: Vec<IoApicInfo>,
    /// ISA IRQ overrides, in MADT order (QEMU: 0 -> 2, and 5, 9, 10, 11
    /// level, active high).
    pub isa_overrides: Vec<IsaOverride>,
}

/// Why the MADT's interrupt entries are unusable.
#[derive(Debug)]
pub enum MadtIrqError {
    /// The `acpi` crate could not read the MADT.
    Tables(acpi::AcpiError),
    /// An override's flags hold the reserved value.
    ReservedFlags {
        /// The ISA IRQ of the entry.
        isa_irq: u8,
        /// The flags as given.
        flags: u16,
    },
}

impl core::fmt::Display for MadtIrqError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MadtIrqError::Tables(e) => write!(f, "MADT unreadable: {e:?}"),
            MadtIrqError::ReservedFlags { isa_irq, flags } => write!(
                f,
                "MADT override for IRQ {isa_irq} has reserved flags {flags:#x}"
            ),
        }
    }
}

/// Reads the I/O APIC and interrupt source override entries.
pub(crate) fn read<H: AcpiHandler>(tables: &AcpiTables<H>) -> Result<MadtInterrupts, MadtIrqError> {
    let madt = tables.find_table::<Madt>().map_err(MadtIrqError::Tables)?;
    let mut found = MadtInterrupts::default();
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::IoApic(e) => found.ioapics.push(IoApicInfo::new(
                e.io_apic_id,
                PhysAddr::new(u64::from(e.io_apic_address)),
                e.global_system_interrupt_base,
            )),
            MadtEntry::InterruptSourceOverride(e) if e.bus == BUS_ISA => {
                let (irq, gsi, flags) = (e.irq, { e.global_system_interrupt }, { e.flags });
                let o = IsaOverride::from_mps_flags(irq, gsi, flags).map_err(
                    |ReservedIntiFlags(flags)| MadtIrqError::ReservedFlags {
                        isa_irq: irq,
                        flags,
                    },
                )?;
                found.isa_overrides.push(o);
            }
            _ => {}
        }
    }
    Ok(found)
}
