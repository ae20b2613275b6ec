//! The two numbers the engine is built on: which CPU ([`CpuId`]) and which
//! state in the table ([`StateId`]).
//!
//! Owns only these id types, so every other module can name a CPU or a state
//! without depending on the module that gives the number its meaning.

/// A logical CPU number: dense, starting at 0 for the boot CPU.
///
/// Distinct from the APIC id, which is sparse and chosen by firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuId(pub u32);

impl CpuId {
    /// The CPU that booted the machine; it controls every hotplug operation.
    pub const BOOT: CpuId = CpuId(0);

    /// The number as an index into per-CPU arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl core::fmt::Display for CpuId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cpu{}", self.0)
    }
}

/// The position of a state in the table (built-in and dynamic states share
/// one index space). Index 0 is `offline`; the highest index is `online`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateId(pub u16);

impl StateId {
    /// Every CPU that is not running sits here.
    pub const OFFLINE: StateId = StateId(0);

    /// The number as an index into the table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl core::fmt::Display for StateId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}
