//! QEMU's ACPI CPU hotplug register block: where it is, switching it to
//! its modern interface, enumerating the slots, and the per-slot
//! operations an event loop needs (next slot with an event, clear insert
//! or remove, eject, write _OST).
//!
//! The block is driven directly rather than through QEMU's AML (`\_SB.CPUS`
//! methods, `\_GPE._E02`): the `acpi` crate's AML interpreter cannot run
//! them today (no `Notify`). Register layout: [`super::cpu_hotplug_regs`].
//!
//! Where the block is comes from the DSDT ([`super::dsdt`]: 0x0cd8 on q35,
//! 0xaf00 on pc); [`init`] checks that it answers as QEMU's modern
//! interface.
//!
//! Legacy mode: QEMU starts with its legacy interface, a read-only bitmap
//! of present CPUs at the same base, and switches to the modern block when
//! a byte 0 is written at offset 0 (its AML does that in `PRES._INI`); in
//! legacy mode `device_del` of a CPU fails. [`init`] makes that write.
//!
//! Every operation selects its slot itself and runs under one lock with
//! interrupts off, since the selector and command are state shared by all
//! callers.

use super::cpu_hotplug_regs::{self as regs, Command, SlotStatus};
use super::dsdt::CpuHotplugPort;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::{Mutex, Once};
use x86_64::instructions::port::Port;

/// The GPE QEMU raises for every insert or remove event of the block: its
/// DSDT's `\_GPE._E02` calls `\_SB.CPUS.CSCN` (hw/acpi/cpu.c,
/// `build_cpus_aml`), and ICH9 (q35) and PIIX4 (pc) set GPE0 status bit 2
/// (`ACPI_CPU_HOTPLUG_STATUS`, 4) when a vCPU is plugged or asked back.
/// The status is set once per event, not held while events are pending, so
/// clearing it before the block is scanned loses nothing.
pub const GPE: u16 = 2;

/// Enumeration gives up past this many slots (QEMU's q35 allows 4096).
const MAX_SLOTS: u32 = 8192;

/// One slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Its selector value.
    pub slot: u32,
    /// Its architectural id: the APIC id on x86.
    pub apic_id: u64,
    /// Present / event flags.
    pub status: SlotStatus,
}

/// What [`init`] found.
#[derive(Clone, Debug)]
pub struct Enumeration {
    /// The block's base port.
    pub base: u16,
    /// Whether the block was in legacy mode before the switch.
    pub was_legacy: bool,
    /// Every slot, in selector order.
    pub slots: Vec<Slot>,
}

impl Enumeration {
    /// How many slots hold a CPU.
    pub fn present(&self) -> usize {
        self.slots.iter().filter(|s| s.status.enabled).count()
    }
}

/// Why a hotplug block operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuHotplugError {
    /// [`init`] has not run or failed.
    NotInitialised,
    /// [`init`] ran before.
    AlreadyInitialised,
    /// After the switch the block does not answer as QEMU's modern
    /// interface: what command data 2 and slot 0's status read.
    NoAnswer {
        /// Command data 2 after command 0 (must be 0).
        command_data_2: u32,
        /// Slot 0's status byte (must say present).
        slot0_status: u8,
    },
    /// No end of the slot list below [`MAX_SLOTS`].
    NoEnd,
    /// No such slot.
    NoSuchSlot(u32),
    /// QEMU left the CPU in the slot after the eject (it refuses the boot
    /// CPU, and an empty slot).
    EjectRefused(u32),
}

impl core::fmt::Display for CpuHotplugError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CpuHotplugError::NotInitialised => write!(f, "cpu hotplug block not set up"),
            CpuHotplugError::AlreadyInitialised => write!(f, "cpu hotplug block already set up"),
            CpuHotplugError::NoAnswer {
                command_data_2,
                slot0_status,
            } => write!(
                f,
                "no answer (command data 2 {command_data_2:#x}, slot 0 status {slot0_status:#x})"
            ),
            CpuHotplugError::NoEnd => write!(f, "no end of the slot list below {MAX_SLOTS}"),
            CpuHotplugError::NoSuchSlot(s) => write!(f, "no slot {s}"),
            CpuHotplugError::EjectRefused(s) => write!(f, "slot {s} still holds a CPU after eject"),
        }
    }
}

/// The block's registers. Port I/O aliases no Rust memory; the ports are
/// the DSDT's (see [`CpuHotplugPort`]) and QEMU's device only changes vCPU
/// state there, so the accesses below cannot affect memory safety.
struct Block {
    base: u16,
    slots: u32,
}

impl Block {
    fn write_u8(&mut self, offset: u16, value: u8) {
        // SAFETY: see `Block`.
        unsafe { Port::<u8>::new(self.base + offset).write(value) }
    }

    fn read_u8(&mut self, offset: u16) -> u8 {
        // SAFETY: see `Block`.
        unsafe { Port::<u8>::new(self.base + offset).read() }
    }

    fn write_u32(&mut self, offset: u16, value: u32) {
        // SAFETY: see `Block`.
        unsafe { Port::<u32>::new(self.base + offset).write(value) }
    }

    fn read_u32(&mut self, offset: u16) -> u32 {
        // SAFETY: see `Block`.
        unsafe { Port::<u32>::new(self.base + offset).read() }
    }

    fn select(&mut self, slot: u32) {
        self.write_u32(regs::SELECTOR, slot);
    }

    fn command(&mut self, command: Command) {
        self.write_u8(regs::COMMAND, command as u8);
    }

    fn status(&mut self) -> SlotStatus {
        SlotStatus::decode(self.read_u8(regs::FLAGS))
    }

    /// The selected slot's APIC id (changes the command, not the selector).
    fn apic_id(&mut self) -> u64 {
        self.command(Command::GetArchId);
        let low = self.read_u32(regs::COMMAND_DATA);
        let high = self.read_u32(regs::COMMAND_DATA_2);
        regs::arch_id(low, high)
    }

    fn read_slot(&mut self, slot: u32) -> Slot {
        self.select(slot);
        let apic_id = self.apic_id();
        Slot {
            slot,
            apic_id,
            status: self.status(),
        }
    }

    /// Counts slots as the spec's enumeration does: with command 0, command
    /// data reads the selector back while it names a slot, and 0 past the
    /// last one.
    fn count_slots(&mut self) -> Option<u32> {
        self.select(0);
        self.command(Command::NextWithEvent);
        let end = (1..MAX_SLOTS).find(|&i| {
            self.select(i);
            self.read_u32(regs::COMMAND_DATA) != i
        });
        self.select(0);
        end
    }
}

static BLOCK: Once<Mutex<Block>> = Once::new();
/// Claimed by the first [`init`], before it touches a port.
static INIT_CLAIMED: AtomicBool = AtomicBool::new(false);

/// Switches the block to its modern interface, checks that it answers, and
/// enumerates every slot. Runs once; later calls are refused.
pub fn init(port: CpuHotplugPort) -> Result<Enumeration, CpuHotplugError> {
    if INIT_CLAIMED.swap(true, Ordering::AcqRel) {
        return Err(CpuHotplugError::AlreadyInitialised);
    }
    let mut block = Block {
        base: port.base(),
        slots: 0,
    };
    let enumeration = crate::cpu::without_interrupts(|| {
        // Legacy mode reads the present bitmap here (bit 0: the boot CPU);
        // the modern block reads command data 2, which is 0 after any
        // command but 3, and 3 gives the high half of an APIC id: 0 too.
        let was_legacy = block.read_u32(regs::COMMAND_DATA_2) != 0;
        block.write_u8(regs::LEGACY_SWITCH_OFFSET, regs::LEGACY_SWITCH_VALUE);
        block.select(0);
        block.command(Command::NextWithEvent);
        let command_data_2 = block.read_u32(regs::COMMAND_DATA_2);
        // Command 0 may have moved the selector to a slot with an event.
        block.select(0);
        let slot0_status = block.read_u8(regs::FLAGS);
        if !regs::modern_probe_ok(command_data_2, slot0_status) {
            return Err(CpuHotplugError::NoAnswer {
                command_data_2,
                slot0_status,
            });
        }
        block.slots = block.count_slots().ok_or(CpuHotplugError::NoEnd)?;
        let slots = (0..block.slots).map(|i| block.read_slot(i)).collect();
        block.select(0);
        Ok(Enumeration {
            base: port.base(),
            was_legacy,
            slots,
        })
    })?;
    BLOCK.call_once(|| Mutex::new(block));
    Ok(enumeration)
}

fn with_block<R>(f: impl FnOnce(&mut Block) -> R) -> Result<R, CpuHotplugError> {
    let block = BLOCK.get().ok_or(CpuHotplugError::NotInitialised)?;
    Ok(crate::cpu::without_interrupts(|| f(&mut block.lock())))
}

fn with_slot<R>(slot: u32, f: impl FnOnce(&mut Block) -> R) -> Result<R, CpuHotplugError> {
    with_block(|b| {
        if slot >= b.slots {
            return Err(CpuHotplugError::NoSuchSlot(slot));
        }
        b.select(slot);
        Ok(f(b))
    })?
}

/// How many slots there are (QEMU's `maxcpus`).
pub fn slot_count() -> Result<u32, CpuHotplugError> {
    with_block(|b| b.slots)
}

/// Reads one slot now.
pub fn slot(slot: u32) -> Result<Slot, CpuHotplugError> {
    with_slot(slot, |b| b.read_slot(slot))
}

/// The lowest slot with an insert or remove event not yet cleared, if any
/// (the spec's "get a cpu with pending event").
pub fn next_event() -> Result<Option<Slot>, CpuHotplugError> {
    with_block(|b| {
        b.select(0);
        b.command(Command::NextWithEvent);
        let status = b.status();
        if !status.has_event() {
            return None;
        }
        let slot = b.read_u32(regs::COMMAND_DATA);
        Some(Slot {
            slot,
            apic_id: b.apic_id(),
            status,
        })
    })
}

/// Acknowledges slot `slot`'s insert event.
pub fn clear_insert_event(slot: u32) -> Result<(), CpuHotplugError> {
    with_slot(slot, |b| {
        b.write_u8(regs::FLAGS, regs::CONTROL_CLEAR_INSERT)
    })
}

/// Acknowledges slot `slot`'s remove event.
pub fn clear_remove_event(slot: u32) -> Result<(), CpuHotplugError> {
    with_slot(slot, |b| {
        b.write_u8(regs::FLAGS, regs::CONTROL_CLEAR_REMOVE)
    })
}

/// Ejects the CPU in slot `slot`: QEMU unplugs the vCPU (and then emits
/// `DEVICE_DELETED`). The CPU must be offline, parked for good: it stops
/// existing. Checked by reading the slot back.
pub fn eject(slot: u32) -> Result<(), CpuHotplugError> {
    with_slot(slot, |b| {
        b.write_u8(regs::FLAGS, regs::CONTROL_EJECT);
        if b.status().enabled {
            Err(CpuHotplugError::EjectRefused(slot))
        } else {
            Ok(())
        }
    })?
}

/// Reports an _OST event and status for slot `slot`; QEMU emits
/// `ACPI_DEVICE_OST` with both (codes: [`regs::ost_event`],
/// [`regs::ost_status`]).
pub fn write_ost(slot: u32, event: u32, status: u32) -> Result<(), CpuHotplugError> {
    with_slot(slot, |b| {
        b.command(Command::OstEvent);
        b.write_u32(regs::COMMAND_DATA, event);
        b.command(Command::OstStatus);
        b.write_u32(regs::COMMAND_DATA, status);
    })
}
