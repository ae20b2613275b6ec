//! The COM1 UART itself: programming it, moving bytes into it without
//! waiting, waiting for the host only where the caller may, and the crash
//! path's way around the lock.
//!
//! The port lock is taken with interrupts off and held only while bytes
//! go into a UART that has room, never while waiting for room: a host
//! that stops reading makes the writer wait outside the lock.

use crate::cpu;
use crate::halt::halt_until;
use crate::time::Deadline;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use uart_16550::SerialPort;

const COM1: u16 = 0x3f8;

static PORT: Mutex<Option<SerialPort>> = Mutex::new(None);

/// Set once a crash report has taken the port lock for good.
static CRASH_HOLDS_PORT: AtomicBool = AtomicBool::new(false);
/// How long a crash report waits for the lock: far longer than the lock is
/// ever held (one burst into the UART), short when the holder died.
const CRASH_LOCK_SPINS: u32 = 1_000_000;

/// How long a writer with interrupts on halts before it tries a full UART
/// again. Only receiving raises an interrupt (transmit-empty is not
/// enabled), so this is a poll; QEMU refills the transmit register as soon
/// as the host reads.
const HOST_POLL_US: u64 = 1000;
/// Retries before that halt: a real 16550 drains a byte in ~87 us at
/// 115200 baud, and a short spin is cheaper than a 1 ms halt for that.
const BUSY_SPINS: u32 = 2000;

/// Programs the UART (115200 8N1, FIFOs on). Called once by the boot CPU.
pub(super) fn init() {
    // SAFETY: 0x3f8 is the standard COM1 base; nothing else in the kernel
    // drives these I/O ports.
    let mut port = unsafe { SerialPort::new(COM1) };
    port.init();
    *PORT.lock() = Some(port);
}

/// Returns the next received byte, if one is waiting.
pub(super) fn try_read_byte() -> Option<u8> {
    cpu::without_interrupts(|| PORT.try_lock()?.as_mut()?.try_receive().ok())
}

/// Whether a received byte may be waiting: true when the UART says so, and
/// when the port is busy (a writer holds it), so a caller about to sleep
/// never does so on a byte it could not see.
pub(super) fn input_maybe_ready() -> bool {
    cpu::without_interrupts(|| match PORT.try_lock() {
        Some(guard) if guard.is_some() => {
            // The port lock is held: no one else drives COM1 meanwhile.
            let mut lsr = x86_64::instructions::port::PortReadOnly::<u8>::new(COM1 + LSR);
            // SAFETY: reading COM1's line status register (a read-only
            // status byte; it only clears the UART's error flags) under the
            // port lock, in ring 0; no Rust memory is involved.
            let status = unsafe { lsr.read() };
            status & LSR_DATA_READY != 0
        }
        Some(_) => false,
        None => true,
    })
}

/// The line status register's offset, and its "data ready" bit.
const LSR: u16 = 5;
const LSR_DATA_READY: u8 = 0x01;

/// What one attempt to move bytes into the UART did.
enum Attempt {
    /// This many bytes went out (0: the UART or the lock was busy).
    Sent(usize),
    /// A crash report owns the port; the bytes are dropped.
    Discarded,
}

fn try_send(bytes: &[u8]) -> Attempt {
    cpu::without_interrupts(|| {
        if CRASH_HOLDS_PORT.load(Ordering::Acquire) {
            return Attempt::Discarded;
        }
        let Some(mut guard) = PORT.try_lock() else {
            return Attempt::Sent(0);
        };
        let Some(port) = guard.as_mut() else {
            return Attempt::Discarded; // before `init`: nowhere to write
        };
        let sent = bytes.iter().take_while(|&&b| port.try_send_raw(b).is_ok());
        Attempt::Sent(sent.count())
    })
}

/// Sends all of `bytes`, waiting for the host as long as it takes: halted
/// with interrupts on if they are on, spinning otherwise (early boot).
pub(super) fn send(mut bytes: &[u8]) {
    let mut busy = 0;
    while !bytes.is_empty() {
        match try_send(bytes) {
            Attempt::Discarded => return,
            Attempt::Sent(0) => {
                busy += 1;
                if busy < BUSY_SPINS || !cpu::interrupts_enabled() {
                    core::hint::spin_loop();
                } else {
                    let _ = halt_until(Deadline::after_us(HOST_POLL_US), HOST_POLL_US, || false);
                }
            }
            Attempt::Sent(n) => {
                busy = 0;
                bytes = &bytes[n..];
            }
        }
    }
}

/// Text to the UART through [`send`]; `\n` becomes CRLF on the wire.
pub(super) struct Waiting;

impl Write for Waiting {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        send_text(s.as_bytes());
        Ok(())
    }
}

/// [`send`] with each `\n` as `\r\n`, as a terminal needs.
pub(super) fn send_text(text: &[u8]) {
    crlf(text, send);
}

/// Calls `out` with `text` in pieces, each `\n` as `\r\n`.
fn crlf(text: &[u8], mut out: impl FnMut(&[u8])) {
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out(first);
    }
    for line in lines {
        out(b"\r\n");
        out(line);
    }
}

/// Stops everyone else from printing, for a crash report: waits (bounded)
/// for the port lock and keeps it for good. `false` if the holder never
/// let go (perhaps it is the CPU that died); the report goes out anyway.
pub(super) fn take_for_crash() -> bool {
    cpu::without_interrupts(|| {
        for _ in 0..CRASH_LOCK_SPINS {
            if let Some(guard) = PORT.try_lock() {
                // Never unlocked: nothing else prints from here on.
                core::mem::forget(guard);
                CRASH_HOLDS_PORT.store(true, Ordering::Release);
                return true;
            }
            core::hint::spin_loop();
        }
        false
    })
}

/// Writes to COM1 around the lock, for the crash path only, where the
/// machine is about to exit anyway; it waits for the host by spinning.
///
/// The lock is never forced. The bytes go through a separate `SerialPort`
/// value for COM1 made here: two values for one port alias only I/O
/// ports, no Rust memory, so at worst a stuck holder's line and ours
/// interleave on the wire.
pub(super) fn crash_write_fmt(args: fmt::Arguments) {
    let _ = CrashPort.write_fmt(args);
}

/// [`crash_write_fmt`] for text that is already bytes (a buffered line).
pub(super) fn crash_send_text(text: &[u8]) {
    crlf(text, crash_send);
}

fn crash_send(bytes: &[u8]) {
    // SAFETY: 0x3f8 is the platform's COM1 UART and we run in ring 0
    // (`SerialPort::new`'s contract). A `SerialPort` is only its port
    // numbers: this second one shares no memory with the one behind the
    // lock, and what the two do to the UART at once is port I/O, not a
    // data race on Rust memory.
    let mut port = unsafe { SerialPort::new(COM1) };
    bytes.iter().for_each(|&b| port.send_raw(b));
}

/// The crash path's writer: blocking sends, CRLF.
struct CrashPort;

impl Write for CrashPort {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crash_send_text(s.as_bytes());
        Ok(())
    }
}
