//! Host tests of arch's pure register layouts and table logic for the
//! platform hardware: I/O APIC entries, ISA overrides, QEMU's CPU hotplug
//! block, GPE bits, the DSDT region scan and the slot/MADT cross-check.
//!
//! `arch` is built for the kernel target and defines the global
//! allocator, so it has no host tests of its own; these files are kept free
//! of `crate::` imports so that this test compiles them as they are.

extern crate alloc;

#[allow(dead_code)]
#[path = "../../arch/src/apic/irq_line.rs"]
mod irq_line;

#[allow(dead_code)]
#[path = "../../arch/src/apic/ioapic_regs.rs"]
mod ioapic_regs;

#[allow(dead_code)]
#[path = "../../arch/src/acpi/cpu_hotplug_regs.rs"]
mod cpu_hotplug_regs;

#[allow(dead_code)]
#[path = "../../arch/src/acpi/fixed_regs.rs"]
mod fixed_regs;

#[allow(dead_code)]
#[path = "../../arch/src/acpi/aml_scan.rs"]
mod aml_scan;

#[allow(dead_code)]
#[path = "../../arch/src/acpi/slot_check.rs"]
mod slot_check;

use irq_line::{IrqLine, IsaOverride, Polarity, Trigger};

/// QEMU's MADT overrides (`hw/i386/acpi-common.c`): IRQ 0 on GSI 2 with
/// conforming flags, and the PCI IRQs 5, 9, 10, 11 level, active high.
fn qemu_overrides() -> Vec<IsaOverride> {
    let mut v = vec![IsaOverride::from_mps_flags(0, 2, 0).unwrap()];
    for irq in [5, 9, 10, 11] {
        v.push(IsaOverride::from_mps_flags(irq, u32::from(irq), 0x000d).unwrap());
    }
    v
}

#[test]
fn mps_flags_decode_each_field() {
    let o = IsaOverride::from_mps_flags(9, 9, 0b1101).unwrap();
    assert_eq!(
        (o.polarity, o.trigger),
        (Some(Polarity::ActiveHigh), Some(Trigger::Level))
    );
    let o = IsaOverride::from_mps_flags(3, 3, 0b0111).unwrap();
    assert_eq!(
        (o.polarity, o.trigger),
        (Some(Polarity::ActiveLow), Some(Trigger::Edge))
    );
    let o = IsaOverride::from_mps_flags(0, 2, 0).unwrap();
    assert_eq!((o.polarity, o.trigger), (None, None));
    assert!(IsaOverride::from_mps_flags(1, 1, 0b0010).is_err());
    assert!(IsaOverride::from_mps_flags(1, 1, 0b1000).is_err());
}

#[test]
fn isa_lines_follow_qemu_overrides() {
    let o = qemu_overrides();
    let edge_high = |gsi| IrqLine {
        gsi,
        polarity: Polarity::ActiveHigh,
        trigger: Trigger::Edge,
    };
    assert_eq!(irq_line::isa_line(&o, 0), edge_high(2));
    assert_eq!(irq_line::isa_line(&o, 4), edge_high(4));
    assert_eq!(
        irq_line::isa_line(&o, 9),
        IrqLine {
            gsi: 9,
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Level
        }
    );
}

#[test]
fn sci_defaults_to_level_low_unless_overridden() {
    let level = |gsi, polarity| IrqLine {
        gsi,
        polarity,
        trigger: Trigger::Level,
    };
    assert_eq!(irq_line::sci_line(&[], 9), level(9, Polarity::ActiveLow));
    assert_eq!(
        irq_line::sci_line(&qemu_overrides(), 9),
        level(9, Polarity::ActiveHigh)
    );
    // A conforming override moves the line but keeps the SCI's defaults.
    let moved = [IsaOverride::from_mps_flags(9, 20, 0).unwrap()];
    assert_eq!(
        irq_line::sci_line(&moved, 9),
        level(20, Polarity::ActiveLow)
    );
    // Above 15 SCI_INT is a GSI; ISA overrides do not apply.
    assert_eq!(
        irq_line::sci_line(&moved, 20),
        level(20, Polarity::ActiveLow)
    );
}

#[test]
fn ioapic_entry_encoding() {
    let r = ioapic_regs::Redirection {
        vector: 0x40,
        polarity: Polarity::ActiveLow,
        trigger: Trigger::Level,
        masked: true,
        destination: 3,
    };
    let (low, high) = r.encode();
    assert_eq!(low, 0x40 | 1 << 13 | 1 << 15 | 1 << 16);
    assert_eq!(high, 3 << 24);
    assert_eq!(ioapic_regs::Redirection::decode(low, high), Some(r));
    // Read-only status bits do not disturb the decode.
    let busy = low | ioapic_regs::RTE_REMOTE_IRR | ioapic_regs::RTE_DELIVERY_PENDING;
    assert_eq!(ioapic_regs::Redirection::decode(busy, high), Some(r));
    // Logical destination or a non-fixed delivery mode: not ours.
    assert_eq!(ioapic_regs::Redirection::decode(low | 1 << 11, high), None);
    assert_eq!(
        ioapic_regs::Redirection::decode(low | 0b100 << 8, high),
        None
    );
    assert_eq!(ioapic_regs::with_mask(low, false), low & !(1 << 16));
    assert_eq!(ioapic_regs::with_mask(low & !(1 << 16), true), low);
    assert_eq!(ioapic_regs::destination_high(254), 254 << 24);
}

#[test]
fn ioapic_register_indices_and_version() {
    assert_eq!(ioapic_regs::rte_low(0), 0x10);
    assert_eq!(ioapic_regs::rte_high(0), 0x11);
    assert_eq!(ioapic_regs::rte_high(23), 0x3f);
    // QEMU's default I/O APIC: version 0x20, 24 inputs.
    let v = ioapic_regs::decode_version(0x0017_0020);
    assert_eq!((v.version, v.entries), (0x20, 24));
    assert_eq!(ioapic_regs::MAX_RTE_DESTINATION, 254);
}

#[test]
fn cpu_hotplug_layout_matches_the_spec() {
    use cpu_hotplug_regs::*;
    assert_eq!((SELECTOR, FLAGS, COMMAND, COMMAND_DATA), (0, 4, 5, 8));
    assert_eq!(COMMAND_DATA_2, 0);
    assert_eq!(MODERN_BLOCK_LEN, 12);
    assert_eq!(Command::NextWithEvent as u8, 0);
    assert_eq!(Command::OstEvent as u8, 1);
    assert_eq!(Command::OstStatus as u8, 2);
    assert_eq!(Command::GetArchId as u8, 3);
    // QEMU acts on one control bit per write: each constant is one bit.
    for bit in [CONTROL_CLEAR_INSERT, CONTROL_CLEAR_REMOVE, CONTROL_EJECT] {
        assert_eq!(bit.count_ones(), 1);
    }
    assert_eq!(
        (CONTROL_CLEAR_INSERT, CONTROL_CLEAR_REMOVE, CONTROL_EJECT),
        (2, 4, 8)
    );
}

#[test]
fn cpu_hotplug_status_and_ids() {
    use cpu_hotplug_regs::*;
    let all = SlotStatus::decode(0b0001_0111);
    assert!(all.enabled && all.insert_event && all.remove_event && all.firmware_eject);
    let none = SlotStatus::decode(0b1110_1000);
    assert!(!none.enabled && !none.has_event() && !none.firmware_eject);
    assert!(SlotStatus::decode(0b011).has_event());
    assert!(SlotStatus::decode(0b101).has_event());
    assert_eq!(arch_id(5, 0), 5);
    assert_eq!(arch_id(1, 2), 0x2_0000_0001);
}

#[test]
fn cpu_hotplug_probe_tells_modern_from_legacy_and_nothing() {
    use cpu_hotplug_regs::modern_probe_ok;
    assert!(modern_probe_ok(0, 0b1));
    // Legacy bitmap: bit 0 is the boot CPU.
    assert!(!modern_probe_ok(0b11, 0));
    // Nothing decodes the port: all ones.
    assert!(!modern_probe_ok(u32::MAX, 0xff));
    // Reads of zero everywhere (e.g. a selector past the last slot).
    assert!(!modern_probe_ok(0, 0));
}

#[test]
fn gpe_bits_for_qemu_blocks() {
    use fixed_regs::*;
    // pc: GPE0 at 0xafe0, 4 bytes: 2 status, 2 enable.
    let b = gpe_bits(4, 2).unwrap();
    assert_eq!((b.status_offset, b.enable_offset, b.mask), (0, 2, 0b100));
    assert_eq!(gpe_count(4), 16);
    assert_eq!(gpe_bits(4, 16), None);
    // q35: GPE0 at 0x620, 16 bytes.
    let b = gpe_bits(16, 2).unwrap();
    assert_eq!((b.status_offset, b.enable_offset, b.mask), (0, 8, 0b100));
    let b = gpe_bits(16, 63).unwrap();
    assert_eq!((b.status_offset, b.enable_offset, b.mask), (7, 15, 0x80));
    assert_eq!(gpe_bits(16, 64), None);
    assert_eq!(gpe_bits(0, 0), None);
    assert_eq!(pm1_enable_offset(4), 2);
    assert_eq!(PM1_CNT_SCI_EN, 1);
}

/// `OperationRegion (PRST, SystemIO, base, len)` as QEMU encodes it.
fn prst_region(base: &[u8], len: &[u8]) -> Vec<u8> {
    let mut aml = vec![0x10, 0x20, 0x5b, 0x80];
    aml.extend_from_slice(b"PRST");
    aml.push(0x01);
    aml.extend_from_slice(base);
    aml.extend_from_slice(len);
    aml.extend_from_slice(&[0x5b, 0x81, 0x0f]);
    aml
}

#[test]
fn aml_scan_finds_qemu_cpu_hotplug_region() {
    use aml_scan::{find_system_io_region, IoRegion};
    let q35 = prst_region(&[0x0b, 0xd8, 0x0c], &[0x0a, 0x0c]);
    assert_eq!(
        find_system_io_region(&q35, *b"PRST"),
        Some(IoRegion {
            base: 0xcd8,
            len: 12
        })
    );
    let pc = prst_region(&[0x0b, 0x00, 0xaf], &[0x0a, 0x0c]);
    assert_eq!(
        find_system_io_region(&pc, *b"PRST").map(|r| r.base),
        Some(0xaf00)
    );
    // DWORD-encoded offset, a root prefix, the legacy 32-byte length.
    let mut rooted = vec![0x5b, 0x80, b'\\'];
    rooted.extend_from_slice(b"PRST");
    rooted.extend_from_slice(&[0x01, 0x0c, 0xd8, 0x0c, 0, 0, 0x0a, 0x20]);
    assert_eq!(
        find_system_io_region(&rooted, *b"PRST"),
        Some(IoRegion {
            base: 0xcd8,
            len: 32
        })
    );
}

#[test]
fn aml_scan_rejects_what_is_not_the_region() {
    use aml_scan::find_system_io_region;
    let q35 = prst_region(&[0x0b, 0xd8, 0x0c], &[0x0a, 0x0c]);
    assert_eq!(find_system_io_region(&q35, *b"PCST"), None);
    // SystemMemory, not SystemIO.
    let mut memory = q35.clone();
    memory[8] = 0x00;
    assert_eq!(find_system_io_region(&memory, *b"PRST"), None);
    // A port past 0xffff, or a region running past it.
    let far = prst_region(&[0x0c, 0, 0, 1, 0], &[0x0a, 0x0c]);
    assert_eq!(find_system_io_region(&far, *b"PRST"), None);
    let over = prst_region(&[0x0b, 0xf8, 0xff], &[0x0a, 0x0c]);
    assert_eq!(find_system_io_region(&over, *b"PRST"), None);
    // A computed offset (a name, not a constant) is not read.
    let named = prst_region(b"BASE", &[0x0a, 0x0c]);
    assert_eq!(find_system_io_region(&named, *b"PRST"), None);
    // Every truncation of the bytes: no panic, no bogus region.
    for cut in 0..14 {
        assert_eq!(
            find_system_io_region(&q35[..cut], *b"PRST"),
            None,
            "cut {cut}"
        );
    }
    assert!(find_system_io_region(&q35[..14], *b"PRST").is_some());
}

#[test]
fn slot_check_reports_every_disagreement() {
    use slot_check::{cross_check, MadtView, Mismatch, SlotView};
    let slot = |slot, apic_id, present| SlotView {
        slot,
        apic_id,
        present,
    };
    let cpu = |apic_id, enabled| MadtView { apic_id, enabled };
    let slots = [slot(0, 0, true), slot(1, 1, true), slot(2, 2, false)];
    let madt = [cpu(0, true), cpu(1, true), cpu(2, false)];
    assert!(cross_check(&slots, &madt).is_empty());

    let madt = [cpu(0, true), cpu(1, false), cpu(2, true), cpu(7, false)];
    let slots = [
        slot(0, 0, true),
        slot(1, 1, true),
        slot(2, 2, false),
        slot(3, 3, false),
    ];
    let found = cross_check(&slots, &madt);
    assert_eq!(
        found,
        vec![
            Mismatch::Presence {
                slot: 1,
                apic_id: 1,
                slot_present: true
            },
            Mismatch::Presence {
                slot: 2,
                apic_id: 2,
                slot_present: false
            },
            Mismatch::NoSlot { apic_id: 7 },
            Mismatch::NotInMadt {
                slot: 3,
                apic_id: 3
            },
        ]
    );
    let text: Vec<String> = found.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        text,
        [
            "slot 1 (apic 1) present, madt disabled",
            "slot 2 (apic 2) absent, madt enabled",
            "apic 7 has no slot",
            "slot 3 (apic 3) not in madt",
        ]
    );
}
