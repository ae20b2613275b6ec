//! Physical frames, kernel virtual memory and the kernel heap.
//!
//! All of it is set up once by the boot CPU from the bootloader's memory map
//! and physical-memory mapping, before any AP exists.

pub mod frames;
pub mod heap;
pub mod vm;

use bootloader_api::info::MemoryRegion;
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::{PhysAddr, VirtAddr};

static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);

/// What can go wrong while setting memory up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryError {
    /// The bootloader was not asked to map physical memory.
    NoPhysicalMapping,
    OutOfFrames,
    OutOfVirtualSpace,
    /// No free top-level page-table slot for the kernel's own mappings.
    NoFreeTopLevelSlot,
    /// No usable pages below 1 MiB for the AP trampoline.
    NoLowMemory,
    AlreadyMapped,
}

/// Sizes reported in the boot log.
#[derive(Clone, Copy, Debug)]
pub struct MemoryInfo {
    pub usable_bytes: u64,
    pub heap_bytes: usize,
}

/// Sets up frames, the kernel address space and the heap.
///
/// Returns the physical address of `low_pages` consecutive pages below
/// 1 MiB, reserved for ever for the AP trampoline.
pub fn init(
    regions: &[MemoryRegion],
    phys_offset: Option<u64>,
    low_pages: usize,
) -> Result<(MemoryInfo, PhysAddr), MemoryError> {
    let offset = phys_offset.ok_or(MemoryError::NoPhysicalMapping)?;
    PHYS_OFFSET.store(offset, Ordering::Relaxed);
    let usable_bytes = frames::init(regions);
    let low = frames::take_low_pages(low_pages).ok_or(MemoryError::NoLowMemory)?;
    vm::init()?;
    let heap_bytes = heap::init()?;
    Ok((
        MemoryInfo {
            usable_bytes,
            heap_bytes,
        },
        low,
    ))
}

/// Where physical address `phys` appears in the bootloader's direct map.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET.load(Ordering::Relaxed) + phys.as_u64())
}
