//! This CPU's SMT layout as CPUID reports it: how many low bits of an APIC
//! id number the thread within its core (SDM Vol. 3A 9.9.1, "Hierarchical
//! Mapping of Shared Resources"). Reading the registers is here; decoding
//! them is the host-tested `topology` crate's. A leaf: it runs CPUID and
//! touches no state.

use crate::cpuid::{cpuid, max_cpuid_leaf};
use topology::CpuidRegs;
pub use topology::SmtLayout;

/// The SMT layout from CPUID leaf 0x1F, else 0x0B, on the calling CPU;
/// `None` if the CPU has neither (nothing known about threads). Every CPU
/// of one machine reports the same layout, so asking the boot CPU is
/// enough.
pub fn smt_layout() -> Option<SmtLayout> {
    SmtLayout::from_cpuid(max_cpuid_leaf(), |leaf, sub| {
        let (eax, ebx, ecx, edx) = cpuid(leaf, sub);
        CpuidRegs { eax, ebx, ecx, edx }
    })
}
