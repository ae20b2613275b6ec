//! Physical frames, kernel virtual memory and the kernel heap.
//!
//! All of it is set up once by the boot CPU from the bootloader's memory map
//! and physical-memory mapping, before any AP exists. [`init`] is the only
//! way the bootloader's addresses (memory map, direct-map offset, RSDP) get
//! into this crate: it takes the `BootInfo` itself, once, so no later caller
//! can substitute its own.

mod direct_map;
mod error;
pub mod frames;
pub mod heap;
pub mod vm;

pub use direct_map::phys_to_virt;
pub use error::MemoryError;

use bootloader_api::BootInfo;
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
    /// Size of the kernel heap at boot.
    pub heap_bytes: usize,
    /// The most the heap may grow to.
    pub heap_bound_bytes: usize,
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

/// Sets up frames, the kernel address space and the heap from the
/// bootloader's `boot_info`, and keeps its RSDP for [`crate::acpi::discover`].
/// Only the first call does anything; later ones return
/// [`MemoryError::AlreadyInitialised`], whatever they pass, even when the
/// first one failed (nothing is retried with other addresses).
///
/// Returns `low_pages` consecutive pages below 1 MiB, reserved for ever for
/// the AP trampoline.
///
/// Soundness rests on the first call getting the bootloader's own, untouched
/// `BootInfo`: its memory map and offsets are trusted as they are. Safe code
/// can build a `BootInfo` (`BootInfo::new` and its fields are public) and
/// can edit the real one (it is `&'static mut`), so the type cannot prove
/// where it came from. What makes it hold is that the kernel's entry point
/// passes the `BootInfo` it received straight to this function before
/// anything else reads or writes it (see `kernel_main`), and that every call
/// after that first one is refused.
pub fn init(
    boot_info: &'static mut BootInfo,
    low_pages: usize,
) -> Result<(MemoryInfo, LowPages), MemoryError> {
    // Claimed before anything is checked, so that a first call that fails
    // leaves no second chance for other addresses.
    if INITIALISED.swap(true, Ordering::AcqRel) {
        return Err(MemoryError::AlreadyInitialised);
    }
    let boot_info: &'static BootInfo = boot_info;
    let offset = boot_info
        .physical_memory_offset
        .into_option()
        .ok_or(MemoryError::NoPhysicalMapping)?;
    direct_map::set_offset(offset);
    // Only now: `acpi::discover` reads through the direct map.
    crate::acpi::record_rsdp(boot_info.rsdp_addr.into_option());
    let usable_bytes = frames::init(&boot_info.memory_regions);
    let low = LowPages {
        start: frames::take_low_pages(low_pages).ok_or(MemoryError::NoLowMemory)?,
        pages: low_pages,
    };
    // SAFETY: `INITIALISED` makes this the only call, and it runs on the
    // boot CPU before any AP exists, so nothing else refers to the PML4.
    unsafe { vm::init() }?;
    let heap = heap::init(usable_bytes)?;
    Ok((
        MemoryInfo {
            usable_bytes,
            heap_bytes: heap.initial as usize,
            heap_bound_bytes: heap.bound as usize,
        },
        low,
    ))
}
