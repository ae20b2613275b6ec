//! Decoding checked on the registers QEMU's TCG CPUs return (QEMU
//! `cpu_x86_cpuid`, leaf 0x0B/0x1F sub-leaf 0: EAX = the core level's
//! offset in the APIC id, EBX = threads per core, ECX = level type SMT << 8,
//! EDX = the x2APIC id) and on leaves that are missing or malformed.

extern crate std;

use super::*;
use std::vec::Vec;

const SMT_LEVEL: u32 = LEVEL_TYPE_SMT << 8;

/// QEMU's sub-leaf 0 for a core of `threads` threads, on the CPU with
/// `apic_id`.
fn qemu_subleaf0(threads: u32, apic_id: u32) -> CpuidRegs {
    CpuidRegs {
        eax: u32::BITS - (threads - 1).leading_zeros(),
        ebx: threads,
        ecx: SMT_LEVEL,
        edx: apic_id,
    }
}

/// A CPU whose leaves 0x1F and 0x0B answer `leaf_1f` and `leaf_0b` at
/// sub-leaf 0 (everything else reads as zeros, as unimplemented leaves do).
fn cpu(leaf_1f: CpuidRegs, leaf_0b: CpuidRegs) -> impl Fn(u32, u32) -> CpuidRegs {
    move |leaf, sub| match (leaf, sub) {
        (LEAF_V2_EXTENDED_TOPOLOGY, 0) => leaf_1f,
        (LEAF_EXTENDED_TOPOLOGY, 0) => leaf_0b,
        _ => CpuidRegs::default(),
    }
}

fn bits(thread_bits: u32) -> SmtLayout {
    SmtLayout {
        leaf: LEAF_EXTENDED_TOPOLOGY,
        thread_bits,
    }
}

const NONE: CpuidRegs = CpuidRegs {
    eax: 0,
    ebx: 0,
    ecx: 0,
    edx: 0,
};

#[test]
fn two_threads_per_core_take_one_bit() {
    let layout = SmtLayout::from_cpuid(0x0d, cpu(NONE, qemu_subleaf0(2, 5)));
    assert_eq!(
        layout,
        Some(SmtLayout {
            leaf: LEAF_EXTENDED_TOPOLOGY,
            thread_bits: 1
        })
    );
}

#[test]
fn one_thread_per_core_takes_no_bits() {
    let layout = SmtLayout::from_cpuid(0x0d, cpu(NONE, qemu_subleaf0(1, 3))).unwrap();
    assert_eq!(layout.thread_bits, 0);
    assert!((0..64).all(|id| !layout.is_secondary(id)));
    assert_eq!(layout.core_id(3), 3);
}

#[test]
fn three_threads_round_up_to_two_bits() {
    let layout = SmtLayout::from_cpuid(0x0d, cpu(NONE, qemu_subleaf0(3, 0))).unwrap();
    assert_eq!(layout.thread_bits, 2);
    // -smp 6,cores=2,threads=3: APIC ids 0,1,2 and 4,5,6.
    let ids = [0, 1, 2, 4, 5, 6];
    let secondary: Vec<u32> = ids
        .into_iter()
        .filter(|&id| layout.is_secondary(id))
        .collect();
    assert_eq!(secondary, [1, 2, 5, 6]);
    assert!(layout.are_siblings(4, 6));
    assert!(!layout.are_siblings(2, 4));
}

#[test]
fn leaf_1f_wins_over_0b() {
    // A CPU whose 0x1F reports 2 thread bits and 0x0B (wrongly) 1.
    let layout = SmtLayout::from_cpuid(0x1f, cpu(qemu_subleaf0(4, 0), qemu_subleaf0(2, 0)));
    assert_eq!(
        layout,
        Some(SmtLayout {
            leaf: LEAF_V2_EXTENDED_TOPOLOGY,
            thread_bits: 2
        })
    );
}

#[test]
fn leaf_1f_beyond_the_max_leaf_is_not_read() {
    let layout = SmtLayout::from_cpuid(0x1e, cpu(qemu_subleaf0(4, 0), qemu_subleaf0(2, 0)));
    assert_eq!(
        layout,
        Some(SmtLayout {
            leaf: LEAF_EXTENDED_TOPOLOGY,
            thread_bits: 1
        })
    );
}

#[test]
fn unimplemented_1f_falls_back_to_0b() {
    // Max leaf 0x1F or more, but 0x1F's sub-leaf 0 reads zeros.
    let layout = SmtLayout::from_cpuid(0x20, cpu(NONE, qemu_subleaf0(2, 0)));
    assert_eq!(
        layout,
        Some(SmtLayout {
            leaf: LEAF_EXTENDED_TOPOLOGY,
            thread_bits: 1
        })
    );
}

#[test]
fn no_topology_leaf_means_no_layout() {
    assert_eq!(
        SmtLayout::from_cpuid(0x0a, cpu(NONE, qemu_subleaf0(2, 0))),
        None
    );
    assert_eq!(SmtLayout::from_cpuid(0x0d, cpu(NONE, NONE)), None);
    assert!(!is_secondary(None, 1));
}

#[test]
fn subleaf_0_that_is_not_the_smt_level_is_refused() {
    let core_level = CpuidRegs {
        eax: 4,
        ebx: 8,
        ecx: 2 << 8,
        edx: 0,
    };
    assert_eq!(
        SmtLayout::from_subleaf0(LEAF_EXTENDED_TOPOLOGY, core_level),
        None
    );
    // Processor count 0 in EBX[15:0] (upper bits are reserved).
    let empty = CpuidRegs {
        ebx: 0xffff_0000,
        ..qemu_subleaf0(2, 0)
    };
    assert_eq!(
        SmtLayout::from_subleaf0(LEAF_EXTENDED_TOPOLOGY, empty),
        None
    );
}

#[test]
fn qemu_two_sockets_two_cores_two_threads() {
    // -smp 8,sockets=2,cores=2,threads=2: APIC ids 0-7, thread in bit 0.
    let layout = bits(1);
    let secondary: Vec<u32> = (0..8).filter(|&id| layout.is_secondary(id)).collect();
    assert_eq!(secondary, [1, 3, 5, 7]);
    assert_eq!(layout.core_id(5), 2);
    assert!(layout.are_siblings(6, 7));
    assert!(!layout.are_siblings(1, 2));
    assert!(is_secondary(Some(layout), 7));
    assert!(!is_secondary(Some(layout), 0));
}

#[test]
fn sparse_ids_keep_threads_in_the_low_bits() {
    // -smp 12,sockets=2,cores=3,threads=2: core ids padded to 2 bits.
    let layout = bits(1);
    let ids = [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13];
    let cores: Vec<u32> = ids.into_iter().map(|id| layout.core_id(id)).collect();
    assert_eq!(cores, [0, 0, 1, 1, 2, 2, 4, 4, 5, 5, 6, 6]);
}

#[test]
fn widest_shift_does_not_overflow() {
    let layout = bits(31);
    assert_eq!(layout.core_id(u32::MAX), 1);
    assert!(layout.is_secondary(1));
    // Wider than any decoded value can be: every bit is the thread's.
    let layout = bits(32);
    assert_eq!(layout.core_id(u32::MAX), 0);
    assert_eq!(layout.thread_id(u32::MAX), u32::MAX);
}
