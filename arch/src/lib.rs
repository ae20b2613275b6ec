//! Everything x86_64, and the only crate in the workspace with unsafe code.
//!
//! It owns the hardware (serial port, PICs, LAPIC, I/O APICs, ACPI fixed
//! hardware and QEMU's CPU hotplug block, page tables, descriptor tables,
//! the AP trampoline, per-CPU areas, context switches) and offers
//! the kernel safe, typed wrappers: `kernel` forbids unsafe code and
//! `hotplug` has none. It never decides policy: which CPU comes up when,
//! what runs next, or what a command does, belongs to the kernel and the
//! hotplug engine.
//!
//! What holds, exactly:
//! - No sequence of calls to the safe API breaks memory safety, whatever
//!   the arguments, with the one assumption below. Calls that would, or
//!   that would leave a state the soundness arguments here do not cover,
//!   are refused with a typed error and change nothing (a second
//!   `memory::init`, kicking a CPU that is not down or is the caller's own,
//!   adopting a context with saved frames, switching with other guards
//!   held, ...), or, where the call has no error to return, panic: turning
//!   interrupts on while an `IrqGuard` is alive (see [`cpu`]), checked in
//!   release builds too.
//! - The assumption: the first call of [`memory::init`] gets the
//!   bootloader's own `BootInfo`, untouched. Its memory map, direct-map
//!   offset and RSDP are trusted as they are, and the type cannot prove
//!   where a `BootInfo` came from (safe code can build one, and can edit the
//!   real one). The kernel's entry point makes it hold by passing its
//!   `BootInfo` straight to `memory::init` before anything reads or writes
//!   it; every later call is refused. From then on no address reaches this
//!   crate from outside: ACPI starts from the recorded RSDP, the HPET base
//!   is an [`acpi::HpetBase`] only ACPI discovery makes (as are the I/O
//!   APIC addresses, the FADT's ports and the CPU hotplug block's port),
//!   and the trampoline pages are a `LowPages` only `memory::init` makes.
//! - Frames a CPU was running when it got INIT (forced down, or parked
//!   mid-flight) are void and their memory is reused; why that is sound is
//!   written down once, in [`context`].
//! - Beyond memory safety nothing is promised against a caller bent on
//!   misuse: forcing a live CPU down with `smp::wait_parked` leaves the
//!   locks it held held, which can stall the kernel but corrupts nothing.
//!
//! CPUs are named two ways here, never mixed up: the kernel's dense logical
//! CPU index (a plain `usize`, 0 for the boot CPU) and the firmware's sparse
//! [`ApicId`].
#![no_std]
#![feature(abi_x86_interrupt)]
#![warn(missing_docs)]

extern crate alloc;

pub mod acpi;
mod ap_failure;
mod ap_slots;
pub mod apic;
pub mod context;
pub mod cpu;
mod cpuid;
pub mod exit;
mod gdt;
mod halt;
pub mod install;
pub mod interrupts;
mod kick_error;
pub mod memory;
pub mod percpu;
pub mod pic;
pub mod platform;
pub mod serial;
pub mod smp;
mod smp_ap;
pub mod smp_trace;
pub mod time;
pub mod topology;
mod trampoline;
pub mod vector;

pub use cpuid::ApicId;
