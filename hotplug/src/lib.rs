//! The CPU hotplug state machine: arch-free and host-tested.
//!
//! Owns the ordered table of hotplug steps and the algorithm that walks a CPU
//! through them. It never touches hardware; the kernel supplies that through a
//! small backend trait.
#![no_std]
#![forbid(unsafe_code)]

/// A logical CPU number: dense, starting at 0 for the boot CPU.
///
/// Distinct from the APIC id, which is sparse and chosen by firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuId(pub u32);

impl CpuId {
    /// The CPU that booted the machine; it controls every hotplug operation.
    pub const BOOT: CpuId = CpuId(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl core::fmt::Display for CpuId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cpu{}", self.0)
    }
}
