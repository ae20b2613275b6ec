//! The kernel log buffer: where lines go that must not wait for the host.
//!
//! One [`LogRing`] of whole lines in a static (no allocation, usable from
//! interrupt handlers and with interrupts off). Its lock is taken with
//! interrupts off and held only to copy one line in or out; formatting
//! happens before, on the producer's stack, and UART I/O after, by the
//! consumer. A CPU that cannot get the lock within a bound (its holder
//! was forced down mid-copy) drops the line and counts it rather than
//! wait for ever.

use crate::cpu;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};
use logring::{LineBuf, LogRing, Push, Record};
use spin::{Mutex, Once};

/// Ring size: ~1,000 typical log lines of slack while the host is away.
const RING_BYTES: usize = 64 * 1024;
/// The longest line kept whole; longer ones are cut and marked.
pub(super) const MAX_LINE: usize = 512;
/// How long a producer or the consumer tries the ring lock: it is held
/// for one copy of at most `MAX_LINE` bytes, so only a dead holder
/// makes this run out.
const LOCK_SPINS: u32 = 100_000;

static RING: Mutex<LogRing<RING_BYTES>> = Mutex::new(LogRing::new());
/// Lines dropped because the lock could not be had; folded into the ring's
/// own count by the next holder, so the console reports them too.
static DROPPED_UNLOCKED: AtomicU32 = AtomicU32::new(0);
/// Called after a push made the buffer non-empty; see [`set_waker`].
static WAKER: Once<fn()> = Once::new();

fn with_ring<R>(f: impl FnOnce(&mut LogRing<RING_BYTES>) -> R) -> Option<R> {
    cpu::without_interrupts(|| {
        for _ in 0..LOCK_SPINS {
            if let Some(mut ring) = RING.try_lock() {
                ring.note_dropped(DROPPED_UNLOCKED.swap(0, Ordering::AcqRel));
                return Some(f(&mut ring));
            }
            core::hint::spin_loop();
        }
        None
    })
}

/// Formats one line and stores it whole, or drops and counts it.
pub(super) fn push_fmt(args: fmt::Arguments) {
    let mut line = LineBuf::<MAX_LINE>::new();
    let _ = line.write_fmt(args);
    match with_ring(|ring| ring.push(line.record())) {
        Some(Push::Stored { was_empty: true }) => {
            if let Some(wake) = WAKER.get() {
                wake();
            }
        }
        Some(_) => {}
        None => {
            DROPPED_UNLOCKED.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Whether lines (or a drop count) wait to be drained; true if the ring
/// cannot be looked at, so a consumer about to sleep drains instead.
pub(super) fn pending() -> bool {
    with_ring(|ring| ring.has_pending()).unwrap_or(true)
}

/// Takes the oldest line (or a pending drop count) into `out`.
pub(super) fn pop(out: &mut [u8; MAX_LINE]) -> Option<Record> {
    with_ring(|ring| ring.pop(out)).flatten()
}

/// Registers what a push that makes the buffer non-empty calls, so the
/// consumer need not poll. The first call wins. `wake` runs wherever
/// lines are logged: in interrupt handlers, with interrupts off, with any
/// lock held, on any CPU; it must only do what is safe there, such as
/// sending an IPI to the consumer's CPU.
pub fn set_waker(wake: fn()) {
    WAKER.call_once(|| wake);
}
