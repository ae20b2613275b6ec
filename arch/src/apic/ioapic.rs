//! The I/O APICs: every one the MADT lists, its inputs (GSIs) and the
//! routing of a line to a CPU's vector.
//!
//! [`init`] maps each I/O APIC's register page uncached and masks every
//! redirection entry; from then on a line delivers only after [`route`] (or
//! [`route_isa`]) programmed it and [`unmask`] opened it. [`retarget`]
//! moves a line to another CPU without touching its mask, for migrating
//! interrupts off a CPU that goes offline. This module never picks a CPU or
//! a vector itself: the kernel decides both.
//!
//! Destinations: the RTE's physical destination field is 8 bits in xAPIC and
//! in x2APIC mode alike (without interrupt remapping, which this crate does
//! not set up), and 0xff means "all CPUs". So only APIC ids up to 254 can be
//! targeted, in either mode; others are refused with
//! [`IoApicError::Unreachable`].
//!
//! End of interrupt: for a level-triggered line the I/O APIC holds Remote
//! IRR until an EOI for the line's vector reaches it. The LAPIC broadcasts
//! every EOI of a level-triggered interrupt to all I/O APICs unless SVR bit
//! 12 (suppress EOI broadcast, SDM Vol. 3A 11.8.5) is set, which this crate
//! never sets, so [`crate::apic::end_of_interrupt`] is the whole EOI. That
//! holds for QEMU's version 0x20 I/O APIC too: its EOI register (0x40) only
//! matters with directed EOI, which stays off. Because the broadcast EOI is
//! matched by vector, two level-triggered lines must not share a vector.

use super::ioapic_regs::{self as regs, Redirection, MAX_RTE_DESTINATION};
use super::irq_line::{self, IrqLine, IsaOverride};
use crate::acpi::madt_irq::IoApicInfo;
use crate::memory::{vm, MemoryError};
use crate::{vector, ApicId};
use alloc::vec::Vec;
use core::ops::RangeInclusive;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::{Mutex, Once};

/// Vectors a device line may be given: above the exceptions (0-31) and
/// below the LAPIC vectors this crate owns ([`vector::TIMER`] and up).
pub const DEVICE_VECTORS: RangeInclusive<u8> = 0x20..=(vector::TIMER - 1);

/// One I/O APIC after [`init`], for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApicSummary {
    /// The id the MADT gives it.
    pub id: u8,
    /// Physical address of its register page.
    pub address: u64,
    /// Its first input's GSI.
    pub gsi_base: u32,
    /// How many inputs it has.
    pub entries: u16,
    /// Its IOAPICVER version (QEMU: 0x20).
    pub version: u8,
}

impl IoApicSummary {
    /// The last GSI it serves.
    pub fn gsi_last(&self) -> u32 {
        self.gsi_base + u32::from(self.entries) - 1
    }
}

/// A line's entry as read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineState {
    /// What is programmed; `None` if firmware left a mode this crate never
    /// writes (logical destination, non-fixed delivery).
    pub redirection: Option<Redirection>,
    /// Level lines: delivered and not yet EOI'd.
    pub remote_irr: bool,
    /// On its way to a LAPIC.
    pub delivery_pending: bool,
}

/// Why an I/O APIC operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoApicError {
    /// [`init`] has not run (or found no I/O APIC).
    NotInitialised,
    /// [`init`] ran before; the I/O APICs are set up once.
    AlreadyInitialised,
    /// The MADT lists no I/O APIC.
    NoIoApic,
    /// No I/O APIC has an input for this GSI.
    NoSuchGsi(u32),
    /// The APIC id does not fit an RTE's 8-bit physical destination.
    Unreachable(ApicId),
    /// The vector is outside [`DEVICE_VECTORS`].
    BadVector(u8),
    /// Mapping a register page failed.
    Map(MemoryError),
    /// An entry read back unmasked right after [`init`] masked it.
    MaskIgnored(u32),
}

impl core::fmt::Display for IoApicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IoApicError::NotInitialised => write!(f, "I/O APICs not set up"),
            IoApicError::AlreadyInitialised => write!(f, "I/O APICs already set up"),
            IoApicError::NoIoApic => write!(f, "the MADT lists no I/O APIC"),
            IoApicError::NoSuchGsi(gsi) => write!(f, "no I/O APIC input for GSI {gsi}"),
            IoApicError::Unreachable(id) => write!(
                f,
                "APIC id {id} does not fit an I/O APIC destination (at most {MAX_RTE_DESTINATION})"
            ),
            IoApicError::BadVector(v) => write!(
                f,
                "vector {v:#x} is not a device vector ({:#x}-{:#x})",
                DEVICE_VECTORS.start(),
                DEVICE_VECTORS.end()
            ),
            IoApicError::Map(e) => write!(f, "cannot map I/O APIC registers: {e}"),
            IoApicError::MaskIgnored(gsi) => write!(f, "GSI {gsi} reads back unmasked"),
        }
    }
}

/// The indirect register window of one I/O APIC. IOREGSEL and IOWIN are a
/// pair, so every access goes through the lock around it.
struct Window {
    /// Virtual address of the uncached register page.
    base: u64,
}

impl Window {
    fn read(&mut self, reg: u32) -> u32 {
        // SAFETY: `base` maps the I/O APIC's register page uncached (see
        // `init`: the address is the MADT's, so no Rust object lives
        // there); IOREGSEL and IOWIN are 32-bit registers at aligned
        // offsets inside it; `&mut self` behind the lock makes the
        // select-then-read pair atomic with respect to other users.
        unsafe {
            core::ptr::write_volatile((self.base + regs::IOREGSEL) as *mut u32, reg);
            core::ptr::read_volatile((self.base + regs::IOWIN) as *const u32)
        }
    }

    fn write(&mut self, reg: u32, value: u32) {
        // SAFETY: as in `read`; writing a redirection entry only changes
        // where and whether interrupts are delivered.
        unsafe {
            core::ptr::write_volatile((self.base + regs::IOREGSEL) as *mut u32, reg);
            core::ptr::write_volatile((self.base + regs::IOWIN) as *mut u32, value);
        }
    }
}

struct IoApic {
    summary: IoApicSummary,
    window: Mutex<Window>,
}

struct Router {
    ioapics: Vec<IoApic>,
    overrides: Vec<IsaOverride>,
}

static ROUTER: Once<Router> = Once::new();
/// Claimed by the first [`init`], before it touches any register.
static INIT_CLAIMED: AtomicBool = AtomicBool::new(false);

/// Maps every I/O APIC, reads how many inputs each has, and masks every
/// redirection entry, checking each reads back masked. Runs once; later
/// calls are refused.
pub fn init(ioapics: &[IoApicInfo], overrides: &[IsaOverride]) -> Result<(), IoApicError> {
    if INIT_CLAIMED.swap(true, Ordering::AcqRel) {
        return Err(IoApicError::AlreadyInitialised);
    }
    if ioapics.is_empty() {
        return Err(IoApicError::NoIoApic);
    }
    let mut mapped = Vec::with_capacity(ioapics.len());
    for info in ioapics {
        // The address is the MADT's (only `acpi::discover` makes an
        // `IoApicInfo`), so this maps device registers, never RAM.
        let base = vm::map_mmio(info.address(), 1).map_err(IoApicError::Map)?;
        let mut window = Window {
            base: base.as_u64(),
        };
        let version = regs::decode_version(window.read(regs::REG_VERSION));
        for entry in 0..version.entries {
            // Mask first, then clear the rest: never a moment with a
            // half-written entry unmasked.
            window.write(regs::rte_low(entry), regs::RTE_MASKED);
            window.write(regs::rte_high(entry), 0);
            if window.read(regs::rte_low(entry)) & regs::RTE_MASKED == 0 {
                return Err(IoApicError::MaskIgnored(info.gsi_base() + u32::from(entry)));
            }
        }
        mapped.push(IoApic {
            summary: IoApicSummary {
                id: info.id(),
                address: info.address().as_u64(),
                gsi_base: info.gsi_base(),
                entries: version.entries,
                version: version.version,
            },
            window: Mutex::new(window),
        });
    }
    ROUTER.call_once(|| Router {
        ioapics: mapped,
        overrides: overrides.to_vec(),
    });
    Ok(())
}

fn router() -> Result<&'static Router, IoApicError> {
    ROUTER.get().ok_or(IoApicError::NotInitialised)
}

/// Every I/O APIC, in MADT order.
pub fn summaries() -> Vec<IoApicSummary> {
    router()
        .map(|r| r.ioapics.iter().map(|a| a.summary).collect())
        .unwrap_or_default()
}

/// ISA IRQ `irq` after the MADT's overrides (QEMU: IRQ 0 is GSI 2).
pub fn isa_line(irq: u8) -> Result<IrqLine, IoApicError> {
    Ok(irq_line::isa_line(&router()?.overrides, irq))
}

/// The SCI, from the FADT's SCI_INT, after the MADT's overrides (QEMU:
/// IRQ 9, GSI 9, level, active high).
pub fn sci_line(sci_int: u16) -> Result<IrqLine, IoApicError> {
    Ok(irq_line::sci_line(&router()?.overrides, sci_int))
}

/// Runs `f` on the window of the I/O APIC serving `gsi`, with its entry
/// index, interrupts off (an interrupt handler on this CPU may use the same
/// lock).
fn with_entry<R>(gsi: u32, f: impl FnOnce(&mut Window, u16) -> R) -> Result<R, IoApicError> {
    let ioapic = router()?
        .ioapics
        .iter()
        .find(|a| gsi >= a.summary.gsi_base && gsi <= a.summary.gsi_last())
        .ok_or(IoApicError::NoSuchGsi(gsi))?;
    let entry = (gsi - ioapic.summary.gsi_base) as u16;
    Ok(crate::cpu::without_interrupts(|| {
        f(&mut ioapic.window.lock(), entry)
    }))
}

/// Whether an I/O APIC entry can name `dest` (without interrupt
/// remapping, only the 8-bit ids up to 254).
pub fn can_reach(dest: ApicId) -> bool {
    destination(dest).is_ok()
}

fn destination(dest: ApicId) -> Result<u8, IoApicError> {
    if dest.0 <= MAX_RTE_DESTINATION {
        Ok(dest.0 as u8)
    } else {
        Err(IoApicError::Unreachable(dest))
    }
}

/// Programs `line` to deliver `vector` to the CPU with APIC id `dest`, with
/// the line's polarity and trigger mode, and leaves it masked: the caller
/// installs its handler, then calls [`unmask`].
pub fn route(line: IrqLine, dest: ApicId, vector: u8) -> Result<(), IoApicError> {
    if !DEVICE_VECTORS.contains(&vector) {
        return Err(IoApicError::BadVector(vector));
    }
    let destination = destination(dest)?;
    let (low, high) = Redirection {
        vector,
        polarity: line.polarity,
        trigger: line.trigger,
        masked: true,
        destination,
    }
    .encode();
    with_entry(line.gsi, |w, entry| {
        // Masked before anything else changes, so no interrupt is
        // delivered from a half-written entry.
        w.write(regs::rte_low(entry), regs::RTE_MASKED);
        w.write(regs::rte_high(entry), high);
        w.write(regs::rte_low(entry), low);
    })
}

/// [`route`] for ISA IRQ `irq`, through the MADT's overrides; returns the
/// line it programmed.
pub fn route_isa(irq: u8, dest: ApicId, vector: u8) -> Result<IrqLine, IoApicError> {
    let line = isa_line(irq)?;
    route(line, dest, vector)?;
    Ok(line)
}

/// Lets `gsi` deliver.
pub fn unmask(gsi: u32) -> Result<(), IoApicError> {
    set_masked(gsi, false)
}

/// Stops `gsi` from delivering. A level-triggered line that is still
/// asserted delivers again once unmasked.
pub fn mask(gsi: u32) -> Result<(), IoApicError> {
    set_masked(gsi, true)
}

fn set_masked(gsi: u32, masked: bool) -> Result<(), IoApicError> {
    with_entry(gsi, |w, entry| {
        let low = w.read(regs::rte_low(entry));
        w.write(regs::rte_low(entry), regs::with_mask(low, masked));
    })
}

/// Sends `gsi` to the CPU with APIC id `dest` from now on, keeping vector,
/// mode and mask. Only the high dword changes, in one write, so the entry
/// is never half old and half new. An interrupt already delivered to the
/// old CPU is still that CPU's to EOI, and a level-triggered line stays
/// blocked (Remote IRR, see [`line_state`]) until it does: retarget while
/// the old CPU still takes interrupts.
pub fn retarget(gsi: u32, dest: ApicId) -> Result<(), IoApicError> {
    let destination = destination(dest)?;
    with_entry(gsi, |w, entry| {
        w.write(regs::rte_high(entry), regs::destination_high(destination));
    })
}

/// Reads `gsi`'s entry back.
pub fn line_state(gsi: u32) -> Result<LineState, IoApicError> {
    with_entry(gsi, |w, entry| {
        let low = w.read(regs::rte_low(entry));
        let high = w.read(regs::rte_high(entry));
        LineState {
            redirection: Redirection::decode(low, high),
            remote_irr: low & regs::RTE_REMOTE_IRR != 0,
            delivery_pending: low & regs::RTE_DELIVERY_PENDING != 0,
        }
    })
}

/// Masks every input of every I/O APIC.
pub fn mask_all() -> Result<(), IoApicError> {
    for ioapic in &router()?.ioapics {
        crate::cpu::without_interrupts(|| {
            let mut w = ioapic.window.lock();
            for entry in 0..ioapic.summary.entries {
                let low = w.read(regs::rte_low(entry));
                w.write(regs::rte_low(entry), regs::with_mask(low, true));
            }
        });
    }
    Ok(())
}
