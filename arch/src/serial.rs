//! The COM1 serial port: the console's only input and output.
//!
//! Output is serialized by one lock so lines from different CPUs do not
//! interleave mid-line. The lock is taken with interrupts off, so an
//! interrupt handler that prints cannot deadlock against its own CPU.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use uart_16550::SerialPort;

const COM1: u16 = 0x3f8;

static PORT: Mutex<Option<SerialPort>> = Mutex::new(None);

/// Programs the UART (115200 8N1, FIFOs on). Called once by the boot CPU.
pub fn init() {
    // SAFETY: 0x3f8 is the standard COM1 base; nothing else in the kernel
    // drives these I/O ports.
    let mut port = unsafe { SerialPort::new(COM1) };
    port.init();
    *PORT.lock() = Some(port);
}

/// Adds the carriage return a terminal needs before every line feed.
struct CrLf<'a>(&'a mut SerialPort);

impl Write for CrLf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.0.send_raw(b'\r');
            }
            self.0.send_raw(b);
        }
        Ok(())
    }
}

/// Writes formatted text; `\n` becomes CRLF on the wire.
pub fn write_fmt(args: fmt::Arguments) {
    crate::cpu::without_interrupts(|| {
        if let Some(port) = PORT.lock().as_mut() {
            let _ = CrLf(port).write_fmt(args);
        }
    });
}

/// Writes raw bytes, untouched (used to echo console input).
pub fn write_bytes(bytes: &[u8]) {
    crate::cpu::without_interrupts(|| {
        if let Some(port) = PORT.lock().as_mut() {
            for &b in bytes {
                port.send_raw(b);
            }
        }
    });
}

/// Returns the next received byte, if one is waiting.
pub fn try_read_byte() -> Option<u8> {
    crate::cpu::without_interrupts(|| PORT.lock().as_mut().and_then(|p| p.try_receive().ok()))
}

/// Set once a crash report has taken the lock for good.
static CRASH_HOLDS_PORT: AtomicBool = AtomicBool::new(false);
/// How long a crash report waits for the lock: far longer than any line
/// takes to print, short enough when the holder is the CPU that died.
const CRASH_LOCK_SPINS: u32 = 1_000_000;

/// Writes to the port even if another CPU died holding the lock.
///
/// Only for the crash path, where the machine is about to exit anyway. The
/// lock is never forced. The first crash write waits (bounded) for the
/// lock and then keeps it for good, so the rest of the kernel stops
/// printing and the report is not interleaved with console output; if the
/// holder never lets go (perhaps it is the CPU that died), the report goes
/// out anyway. Either way the bytes go through a separate `SerialPort`
/// value for COM1 made here: two values for one port alias only I/O
/// ports, no Rust memory, so at worst a stuck holder's line and ours
/// interleave on the wire.
pub fn emergency_write_fmt(args: fmt::Arguments) {
    crate::cpu::without_interrupts(|| {
        if !CRASH_HOLDS_PORT.load(Ordering::Acquire) {
            for _ in 0..CRASH_LOCK_SPINS {
                if let Some(guard) = PORT.try_lock() {
                    // Never unlocked: nothing else prints from here on.
                    core::mem::forget(guard);
                    CRASH_HOLDS_PORT.store(true, Ordering::Release);
                    break;
                }
                core::hint::spin_loop();
            }
        }
        // SAFETY: 0x3f8 is the platform's COM1 UART and we run in ring 0
        // (`SerialPort::new`'s contract). A `SerialPort` is only its port
        // numbers: this second one shares no memory with the one behind the
        // lock, and what the two do to the UART at once is port I/O, not a
        // data race on Rust memory.
        let mut port = unsafe { SerialPort::new(COM1) };
        let _ = CrLf(&mut port).write_fmt(args);
    });
}
