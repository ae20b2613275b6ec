//! Leaving QEMU through its `isa-debug-exit` device.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`;
//! writing `v` there makes QEMU exit with status `(v << 1) | 1`.

use x86_64::instructions::port::Port;

const ISA_DEBUG_EXIT_PORT: u16 = 0xf4;

/// The two outcomes the host side tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// QEMU exit status 33.
    Success = 0x10,
    /// QEMU exit status 35.
    Failure = 0x11,
}

/// Exits QEMU. On hardware without the device this just halts forever.
pub fn exit_qemu(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(ISA_DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device; on machines without
    // it, the write goes to an unused I/O port and has no effect.
    unsafe { port.write(code as u32) };
    crate::cpu::halt_forever()
}
