//! The COM1 serial port: the console's only input and output.
//!
//! No CPU may wait for the host by accident (one that logs inside a
//! hotplug step and blocks on a host that stopped reading misses its
//! deadline), so there are two ways out:
//! - [`write_fmt`], the default: a log line, formatted and copied whole
//!   into the log buffer (module `log`). It never waits for the UART and works
//!   in interrupt handlers and with interrupts off. A line that does not
//!   fit is dropped and counted.
//! - [`console_write_fmt`] and [`console_write_bytes`]: the console's own
//!   output. They first [`drain`] the buffer, so lines come out in the
//!   order they were logged relative to the console's, then write and
//!   wait for the host as long as it takes. Whoever calls them may wait:
//!   the kernel lets only its console (and the boot CPU before the
//!   console exists) use them.
//!
//! Drops are announced where they happened, as `console: N lines dropped`,
//! once the console drains past them. Crash reports go around all of this
//! ([`emergency_write_fmt`]) after a best-effort flush of the buffer.

mod log;
mod uart;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

pub use log::set_waker;

/// Programs the UART (115200 8N1, FIFOs on). Called once by the boot CPU.
pub fn init() {
    uart::init();
}

/// Logs formatted text as one line of the log buffer; never waits for the
/// UART. One call is one record: end it with `\n` (`println!`), since a
/// record is kept or dropped whole and records from different CPUs never
/// interleave inside one.
pub fn write_fmt(args: fmt::Arguments) {
    log::push_fmt(args);
}

/// The console's own output: drains the buffer, then writes, waiting for
/// the host as long as it takes (halted if interrupts are on). `\n`
/// becomes CRLF on the wire.
pub fn console_write_fmt(args: fmt::Arguments) {
    drain();
    let _ = uart::Waiting.write_fmt(args);
}

/// Writes raw bytes, untouched, like [`console_write_fmt`] (the console
/// echoes its input with it).
pub fn console_write_bytes(bytes: &[u8]) {
    drain();
    uart::send(bytes);
}

/// Writes out everything buffered, oldest first, waiting for the host as
/// [`console_write_fmt`] does. Only for whoever may wait: the console.
pub fn drain() {
    let mut line = [0u8; log::MAX_LINE];
    while let Some(record) = log::pop(&mut line) {
        if record.dropped_before > 0 {
            let _ = writeln!(
                uart::Waiting,
                "console: {} lines dropped",
                record.dropped_before
            );
        }
        uart::send_text(&line[..record.len]);
    }
}

/// Returns the next received byte, if one is waiting.
pub fn try_read_byte() -> Option<u8> {
    uart::try_read_byte()
}

/// Whether the console has anything to do: a received byte may be waiting
/// or logged lines wait to be drained. Errs towards true, so the console
/// sleeps only when it is sure it may (it is woken by COM1's interrupt and
/// by the log waker, [`set_waker`]).
pub fn console_has_work() -> bool {
    uart::input_maybe_ready() || log::pending()
}

/// Set by the first crash write, which alone waits for the port lock and
/// flushes the log buffer.
static CRASH_STARTED: AtomicBool = AtomicBool::new(false);
/// At most this many buffered lines go out ahead of a crash report, so
/// CPUs that keep logging cannot hold the report back.
const CRASH_FLUSH_LINES: usize = 4096;

/// Writes to the port even if another CPU died holding its lock.
///
/// Only for the crash path, where the machine is about to exit anyway. The
/// first crash write takes the port lock for good (bounded wait), so the
/// console stops printing and does not interleave with the report, then
/// writes out what is buffered (each ring access is a bounded try, so a
/// ring lock whose holder died only costs those lines). If the port
/// holder never lets go, the report goes out around the lock anyway.
pub fn emergency_write_fmt(args: fmt::Arguments) {
    crate::cpu::without_interrupts(|| {
        if !CRASH_STARTED.swap(true, Ordering::AcqRel) {
            uart::take_for_crash();
            flush_for_crash();
        }
        uart::crash_write_fmt(args);
    });
}

fn flush_for_crash() {
    let mut line = [0u8; log::MAX_LINE];
    for _ in 0..CRASH_FLUSH_LINES {
        let Some(record) = log::pop(&mut line) else {
            return;
        };
        if record.dropped_before > 0 {
            uart::crash_write_fmt(format_args!(
                "console: {} lines dropped\n",
                record.dropped_before
            ));
        }
        uart::crash_send_text(&line[..record.len]);
    }
}
