//! Host-side tooling for the hotplug kernel: disk images, the QEMU command
//! line, and a serial-console driver for tests.
//!
//! This crate runs on the build machine only. It owns how the kernel is
//! packaged and started; it must never contain kernel logic, and every QEMU
//! invocation (runner and tests alike) goes through [`qemu::QemuConfig`].
//!
//! - [`qemu`]: the QEMU command line and exit-status meaning.
//! - [`console`]: a running guest driven through its serial console.
//! - [`debug`]: the gdb side of `make debug`.
//! - [`cpu_table`]: the `cpus` command's table and the boot expectation.
//! - [`topology`]: QEMU `-smp` strings and the APIC ids they imply.
//! - [`trace`]: the kernel's hotplug trace dump, parsed and written as
//!   Chrome Trace Event JSON.
//! - [`qmp`]: a QMP client (commands, events) for tests that drive QEMU.
//! - [`views`]: the `threads`, `timers` and `work` views, parsed.

pub mod bench;
pub mod console;
pub mod cpio;
pub mod cpu_table;
pub mod debug;
pub mod qemu;
pub mod qmp;
pub mod topology;
pub mod trace;
pub mod views;
