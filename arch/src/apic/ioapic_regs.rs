//! The I/O APIC's register layout (Intel 82093AA datasheet, section 3):
//! the indirect register window, the version register and the 64-bit
//! redirection table entries (RTEs).
//!
//! Pure encoding, no hardware access and no `crate::` imports, so the host
//! tests compile this very file (`boot/tests/acpi_platform.rs`).

use super::irq_line::{Polarity, Trigger};

/// MMIO offset of IOREGSEL: which register IOWIN shows (82093AA 3.1.1).
pub const IOREGSEL: u64 = 0x00;
/// MMIO offset of IOWIN: the selected 32-bit register (82093AA 3.1.2).
pub const IOWIN: u64 = 0x10;

/// IOAPICID: bits 27:24 are the APIC's own id (82093AA 3.2.1).
pub const REG_ID: u32 = 0x00;
/// IOAPICVER: version and last redirection entry (82093AA 3.2.2).
pub const REG_VERSION: u32 = 0x01;
/// IOREDTBL[0] low dword; entry n is at 0x10 + 2n (low) and 0x11 + 2n
/// (high) (82093AA 3.2.4).
const REG_REDIRECTION_BASE: u32 = 0x10;

/// The register index of RTE `entry`'s low dword.
pub fn rte_low(entry: u16) -> u32 {
    REG_REDIRECTION_BASE + 2 * u32::from(entry)
}

/// The register index of RTE `entry`'s high dword (the destination).
pub fn rte_high(entry: u16) -> u32 {
    rte_low(entry) + 1
}

/// What IOAPICVER says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// 0x11 for the 82093AA; 0x20 for QEMU's default I/O APIC, which also
    /// has the directed-EOI register (not used: see `ioapic`).
    pub version: u8,
    /// Redirection entries, i.e. inputs (last entry + 1).
    pub entries: u16,
}

/// Decodes IOAPICVER: bits 7:0 version, bits 23:16 the last entry's index.
pub fn decode_version(raw: u32) -> Version {
    Version {
        version: (raw & 0xff) as u8,
        entries: ((raw >> 16) & 0xff) as u16 + 1,
    }
}

/// RTE low-dword bits (82093AA 3.2.4). Delivery mode 000 (fixed) and
/// destination mode 0 (physical) are the zero values, so they need no
/// constant of their own beyond the fields' masks.
const RTE_VECTOR: u32 = 0xff;
const RTE_DELIVERY_MODE: u32 = 0b111 << 8;
const RTE_DESTINATION_LOGICAL: u32 = 1 << 11;
/// Read-only: the interrupt is on its way to a LAPIC.
pub const RTE_DELIVERY_PENDING: u32 = 1 << 12;
const RTE_ACTIVE_LOW: u32 = 1 << 13;
/// Read-only, level-triggered lines: a LAPIC accepted the interrupt and
/// its EOI has not arrived yet.
pub const RTE_REMOTE_IRR: u32 = 1 << 14;
const RTE_LEVEL: u32 = 1 << 15;
/// The line is ignored while set.
pub const RTE_MASKED: u32 = 1 << 16;
/// The physical destination: bits 63:56, i.e. bits 31:24 of the high dword.
const RTE_DESTINATION_SHIFT: u32 = 24;

/// The highest APIC id a physical-mode RTE can name. The field is 8 bits
/// in xAPIC and in x2APIC mode alike (without interrupt remapping), and
/// 0xff means "all CPUs".
pub const MAX_RTE_DESTINATION: u32 = 0xfe;

/// One redirection entry as this crate programs it: fixed delivery,
/// physical destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redirection {
    /// The IDT vector delivered.
    pub vector: u8,
    /// Asserted high or low.
    pub polarity: Polarity,
    /// Edge or level.
    pub trigger: Trigger,
    /// Whether the line is ignored.
    pub masked: bool,
    /// The target CPU's APIC id (at most [`MAX_RTE_DESTINATION`]).
    pub destination: u8,
}

impl Redirection {
    /// The (low, high) dwords to write.
    pub fn encode(&self) -> (u32, u32) {
        let mut low = u32::from(self.vector);
        if self.polarity == Polarity::ActiveLow {
            low |= RTE_ACTIVE_LOW;
        }
        if self.trigger == Trigger::Level {
            low |= RTE_LEVEL;
        }
        if self.masked {
            low |= RTE_MASKED;
        }
        (low, u32::from(self.destination) << RTE_DESTINATION_SHIFT)
    }

    /// Reads an entry back. `None` if it uses a delivery or destination
    /// mode this crate never programs (firmware's leftovers).
    pub fn decode(low: u32, high: u32) -> Option<Redirection> {
        if low & (RTE_DELIVERY_MODE | RTE_DESTINATION_LOGICAL) != 0 {
            return None;
        }
        Some(Redirection {
            vector: (low & RTE_VECTOR) as u8,
            polarity: if low & RTE_ACTIVE_LOW != 0 {
                Polarity::ActiveLow
            } else {
                Polarity::ActiveHigh
            },
            trigger: if low & RTE_LEVEL != 0 {
                Trigger::Level
            } else {
                Trigger::Edge
            },
            masked: low & RTE_MASKED != 0,
            destination: (high >> RTE_DESTINATION_SHIFT) as u8,
        })
    }
}

/// The low dword with the mask bit set or cleared, everything else kept.
pub fn with_mask(low: u32, masked: bool) -> u32 {
    if masked {
        low | RTE_MASKED
    } else {
        low & !RTE_MASKED
    }
}

/// The high dword naming `destination`.
pub fn destination_high(destination: u8) -> u32 {
    u32::from(destination) << RTE_DESTINATION_SHIFT
}
