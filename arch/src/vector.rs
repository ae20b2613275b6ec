//! The interrupt vectors this crate programs into the IDT and the LAPIC.
//!
//! A leaf module on purpose: the LAPIC, the IDT and the SMP code all name
//! these numbers, and none of them may depend on another just for that.
//! High vectors get the highest LAPIC priority class, and none collides with
//! exceptions (0-31) or the masked 8259's range.

/// The ACPI SCI, routed through the I/O APIC (a device vector: inside
/// `apic::ioapic::DEVICE_VECTORS`, below every LAPIC vector here, so a
/// timer or IPI is never held back by it).
pub const SCI: u8 = 0x40;
/// COM1's receive interrupt (ISA IRQ 4) through the I/O APIC, and the IPI
/// that stands for it when a log line wants the console (a device vector,
/// like the SCI).
pub const SERIAL: u8 = 0x41;
/// LAPIC timer (one-shot or TSC-deadline).
pub const TIMER: u8 = 0xf0;
/// "Something changed, re-check your condition": wakes a halted CPU.
pub const WAKE: u8 = 0xf1;
/// Hotplug request from the control CPU.
pub const HOTPLUG: u8 = 0xf2;
/// Stop everything: another CPU crashed.
pub const STOP: u8 = 0xf3;
/// LAPIC internal error (LVT error entry, SDM Vol. 3A 11.5.3).
pub const APIC_ERROR: u8 = 0xfe;
/// Spurious-interrupt vector (SDM Vol. 3A 11.9); needs no EOI.
pub const SPURIOUS: u8 = 0xff;
