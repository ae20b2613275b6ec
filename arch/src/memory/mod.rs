//! Physical frames, kernel virtual memory and the kernel heap.
//!
//! All of it is set up once by the boot CPU from the bootloader's memory map
//! and physical-memory mapping, before any AP exists.

mod direct_map;
mod error;
pub mod frames;
pub mod heap;
pub mod vm;

pub use direct_map::phys_to_virt;
pub use error::MemoryError;

use bootloader_api::info::MemoryRegion;
use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::PhysAddr;

/// Set by the first [`init`]: the page-table root it takes over may only be
/// taken once.
static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Sizes reported in the boot log.
#[derive(Clone, Copy, Debug)]
pub struct MemoryInfo {
    /// Usable RAM in the bootloader's memory map.
    pub usable_bytes: u64,
    /// Size of the kernel heap.
    pub heap_bytes: usize,
}

/// Consecutive pages below 1 MiB, reserved for ever by [`init`] for the AP
/// trampoline. Only `init` makes one, once, and it is neither `Copy` nor
/// `Clone`: whoever holds it owns those pages.
#[derive(Debug)]
pub struct LowPages {
    start: PhysAddr,
    pages: usize,
}

impl LowPages {
    /// Physical address of the first page.
    pub fn start(&self) -> PhysAddr {
        self.start
    }

    /// How many pages there are.
    pub fn pages(&self) -> usize {
        self.pages
    }
}

/// Sets up frames, the kernel address space and the heap. Only the first
/// call does anything; later ones return [`MemoryError::AlreadyInitialised`].
///
/// Returns `low_pages` consecutive pages below 1 MiB, reserved for ever for
/// the AP trampoline.
pub fn init(
    regions: &[MemoryRegion],
    phys_offset: Option<u64>,
    low_pages: usize,
) -> Result<(MemoryInfo, LowPages), MemoryError> {
    let offset = phys_offset.ok_or(MemoryError::NoPhysicalMapping)?;
    if INITIALISED.swap(true, Ordering::AcqRel) {
        return Err(MemoryError::AlreadyInitialised);
    }
    direct_map::set_offset(offset);
    let usable_bytes = frames::init(regions);
    let low = LowPages {
        start: frames::take_low_pages(low_pages).ok_or(MemoryError::NoLowMemory)?,
        pages: low_pages,
    };
    // SAFETY: `INITIALISED` makes this the only call, and it runs on the
    // boot CPU before any AP exists, so nothing else refers to the PML4.
    unsafe { vm::init() }?;
    let heap_bytes = heap::init()?;
    Ok((
        MemoryInfo {
            usable_bytes,
            heap_bytes,
        },
        low,
    ))
}
