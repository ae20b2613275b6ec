//! How a device interrupt line is wired: its global system interrupt (GSI),
//! polarity and trigger mode, and how the MADT's interrupt source overrides
//! change that for ISA IRQs.
//!
//! Pure logic on plain values, no hardware and no `crate::` imports, so the
//! host tests compile this very file (`boot/tests/acpi_platform.rs`).

/// The level that means "asserted" on the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    /// Asserted when high (ISA's default).
    ActiveHigh,
    /// Asserted when low (PCI's default, and the SCI's without an override).
    ActiveLow,
}

impl Polarity {
    /// The word the boot log uses: `high` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Polarity::ActiveHigh => "high",
            Polarity::ActiveLow => "low",
        }
    }
}

/// How the line signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// An edge is one interrupt (ISA's default).
    Edge,
    /// The line stays asserted until the device is serviced; the I/O APIC
    /// holds Remote IRR until the EOI.
    Level,
}

impl Trigger {
    /// The word the boot log uses: `edge` or `level`.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Edge => "edge",
            Trigger::Level => "level",
        }
    }
}

/// A line resolved to what an I/O APIC redirection entry needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqLine {
    /// The global system interrupt: which I/O APIC input (ACPI 6.5 5.2.13).
    pub gsi: u32,
    /// Asserted high or low.
    pub polarity: Polarity,
    /// Edge or level.
    pub trigger: Trigger,
}

/// One MADT Interrupt Source Override (ACPI 6.5 5.2.12.5): ISA IRQ
/// `isa_irq` is wired to `gsi`. `None` means "conforms to the bus", which
/// the user of the line resolves (ISA: high, edge; the SCI: low, level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaOverride {
    /// The ISA IRQ (bus 0 is the only bus ACPI defines here).
    pub isa_irq: u8,
    /// Where it really arrives.
    pub gsi: u32,
    /// The polarity, or `None` for the bus default.
    pub polarity: Option<Polarity>,
    /// The trigger mode, or `None` for the bus default.
    pub trigger: Option<Trigger>,
}

/// MPS INTI flags (ACPI 6.5 Table 5.50): bits 1:0 polarity, bits 3:2
/// trigger mode; in each, 00 conforms to the bus, 01 and 11 are the two
/// choices and 10 is reserved.
const MPS_INTI_POLARITY_SHIFT: u16 = 0;
const MPS_INTI_TRIGGER_SHIFT: u16 = 2;
const MPS_INTI_FIELD: u16 = 0b11;
const MPS_INTI_CONFORMS: u16 = 0b00;
const MPS_INTI_FIRST: u16 = 0b01;
const MPS_INTI_SECOND: u16 = 0b11;

/// An MPS INTI flags field held the reserved value 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedIntiFlags(pub u16);

impl IsaOverride {
    /// Builds an override from the MADT entry's raw fields.
    pub fn from_mps_flags(isa_irq: u8, gsi: u32, flags: u16) -> Result<Self, ReservedIntiFlags> {
        let field = |shift: u16| (flags >> shift) & MPS_INTI_FIELD;
        let polarity = match field(MPS_INTI_POLARITY_SHIFT) {
            MPS_INTI_CONFORMS => None,
            MPS_INTI_FIRST => Some(Polarity::ActiveHigh),
            MPS_INTI_SECOND => Some(Polarity::ActiveLow),
            _ => return Err(ReservedIntiFlags(flags)),
        };
        let trigger = match field(MPS_INTI_TRIGGER_SHIFT) {
            MPS_INTI_CONFORMS => None,
            MPS_INTI_FIRST => Some(Trigger::Edge),
            MPS_INTI_SECOND => Some(Trigger::Level),
            _ => return Err(ReservedIntiFlags(flags)),
        };
        Ok(IsaOverride {
            isa_irq,
            gsi,
            polarity,
            trigger,
        })
    }
}

/// What an ISA IRQ line is without an override: identity-mapped, active
/// high, edge-triggered (the ISA bus's signalling).
pub const ISA_DEFAULT: (Polarity, Trigger) = (Polarity::ActiveHigh, Trigger::Edge);

/// What the SCI is unless an override says otherwise: "a sharable, level,
/// active low interrupt" (ACPI 6.5 5.2.9, the FADT's SCI_INT field).
pub const SCI_DEFAULT: (Polarity, Trigger) = (Polarity::ActiveLow, Trigger::Level);

/// ISA IRQ `irq` after the overrides; without one it is GSI `irq`, with the
/// ISA defaults.
pub fn isa_line(overrides: &[IsaOverride], irq: u8) -> IrqLine {
    resolve(overrides, irq, ISA_DEFAULT)
}

/// The SCI, given the FADT's SCI_INT. SCI_INT is an ISA IRQ on a machine
/// with 8259s (QEMU: 9), so an override for it applies (QEMU gives one:
/// level, active high); a value above 15 is already a GSI.
pub fn sci_line(overrides: &[IsaOverride], sci_int: u16) -> IrqLine {
    match u8::try_from(sci_int) {
        Ok(irq) if irq < 16 => resolve(overrides, irq, SCI_DEFAULT),
        _ => IrqLine {
            gsi: u32::from(sci_int),
            polarity: SCI_DEFAULT.0,
            trigger: SCI_DEFAULT.1,
        },
    }
}

fn resolve(overrides: &[IsaOverride], irq: u8, default: (Polarity, Trigger)) -> IrqLine {
    match overrides.iter().find(|o| o.isa_irq == irq) {
        Some(o) => IrqLine {
            gsi: o.gsi,
            polarity: o.polarity.unwrap_or(default.0),
            trigger: o.trigger.unwrap_or(default.1),
        },
        None => IrqLine {
            gsi: u32::from(irq),
            polarity: default.0,
            trigger: default.1,
        },
    }
}
