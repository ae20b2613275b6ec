//! What can go wrong while setting up or growing kernel memory.

/// Why a memory operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryError {
    /// The bootloader was not asked to map physical memory.
    NoPhysicalMapping,
    /// `memory::init` ran before; it sets up the address space once.
    AlreadyInitialised,
    /// No free physical frame is left.
    OutOfFrames,
    /// The kernel's top-level slot of virtual space is used up.
    OutOfVirtualSpace,
    /// No free top-level page-table slot for the kernel's own mappings.
    NoFreeTopLevelSlot,
    /// No usable pages below 1 MiB for the AP trampoline.
    NoLowMemory,
    /// A page that should have been free was mapped already.
    AlreadyMapped,
    /// A CPU index at or past `percpu::MAX_CPUS`.
    TooManyCpus,
}

impl core::fmt::Display for MemoryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MemoryError::NoPhysicalMapping => "the bootloader did not map physical memory",
            MemoryError::AlreadyInitialised => "memory was set up already",
            MemoryError::OutOfFrames => "out of physical frames",
            MemoryError::OutOfVirtualSpace => "out of kernel virtual address space",
            MemoryError::NoFreeTopLevelSlot => "no free top-level page-table slot",
            MemoryError::NoLowMemory => "no free pages below 1 MiB for the AP trampoline",
            MemoryError::AlreadyMapped => "page already mapped",
            MemoryError::TooManyCpus => "CPU index beyond the per-CPU table",
        })
    }
}
