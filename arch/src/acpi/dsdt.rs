//! The one thing read from the DSDT: where QEMU's CPU hotplug register
//! block is.
//!
//! QEMU puts the block at 0x0cd8 on q35 (ICH9 LPC) and 0xaf00 on pc (PIIX4
//! PM), and declares it in its DSDT, in device `PRES`:
//! `OperationRegion (PRST, SystemIO, base, 0x0C)`. [`find`] takes the base
//! from there, so the machine type need not be guessed;
//! [`super::cpu_hotplug::init`] then checks that the block answers.

use super::aml_scan;
use super::cpu_hotplug_regs::{LEGACY_BLOCK_LEN, MODERN_BLOCK_LEN};
use crate::memory::phys_to_virt;
use acpi::{AcpiHandler, AcpiTables};
use x86_64::PhysAddr;

/// The region name QEMU's `build_cpus_aml` declares the block under.
const REGION_NAME: [u8; 4] = *b"PRST";

/// Where the block is, as the DSDT declares it. Only [`find`] (called by
/// `acpi::discover`) makes one, so the hotplug driver only ever touches the
/// ports the firmware's own AML uses for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuHotplugPort {
    base: u16,
}

impl CpuHotplugPort {
    /// The block's first port.
    pub fn base(&self) -> u16 {
        self.base
    }
}

/// Reads the DSDT (through the direct map) for QEMU's `PRST` region: a
/// 12-byte region is the modern block; a 32-byte one is the legacy bitmap
/// older QEMU machine types declared at the same base. Anything else is not
/// QEMU's block.
pub(crate) fn find<H: AcpiHandler>(tables: &AcpiTables<H>) -> Option<CpuHotplugPort> {
    let dsdt = tables.dsdt().ok()?;
    let start = phys_to_virt(PhysAddr::new(dsdt.address as u64)).as_ptr::<u8>();
    // SAFETY: `dsdt` is the firmware's DSDT (from the FADT the `acpi` crate
    // read starting at the bootloader's RSDP), whose AML body is `length`
    // bytes at `address`; the direct map covers it, and firmware tables are
    // never written, so a shared slice of it is sound.
    let aml = unsafe { core::slice::from_raw_parts(start, dsdt.length as usize) };
    let region = aml_scan::find_system_io_region(aml, REGION_NAME)?;
    (region.len == MODERN_BLOCK_LEN || region.len == LEGACY_BLOCK_LEN)
        .then_some(CpuHotplugPort { base: region.base })
}
