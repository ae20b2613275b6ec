//! What the CPU says about itself through CPUID: feature bits and its own
//! APIC id. A leaf: reads registers, touches no state.

use core::arch::x86_64::__cpuid;

/// A local APIC id as firmware assigned it.
///
/// Sparse (topology leaves gaps) and 32 bits wide: x2APIC ids go past 255.
/// Deliberately not interchangeable with the dense logical CPU index that
/// the rest of this crate takes as a plain `usize` (the kernel's own CPU
/// number: 0 for the boot CPU, then the other possible CPUs in MADT order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApicId(pub u32);

impl core::fmt::Display for ApicId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// CPUID leaf `leaf`, sub-leaf `sub`.
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    // `__cpuid_count` is safe to call on every x86_64 CPU.
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// The highest basic CPUID leaf.
pub fn max_cpuid_leaf() -> u32 {
    __cpuid(0).eax
}

/// Whether the CPU has an x2APIC (CPUID.01H:ECX bit 21, SDM Vol. 2A, Table 3-10).
pub fn has_x2apic() -> bool {
    cpuid(1, 0).2 & (1 << 21) != 0
}

/// Whether the LAPIC timer has TSC-deadline mode (CPUID.01H:ECX bit 24,
/// SDM Vol. 3A 11.5.4.1).
pub fn has_tsc_deadline() -> bool {
    cpuid(1, 0).2 & (1 << 24) != 0
}

/// This CPU's APIC id as CPUID reports it: the 32-bit x2APIC id from leaf
/// 0x0B where present (SDM Vol. 3A 9.4.4), else the 8-bit initial APIC id
/// from leaf 1 EBX bits 31:24.
pub fn initial_apic_id() -> ApicId {
    if max_cpuid_leaf() >= 0x0b {
        let (_, ebx, _, edx) = cpuid(0x0b, 0);
        if ebx != 0 {
            return ApicId(edx);
        }
    }
    ApicId(cpuid(1, 0).1 >> 24)
}

/// What CPUID says about the core crystal clock, as read: the inputs the
/// kernel needs to work out the LAPIC timer's clock (its arithmetic is
/// `queues::core_crystal_hz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrystalCpuid {
    /// Leaf 0x15: EAX (ratio denominator), EBX (ratio numerator), ECX
    /// (crystal Hz, 0 if not enumerated).
    pub leaf_15: (u32, u32, u32),
    /// Leaf 0x16 EAX, the base frequency in MHz, where the CPU has the leaf.
    pub base_mhz: Option<u32>,
    /// Leaf 1 EAX, the version information (family and model).
    pub version: u32,
}

/// Leaf 0 EBX, EDX, ECX of an Intel CPU: "GenuineIntel".
const GENUINE_INTEL: (u32, u32, u32) = (0x756e_6547, 0x4965_6e69, 0x6c65_746e);

/// CPUID's crystal clock leaves, or `None` unless the CPU is Intel's (leaf
/// 0x15 is an Intel leaf, SDM Vol. 2A) and its highest basic leaf reaches
/// 0x15. A CPU asked for a leaf past its highest answers with that leaf's
/// data instead (QEMU's TCG `max` does, at 0x0d), so the bound matters.
pub fn crystal_cpuid() -> Option<CrystalCpuid> {
    let (max, ebx, ecx, edx) = cpuid(0, 0);
    if (ebx, edx, ecx) != GENUINE_INTEL || max < 0x15 {
        return None;
    }
    let (eax, ebx, ecx, _) = cpuid(0x15, 0);
    Some(CrystalCpuid {
        leaf_15: (eax, ebx, ecx),
        base_mhz: (max >= 0x16).then(|| cpuid(0x16, 0).0 & 0xffff),
        version: cpuid(1, 0).0,
    })
}
