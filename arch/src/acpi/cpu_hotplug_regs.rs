//! The layout of QEMU's ACPI CPU hotplug register block (QEMU
//! `docs/specs/acpi_cpu_hotplug.rst`, implemented in `hw/acpi/cpu.c`; the
//! legacy bitmap in `hw/acpi/cpu_hotplug.c`) and the _OST codes written
//! through it (ACPI 6.5 6.3.5, Linux `include/linux/acpi.h`).
//!
//! Pure encoding, no port I/O and no `crate::` imports, so the host tests
//! compile this very file (`boot/tests/acpi_platform.rs`).
//!
//! The block is one CPU slot at a time: a write to the selector picks the
//! slot, and the status, control, command and data registers then act on
//! it. Reads with a selector past the last slot return 0 and writes other
//! than to the selector are ignored: that is how enumeration finds the end.

/// Length of the modern register block (`ACPI_CPU_HOTPLUG_REG_LEN`).
pub const MODERN_BLOCK_LEN: u32 = 12;
/// Length of the legacy present-CPU bitmap at the same base, which QEMU
/// decodes instead of the modern block until the guest switches.
pub const LEGACY_BLOCK_LEN: u32 = 32;

/// Legacy mode: a byte 0 written at offset 0 switches QEMU to the modern
/// block ("firmware never used to write in CPU present bitmap", so QEMU
/// takes that write as the switch). In modern mode the same write selects
/// slot 0, which is harmless, so it is safe to send either way.
pub const LEGACY_SWITCH_OFFSET: u16 = 0x0;
/// The byte value of the switch.
pub const LEGACY_SWITCH_VALUE: u8 = 0;

/// Write, dword: the slot selector, `0 .. slots`.
pub const SELECTOR: u16 = 0x0;
/// Read, dword: command data 2. 0 after command 0; the APIC id's upper
/// 32 bits after command 3.
pub const COMMAND_DATA_2: u16 = 0x0;
/// Read: slot status; write: slot control. One byte.
pub const FLAGS: u16 = 0x4;
/// Write, byte: the command.
pub const COMMAND: u16 = 0x5;
/// Read/write, dword: command data (see [`Command`]).
pub const COMMAND_DATA: u16 = 0x8;

/// Status bit 0: a CPU is in the slot ("enabled and may be used").
const STATUS_ENABLED: u8 = 1 << 0;
/// Status bit 1: insert event not yet handled (valid with bit 0).
const STATUS_INSERT: u8 = 1 << 1;
/// Status bit 2: remove event (a `device_del`) not yet handled.
const STATUS_REMOVE: u8 = 1 << 2;
/// Status bit 4: firmware was asked to do the eject (OVMF with SMM).
const STATUS_FIRMWARE_EJECT: u8 = 1 << 4;

/// Control bit 1: clears the insert event.
pub const CONTROL_CLEAR_INSERT: u8 = 1 << 1;
/// Control bit 2: clears the remove event.
pub const CONTROL_CLEAR_REMOVE: u8 = 1 << 2;
/// Control bit 3: ejects the CPU (QEMU unplugs the vCPU; it refuses the
/// boot CPU and an empty slot without a word). QEMU acts on one control bit
/// per write, the lowest set, so every write here sets exactly one.
pub const CONTROL_EJECT: u8 = 1 << 3;

/// The commands (written to [`COMMAND`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    /// Moves the selector to the next slot with an insert or remove event,
    /// searching from the current one and wrapping; the selector stays put
    /// if there is none. [`COMMAND_DATA`] then reads the selector.
    NextWithEvent = 0,
    /// [`COMMAND_DATA`] writes set the slot's _OST event.
    OstEvent = 1,
    /// [`COMMAND_DATA`] writes set the slot's _OST status, and QEMU emits
    /// `ACPI_DEVICE_OST` with both.
    OstStatus = 2,
    /// [`COMMAND_DATA`] / [`COMMAND_DATA_2`] read the slot's architectural
    /// id's low / high 32 bits (x86: the APIC id).
    GetArchId = 3,
}

/// A slot's status byte, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotStatus {
    /// A CPU is in the slot.
    pub enabled: bool,
    /// Hot-added and not yet acknowledged.
    pub insert_event: bool,
    /// Asked to be removed and not yet acknowledged.
    pub remove_event: bool,
    /// Firmware was handed the eject.
    pub firmware_eject: bool,
}

impl SlotStatus {
    /// Decodes the status byte; reserved bits are ignored.
    pub fn decode(raw: u8) -> SlotStatus {
        SlotStatus {
            enabled: raw & STATUS_ENABLED != 0,
            insert_event: raw & STATUS_INSERT != 0,
            remove_event: raw & STATUS_REMOVE != 0,
            firmware_eject: raw & STATUS_FIRMWARE_EJECT != 0,
        }
    }

    /// Whether [`Command::NextWithEvent`] stopped on this slot for a reason.
    pub fn has_event(&self) -> bool {
        self.insert_event || self.remove_event
    }
}

/// The 64-bit architectural id from [`Command::GetArchId`]'s two halves.
pub fn arch_id(low: u32, high: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// What the modern-mode probe read after selector 0 and command 0: command
/// data 2 must be 0 (legacy mode reads the present bitmap there, whose bit
/// 0 is the boot CPU; a port nobody decodes reads all ones), and slot 0,
/// which holds the boot CPU, must be enabled.
pub fn modern_probe_ok(command_data_2: u32, slot0_status: u8) -> bool {
    command_data_2 == 0 && SlotStatus::decode(slot0_status).enabled && slot0_status != 0xff
}

/// _OST source events (ACPI 6.5 6.3.5.1): the notification codes, and the
/// OSPM actions from 0x100.
pub mod ost_event {
    /// Device check: a CPU was inserted.
    pub const DEVICE_CHECK: u32 = 0x01;
    /// Eject request: the platform asks for the CPU back.
    pub const EJECT_REQUEST: u32 = 0x03;
    /// OSPM ejection processing.
    pub const EJECT_PROCESSING: u32 = 0x103;
    /// OSPM insertion processing.
    pub const INSERTION_PROCESSING: u32 = 0x200;
}

/// _OST status codes (ACPI 6.5 6.3.5.2).
pub mod ost_status {
    /// Success.
    pub const SUCCESS: u32 = 0x00;
    /// Non-specific failure.
    pub const FAILURE: u32 = 0x01;
    /// Unrecognised notify code.
    pub const UNRECOGNISED_NOTIFY: u32 = 0x02;
    /// Eject request: ejection not supported by OSPM.
    pub const EJECT_NOT_SUPPORTED: u32 = 0x80;
    /// Eject request: device in use by an application.
    pub const DEVICE_IN_USE: u32 = 0x81;
    /// Eject request: device busy.
    pub const DEVICE_BUSY: u32 = 0x82;
    /// Eject request: ejection in progress (pending).
    pub const EJECT_IN_PROGRESS: u32 = 0x84;
    /// Insertion: device driver load failure.
    pub const DRIVER_LOAD_FAILURE: u32 = 0x81;
}
