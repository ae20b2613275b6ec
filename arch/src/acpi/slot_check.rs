//! The cross-check of QEMU's CPU hotplug slots against the MADT at boot:
//! the same CPUs, by APIC id, and the same ones present.
//!
//! Pure logic on plain values, no `crate::` imports, so the host tests
//! compile this very file (`boot/tests/acpi_platform.rs`).

use alloc::vec::Vec;

/// One hotplug slot, as enumerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotView {
    /// The slot's selector value.
    pub slot: u32,
    /// Its architectural id (APIC id).
    pub apic_id: u64,
    /// A CPU is in it.
    pub present: bool,
}

/// One MADT processor entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MadtView {
    /// Its APIC id.
    pub apic_id: u32,
    /// Its Enabled flag.
    pub enabled: bool,
}

/// One way the two lists disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// A MADT CPU no slot has.
    NoSlot {
        /// The MADT entry's APIC id.
        apic_id: u32,
    },
    /// A slot whose APIC id the MADT does not list.
    NotInMadt {
        /// The slot.
        slot: u32,
        /// Its APIC id.
        apic_id: u64,
    },
    /// Both list the CPU, but only one says it is there.
    Presence {
        /// The slot.
        slot: u32,
        /// The APIC id.
        apic_id: u32,
        /// Whether the slot holds a CPU.
        slot_present: bool,
    },
}

impl core::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Mismatch::NoSlot { apic_id } => write!(f, "apic {apic_id} has no slot"),
            Mismatch::NotInMadt { slot, apic_id } => {
                write!(f, "slot {slot} (apic {apic_id}) not in madt")
            }
            Mismatch::Presence {
                slot,
                apic_id,
                slot_present,
            } => {
                let (slot_word, madt_word) = if *slot_present {
                    ("present", "disabled")
                } else {
                    ("absent", "enabled")
                };
                write!(
                    f,
                    "slot {slot} (apic {apic_id}) {slot_word}, madt {madt_word}"
                )
            }
        }
    }
}

/// Every disagreement, MADT order first, then slots the MADT lacks.
pub fn cross_check(slots: &[SlotView], madt: &[MadtView]) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    for cpu in madt {
        match slots.iter().find(|s| s.apic_id == u64::from(cpu.apic_id)) {
            None => mismatches.push(Mismatch::NoSlot {
                apic_id: cpu.apic_id,
            }),
            Some(s) if s.present != cpu.enabled => mismatches.push(Mismatch::Presence {
                slot: s.slot,
                apic_id: cpu.apic_id,
                slot_present: s.present,
            }),
            Some(_) => {}
        }
    }
    for s in slots {
        if !madt.iter().any(|cpu| u64::from(cpu.apic_id) == s.apic_id) {
            mismatches.push(Mismatch::NotInMadt {
                slot: s.slot,
                apic_id: s.apic_id,
            });
        }
    }
    mismatches
}
