//! Boot-time setup of the platform's interrupt and ACPI hardware, and the
//! boot-log line that reports it.
//!
//! [`init`] runs the steps in order, each one whatever became of the
//! others: mask every I/O APIC input; enter ACPI mode and silence every
//! PM1 and GPE event; switch QEMU's CPU hotplug block to its modern
//! interface and enumerate it; cross-check its slots with the MADT. It
//! routes nothing and enables no event: the kernel does that once it has
//! handlers. A machine without some piece (no hotplug block, say) boots on,
//! and the line says what is missing.
//!
//! The line (stable: tests read it), printed after `acpi: `, is
//! comma-separated parts in this order:
//! - `sci irq I (gsi G, level|edge, high|low)`: the FADT's SCI_INT and the
//!   line after the MADT's overrides; then `acpi mode switched`, `acpi mode
//!   already on` or `acpi mode error: ...`; then `gpe0 0xPORT+LEN` or
//!   `gpe0 none`. All three become `fadt unusable: ...` without a usable
//!   FADT.
//! - per I/O APIC, `ioapic ID at 0xADDR gsi FIRST-LAST vVERSION`, or one
//!   `ioapic error: ...`.
//! - `cpu hotplug 0xBASE (was legacy|modern): N slots, P present, madt ok`,
//!   or `madt mismatch: ...` (up to four, `; `-separated, then `; K more`)
//!   in place of `madt ok`; `cpu hotplug 0xBASE: <error>` if the block did
//!   not come up; `cpu hotplug: none in dsdt` without one.
//!
//! QEMU q35 with SeaBIOS and `-smp 2,maxcpus=8` prints
//! `acpi: sci irq 9 (gsi 9, level, high), acpi mode switched, gpe0
//! 0x620+16, ioapic 0 at 0xfec00000 gsi 0-23 v0x20, cpu hotplug 0xcd8 (was
//! legacy): 8 slots, 2 present, madt ok` (on one line).

use crate::acpi::cpu_hotplug::{self, CpuHotplugError, Enumeration};
use crate::acpi::fadt::{FadtError, FixedHardware};
use crate::acpi::fixed::{self, AcpiMode, FixedError};
use crate::acpi::slot_check::{self, MadtView, Mismatch, SlotView};
use crate::acpi::{MadtCpu, PlatformHardware, Presence};
use crate::apic::ioapic::{self, IoApicError, IoApicSummary};
use crate::apic::irq_line::{self, IrqLine};
use alloc::vec::Vec;
use core::fmt;

/// Mismatches the boot line lists; the rest are counted.
const MISMATCHES_SHOWN: usize = 4;

/// The FADT's part.
#[derive(Debug)]
pub enum FixedOutcome {
    /// The FADT's blocks cannot be used.
    Unusable(FadtError),
    /// The fixed hardware, the SCI's line and how ACPI mode went.
    Ready {
        /// What the FADT gives.
        hardware: FixedHardware,
        /// The SCI after the MADT's overrides.
        sci: IrqLine,
        /// The switch into ACPI mode (events are silenced after it).
        mode: Result<AcpiMode, FixedError>,
    },
}

/// The CPU hotplug block's part.
#[derive(Clone, Debug)]
pub enum HotplugOutcome {
    /// The DSDT declares no QEMU CPU hotplug block.
    NotDescribed,
    /// The block is declared but did not come up.
    Failed {
        /// Its base port.
        base: u16,
        /// What went wrong.
        error: CpuHotplugError,
    },
    /// Switched, enumerated and cross-checked.
    Ready {
        /// The slots.
        enumeration: Enumeration,
        /// Where slots and MADT disagree (empty: they agree).
        mismatches: Vec<Mismatch>,
    },
}

/// Everything [`init`] did; its `Display` is the boot-log line (without
/// the `acpi: ` prefix the kernel prints before it).
#[derive(Debug)]
pub struct PlatformSetup {
    /// Fixed hardware, SCI, ACPI mode.
    pub fixed: FixedOutcome,
    /// The I/O APICs, all inputs masked.
    pub ioapics: Result<Vec<IoApicSummary>, IoApicError>,
    /// QEMU's CPU hotplug block.
    pub cpu_hotplug: HotplugOutcome,
}

/// Sets the platform up as described above. `cpus` is the MADT's processor
/// list, for the cross-check.
pub fn init(hardware: PlatformHardware, cpus: &[MadtCpu]) -> PlatformSetup {
    let interrupts = hardware.interrupts;
    let ioapics =
        ioapic::init(&interrupts.ioapics, &interrupts.isa_overrides).map(|()| ioapic::summaries());
    let fixed = match hardware.fixed {
        Err(e) => FixedOutcome::Unusable(e),
        Ok(hw) => {
            let mode = fixed::init(hw)
                .and_then(|()| fixed::enable_acpi_mode())
                .and_then(|mode| fixed::disable_all_events().map(|()| mode));
            FixedOutcome::Ready {
                hardware: hw,
                sci: irq_line::sci_line(&interrupts.isa_overrides, hw.sci_int()),
                mode,
            }
        }
    };
    let cpu_hotplug = match hardware.cpu_hotplug {
        None => HotplugOutcome::NotDescribed,
        Some(port) => match cpu_hotplug::init(port) {
            Err(error) => HotplugOutcome::Failed {
                base: port.base(),
                error,
            },
            Ok(enumeration) => HotplugOutcome::Ready {
                mismatches: cross_check(&enumeration, cpus),
                enumeration,
            },
        },
    };
    PlatformSetup {
        fixed,
        ioapics,
        cpu_hotplug,
    }
}

fn cross_check(enumeration: &Enumeration, cpus: &[MadtCpu]) -> Vec<Mismatch> {
    let slots: Vec<SlotView> = enumeration
        .slots
        .iter()
        .map(|s| SlotView {
            slot: s.slot,
            apic_id: s.apic_id,
            present: s.status.enabled,
        })
        .collect();
    let madt: Vec<MadtView> = cpus
        .iter()
        .map(|c| MadtView {
            apic_id: c.apic_id.0,
            enabled: c.presence == Presence::Present,
        })
        .collect();
    slot_check::cross_check(&slots, &madt)
}

impl fmt::Display for FixedOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hardware, sci, mode) = match self {
            FixedOutcome::Unusable(e) => return write!(f, "fadt unusable: {e}"),
            FixedOutcome::Ready {
                hardware,
                sci,
                mode,
            } => (hardware, sci, mode),
        };
        write!(
            f,
            "sci irq {} (gsi {}, {}, {}), ",
            hardware.sci_int(),
            sci.gsi,
            sci.trigger.name(),
            sci.polarity.name()
        )?;
        match mode {
            Ok(AcpiMode::Switched) => write!(f, "acpi mode switched")?,
            Ok(AcpiMode::AlreadyOn) => write!(f, "acpi mode already on")?,
            Err(e) => write!(f, "acpi mode error: {e}")?,
        }
        match hardware.gpe0() {
            Some(gpe0) => write!(f, ", gpe0 {:#x}+{}", gpe0.port(), gpe0.len()),
            None => write!(f, ", gpe0 none"),
        }
    }
}

impl fmt::Display for HotplugOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HotplugOutcome::NotDescribed => write!(f, "cpu hotplug: none in dsdt"),
            HotplugOutcome::Failed { base, error } => write!(f, "cpu hotplug {base:#x}: {error}"),
            HotplugOutcome::Ready {
                enumeration,
                mismatches,
            } => {
                write!(
                    f,
                    "cpu hotplug {:#x} (was {}): {} slots, {} present, madt ",
                    enumeration.base,
                    if enumeration.was_legacy {
                        "legacy"
                    } else {
                        "modern"
                    },
                    enumeration.slots.len(),
                    enumeration.present()
                )?;
                if mismatches.is_empty() {
                    return write!(f, "ok");
                }
                write!(f, "mismatch:")?;
                for (i, m) in mismatches.iter().take(MISMATCHES_SHOWN).enumerate() {
                    write!(f, "{} {m}", if i == 0 { "" } else { ";" })?;
                }
                match mismatches.len().checked_sub(MISMATCHES_SHOWN) {
                    Some(more) if more > 0 => write!(f, "; {more} more"),
                    _ => Ok(()),
                }
            }
        }
    }
}

impl fmt::Display for PlatformSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, ", self.fixed)?;
        match &self.ioapics {
            Ok(ioapics) => {
                for a in ioapics {
                    write!(
                        f,
                        "ioapic {} at {:#x} gsi {}-{} v{:#x}, ",
                        a.id,
                        a.address,
                        a.gsi_base,
                        a.gsi_last(),
                        a.version
                    )?;
                }
            }
            Err(e) => write!(f, "ioapic error: {e}, ")?,
        }
        write!(f, "{}", self.cpu_hotplug)
    }
}
