//! Panics are fatal: report on which CPU, with the kernel's crash context,
//! then exit QEMU with the failure code so tests see it.
//!
//! The report goes out through arch's crash writer, which first writes
//! what the log buffer still holds (best effort, bounded tries), so the
//! lines logged before the panic come out before it, not never.

use arch::exit::{exit_qemu, ExitCode};
use arch::interrupts::{write_crash_context, write_panic_registers, CrashWriter};
use core::fmt::Write;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    let mut out = CrashWriter;
    // Only the boot CPU runs code without a per-CPU area: the few
    // instructions before `kernel_main` adopts one.
    let cpu = arch::percpu::try_current().map_or(hotplug::CpuId::BOOT, |area| {
        hotplug::CpuId(area.index() as u32)
    });
    let _ = writeln!(out, "\nPANIC on {cpu}: {info}");
    let registers = write_panic_registers(&mut out);
    write_crash_context(&mut out, registers);
    exit_qemu(ExitCode::Failure)
}
