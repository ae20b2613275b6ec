//! The bootloader's direct map of all physical memory.
//!
//! Owns the one number every physical access goes through: where physical
//! address 0 appears in virtual memory. It never maps anything itself.

use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::{PhysAddr, VirtAddr};

static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Records where the bootloader mapped physical memory. Called once, by
/// `memory::init`, before anything uses [`phys_to_virt`].
pub(super) fn set_offset(offset: u64) {
    PHYS_OFFSET.store(offset, Ordering::Relaxed);
}

/// Where physical address `phys` appears in the bootloader's direct map.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET.load(Ordering::Relaxed) + phys.as_u64())
}
