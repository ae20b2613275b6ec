//! The pure logic of x86 CPU topology, host-tested: which bits of an APIC
//! id number the SMT thread, decoded from CPUID's extended topology leaves
//! (0x1F, else 0x0B), and what follows from them (which CPU is a secondary
//! thread, which CPUs share a core).
//!
//! `arch::topology` runs CPUID and hands the registers here; the kernel's
//! `smt` control asks the answers. This crate never executes an
//! instruction of its own: registers in, numbers out.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// V2 extended topology enumeration (SDM Vol. 2A, CPUID leaf 1FH): a
/// superset of leaf 0x0B (it adds module, tile and die levels), preferred
/// where present.
pub const LEAF_V2_EXTENDED_TOPOLOGY: u32 = 0x1f;
/// Extended topology enumeration (SDM Vol. 2A, CPUID leaf 0BH; Vol. 3A
/// 9.9.1).
pub const LEAF_EXTENDED_TOPOLOGY: u32 = 0x0b;

/// Level type `SMT` in ECX[15:8] of leaves 0x0B and 0x1F (SDM Vol. 2A,
/// Table 3-8): sub-leaf 0 describes it.
const LEVEL_TYPE_SMT: u32 = 1;
/// EAX[4:0]: how far to shift the x2APIC id right to get the id of the
/// next level up (here: the core).
const SHIFT_MASK: u32 = 0x1f;
/// EBX[15:0]: logical processors at this level; 0 means the leaf is not
/// implemented (SDM Vol. 2A, leaf 0BH: "software must detect the presence
/// of CPUID leaf 0BH by verifying ... EBX[15:0] reports a non-zero value").
const PROCESSORS_MASK: u32 = 0xffff;

/// The four registers one CPUID (leaf, sub-leaf) returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuidRegs {
    /// EAX.
    pub eax: u32,
    /// EBX.
    pub ebx: u32,
    /// ECX.
    pub ecx: u32,
    /// EDX.
    pub edx: u32,
}

/// How APIC ids split into a core id and the thread id within that core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmtLayout {
    /// The CPUID leaf it came from (0x1F or 0x0B).
    pub leaf: u32,
    /// Width of the thread id in the low bits of the APIC id; 0 when a
    /// core has one thread.
    pub thread_bits: u32,
}

impl SmtLayout {
    /// The SMT layout CPUID reports, from the highest basic leaf and a way
    /// to run CPUID (leaf, sub-leaf). Leaf 0x1F wins over 0x0B, as the SDM
    /// says and Linux does (`detect_extended_topology`); each counts only
    /// if its sub-leaf 0 is implemented and is the SMT level. `None`: no
    /// such leaf, so nothing is known about threads (the kernel then
    /// treats every CPU as a core of its own).
    pub fn from_cpuid(max_leaf: u32, cpuid: impl Fn(u32, u32) -> CpuidRegs) -> Option<SmtLayout> {
        [LEAF_V2_EXTENDED_TOPOLOGY, LEAF_EXTENDED_TOPOLOGY]
            .into_iter()
            .filter(|&leaf| max_leaf >= leaf)
            .find_map(|leaf| SmtLayout::from_subleaf0(leaf, cpuid(leaf, 0)))
    }

    /// Decodes sub-leaf 0 of `leaf` (0x1F or 0x0B); `None` if not
    /// implemented or not the SMT level.
    pub fn from_subleaf0(leaf: u32, regs: CpuidRegs) -> Option<SmtLayout> {
        let level_type = (regs.ecx >> 8) & 0xff;
        if regs.ebx & PROCESSORS_MASK == 0 || level_type != LEVEL_TYPE_SMT {
            return None;
        }
        Some(SmtLayout {
            leaf,
            thread_bits: regs.eax & SHIFT_MASK,
        })
    }

    /// The thread id within its core (0 for the core's primary thread).
    pub fn thread_id(&self, apic_id: u32) -> u32 {
        apic_id & self.thread_mask()
    }

    /// What every thread of one core shares: the APIC id without its
    /// thread bits.
    pub fn core_id(&self, apic_id: u32) -> u32 {
        apic_id.checked_shr(self.thread_bits).unwrap_or(0)
    }

    /// Whether the CPU with this APIC id is a secondary thread of its core
    /// (Linux: not `topology_is_primary_thread`), the kind `smt off` takes
    /// down.
    pub fn is_secondary(&self, apic_id: u32) -> bool {
        self.thread_id(apic_id) != 0
    }

    /// Whether two APIC ids are threads of the same core.
    pub fn are_siblings(&self, a: u32, b: u32) -> bool {
        self.core_id(a) == self.core_id(b)
    }

    fn thread_mask(&self) -> u32 {
        1u32.checked_shl(self.thread_bits)
            .map_or(u32::MAX, |b| b - 1)
    }
}

/// Whether `apic_id` is a secondary thread under `layout`; without a
/// layout (no topology leaf) no CPU is.
pub fn is_secondary(layout: Option<SmtLayout>, apic_id: u32) -> bool {
    layout.is_some_and(|l| l.is_secondary(apic_id))
}

#[cfg(test)]
mod tests;
