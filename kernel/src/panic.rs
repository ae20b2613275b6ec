//! Panics are fatal: report on which CPU, with the kernel's crash context,
//! then exit QEMU with the failure code so tests see it.

use arch::exit::{exit_qemu, ExitCode};
use arch::interrupts::{write_crash_context, CrashWriter};
use core::fmt::Write;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    let mut out = CrashWriter;
    let cpu = arch::percpu::current_cpu();
    let _ = writeln!(out, "\nPANIC on {cpu}: {info}");
    write_crash_context(&mut out);
    exit_qemu(ExitCode::Failure)
}
