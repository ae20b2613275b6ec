//! Everything x86_64, and the only crate in the workspace with unsafe code.
//!
//! It owns the hardware (serial port, PICs, LAPIC, page tables, descriptor
//! tables, the AP trampoline, per-CPU areas, context switches) and offers
//! the kernel safe, typed wrappers whose soundness does not depend on the
//! caller: `kernel` forbids unsafe code and `hotplug` has none. It never
//! decides policy: which CPU comes up when, what runs next, or what a
//! command does, belongs to the kernel and the hotplug engine.
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
pub mod apic;
pub mod context;
pub mod cpu;
mod cpuid;
pub mod exit;
mod gdt;
mod halt;
pub mod install;
pub mod interrupts;
pub mod memory;
pub mod percpu;
pub mod pic;
pub mod serial;
pub mod smp;
pub mod time;
mod trampoline;
pub mod vector;

pub use cpuid::ApicId;
