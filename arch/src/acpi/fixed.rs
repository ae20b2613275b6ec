//! ACPI fixed hardware at run time: the switch into ACPI mode
//! ([`enable_acpi_mode`]) and the GPE helpers (enable, disable, read and
//! clear one GPE), on the blocks the FADT gives ([`super::fadt`]).
//!
//! It never decides which GPE matters or what its event means: the kernel
//! does (QEMU raises GPE 2 for CPU hotplug). Only the FADT's own ports are
//! ever touched: a [`FixedHardware`] is made by `acpi::discover` alone.

use super::fadt::{FixedHardware, IoBlock};
use super::fixed_regs::{self as regs, GpeBits};
use crate::time::Deadline;
use spin::{Mutex, Once};
use x86_64::instructions::port::Port;

/// How long the firmware gets to set SCI_EN after the ACPI_ENABLE write
/// (QEMU does it in the write itself; real firmware runs an SMI handler).
const SCI_EN_TIMEOUT_US: u64 = 500_000;

/// How the machine got into ACPI mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiMode {
    /// SCI_EN was set already (firmware left the machine in ACPI mode).
    AlreadyOn,
    /// This crate wrote ACPI_ENABLE to SMI_CMD and SCI_EN came on.
    Switched,
}

/// Why a fixed-hardware operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedError {
    /// [`init`] has not run.
    NotInitialised,
    /// [`init`] ran before.
    AlreadyInitialised,
    /// SCI_EN is clear and the FADT gives no SMI_CMD or ACPI_ENABLE.
    NoSmiCmd,
    /// SCI_EN still clear this long after the ACPI_ENABLE write.
    Timeout {
        /// How long we waited.
        waited_us: u64,
    },
    /// The machine has no GPE0 block.
    NoGpe0,
    /// GPE0 has no such GPE.
    NoSuchGpe(u16),
}

impl core::fmt::Display for FixedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FixedError::NotInitialised => write!(f, "fixed hardware not set up"),
            FixedError::AlreadyInitialised => write!(f, "fixed hardware already set up"),
            FixedError::NoSmiCmd => write!(f, "SCI_EN clear and no SMI_CMD to enable it"),
            FixedError::Timeout { waited_us } => {
                write!(
                    f,
                    "SCI_EN still clear {} ms after ACPI_ENABLE",
                    waited_us / 1000
                )
            }
            FixedError::NoGpe0 => write!(f, "no GPE0 block"),
            FixedError::NoSuchGpe(n) => write!(f, "GPE0 has no GPE {n}"),
        }
    }
}

struct Fixed {
    hw: FixedHardware,
    /// Serialises read-modify-write of the GPE enable bytes, which an SCI
    /// handler on another CPU may do at the same time.
    gpe: Mutex<()>,
}

static FIXED: Once<Fixed> = Once::new();

/// Keeps the FADT's fixed hardware for the functions below. Once only.
pub fn init(hw: FixedHardware) -> Result<(), FixedError> {
    let mut first = false;
    FIXED.call_once(|| {
        first = true;
        Fixed {
            hw,
            gpe: Mutex::new(()),
        }
    });
    if first {
        Ok(())
    } else {
        Err(FixedError::AlreadyInitialised)
    }
}

fn fixed() -> Result<&'static Fixed, FixedError> {
    FIXED.get().ok_or(FixedError::NotInitialised)
}

fn read_u16(port: u16) -> u16 {
    // SAFETY: every port passed here lies in a block the FADT gives
    // (`FixedHardware` is made from the firmware's FADT only); reading ACPI
    // fixed registers has no side effects and aliases no Rust memory.
    unsafe { Port::<u16>::new(port).read() }
}

fn write_u16(port: u16, value: u16) {
    // SAFETY: as in `read_u16`; writes only change event enables and
    // clear event status.
    unsafe { Port::<u16>::new(port).write(value) }
}

fn read_u8(port: u16) -> u8 {
    // SAFETY: as in `read_u16`.
    unsafe { Port::<u8>::new(port).read() }
}

fn write_u8(port: u16, value: u8) {
    // SAFETY: as in `write_u16`; for SMI_CMD, the ACPI_ENABLE value the
    // FADT names is the only byte ever written.
    unsafe { Port::<u8>::new(port).write(value) }
}

/// Whether SCI_EN is set (in PM1a, or in PM1b if there is one).
pub fn sci_enabled() -> Result<bool, FixedError> {
    Ok(fixed()?
        .hw
        .pm1_controls()
        .any(|b| read_u16(b.port()) & regs::PM1_CNT_SCI_EN != 0))
}

/// Puts the machine into ACPI mode (ACPI 6.5 16.3.1): nothing to do if
/// SCI_EN is set; else write ACPI_ENABLE to SMI_CMD and wait, with a
/// deadline, for SCI_EN. Polls rather than halts: it runs on the boot CPU
/// before interrupts are on, so nothing could wake a `hlt`, and it waits on
/// firmware, not on another CPU.
pub fn enable_acpi_mode() -> Result<AcpiMode, FixedError> {
    let hw = fixed()?.hw;
    if sci_enabled()? {
        return Ok(AcpiMode::AlreadyOn);
    }
    let smi_cmd = hw.smi_cmd().ok_or(FixedError::NoSmiCmd)?;
    if hw.acpi_enable() == 0 {
        return Err(FixedError::NoSmiCmd);
    }
    write_u8(smi_cmd, hw.acpi_enable());
    let deadline = Deadline::after_us(SCI_EN_TIMEOUT_US);
    loop {
        if sci_enabled()? {
            return Ok(AcpiMode::Switched);
        }
        if deadline.expired() {
            return Err(FixedError::Timeout {
                waited_us: SCI_EN_TIMEOUT_US,
            });
        }
        core::hint::spin_loop();
    }
}

/// Disables every GPE0 and PM1 event and clears their status, so that no
/// SCI is pending when the kernel later routes it; the kernel enables the
/// events it handles one by one.
pub fn disable_all_events() -> Result<(), FixedError> {
    let fixed = fixed()?;
    crate::cpu::without_interrupts(|| {
        let _gpe = fixed.gpe.lock();
        for block in fixed.hw.pm1_events() {
            write_u16(block.port() + regs::pm1_enable_offset(block.len()), 0);
            write_u16(block.port(), 0xffff);
        }
        if let Some(gpe0) = fixed.hw.gpe0() {
            let half = u16::from(gpe0.len()) / 2;
            for byte in 0..half {
                write_u8(gpe0.port() + half + byte, 0);
                write_u8(gpe0.port() + byte, 0xff);
            }
        }
    });
    Ok(())
}

fn gpe_bits(gpe: u16) -> Result<(IoBlock, GpeBits), FixedError> {
    let gpe0 = fixed()?.hw.gpe0().ok_or(FixedError::NoGpe0)?;
    let bits = regs::gpe_bits(gpe0.len(), gpe).ok_or(FixedError::NoSuchGpe(gpe))?;
    Ok((gpe0, bits))
}

fn set_gpe_enable(gpe: u16, enable: bool) -> Result<(), FixedError> {
    let (block, bits) = gpe_bits(gpe)?;
    let lock = &fixed()?.gpe;
    crate::cpu::without_interrupts(|| {
        let _gpe = lock.lock();
        let port = block.port() + bits.enable_offset;
        let old = read_u8(port);
        let new = if enable {
            old | bits.mask
        } else {
            old & !bits.mask
        };
        write_u8(port, new);
    });
    Ok(())
}

/// Lets GPE `gpe` raise the SCI.
pub fn enable_gpe(gpe: u16) -> Result<(), FixedError> {
    set_gpe_enable(gpe, true)
}

/// Stops GPE `gpe` from raising the SCI (its status still latches).
pub fn disable_gpe(gpe: u16) -> Result<(), FixedError> {
    set_gpe_enable(gpe, false)
}

/// Whether GPE `gpe`'s status bit is set.
pub fn gpe_status(gpe: u16) -> Result<bool, FixedError> {
    let (block, bits) = gpe_bits(gpe)?;
    Ok(read_u8(block.port() + bits.status_offset) & bits.mask != 0)
}

/// Clears GPE `gpe`'s status (write 1 to clear: the other GPEs' bits are
/// written 0, which leaves them alone). Clear it after handling the cause,
/// or a level event just sets it again.
pub fn clear_gpe(gpe: u16) -> Result<(), FixedError> {
    let (block, bits) = gpe_bits(gpe)?;
    write_u8(block.port() + bits.status_offset, bits.mask);
    Ok(())
}

/// The fixed hardware [`init`] kept.
pub fn hardware() -> Result<FixedHardware, FixedError> {
    Ok(fixed()?.hw)
}
