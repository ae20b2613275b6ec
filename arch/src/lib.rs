//! Everything x86_64: the only crate in the workspace with unsafe code.
//!
//! It owns the hardware (serial port, PICs, LAPIC, page tables, descriptor
//! tables, the AP trampoline) and offers the kernel safe, typed wrappers.
//! It never decides policy: which CPU comes up when, or what a command does,
//! belongs to the kernel and the hotplug engine.
#![no_std]
#![feature(abi_x86_interrupt)]

extern crate alloc;

pub mod acpi;
pub mod apic;
pub mod context;
pub mod cpu;
pub mod exit;
pub mod gdt;
pub mod interrupts;
pub mod memory;
pub mod percpu;
pub mod pic;
pub mod serial;
pub mod smp;
pub mod time;
mod trampoline;

pub use cpu::ApicId;
pub use hotplug::CpuId;
