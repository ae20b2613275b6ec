//! `event:` lines (physical hotplug's, `crate::acpi_hotplug`), held until
//! the console has a gap for them, so each stands on its own line and
//! never inside another command's output: the console prints them right
//! after a command's status line, or, at its prompt, takes the prompt line
//! away, prints them and draws the prompt and the half-typed line again
//! (`crate::console`).
//!
//! Held, unlike ordinary log lines (`arch::serial`'s buffer, which the
//! console drains before each of its own writes, so they can fall between
//! two lines of a command's output): an event is a message to whoever
//! watches the console, and it must read as one. Ordinary lines are not
//! held, since a command may run for a long time (`torture`, `bench`) and
//! what CPUs log meanwhile is wanted while it runs, not after.
//!
//! Bounded: one [`LogRing`] of [`EVENT_BYTES`] in a static, no allocation,
//! usable from any CPU with interrupts off. An event that does not fit is
//! dropped and counted, and the console says so where it went missing:
//! `console: N event lines dropped`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};
use logring::{LineBuf, LogRing, Push, Record};
use spin::{Mutex, Once};

/// Room for ~150 event lines (~40 bytes each plus an 8-byte header): far
/// more than a burst of `device_add`s while one command runs produces
/// (two lines per CPU, at most 8 KiB of them between two prompts).
pub const EVENT_BYTES: usize = 8 * 1024;
/// The longest event line kept whole; longer ones are cut and marked.
pub const MAX_EVENT_LINE: usize = 256;
/// How long a producer or the console tries the lock: it is held for one
/// copy, so only a holder that died (forced down mid-copy) makes this run
/// out, and then the line is counted as dropped rather than waited for.
const LOCK_SPINS: u32 = 100_000;

static HELD: Mutex<LogRing<EVENT_BYTES>> = Mutex::new(LogRing::new());
/// Events dropped because the lock could not be had; folded into the
/// ring's count by the next holder, so the console reports them too.
static DROPPED_UNLOCKED: AtomicU32 = AtomicU32::new(0);
/// Called when a push makes the queue non-empty; see [`set_waker`].
static WAKER: Once<fn()> = Once::new();

fn with_held<R>(f: impl FnOnce(&mut LogRing<EVENT_BYTES>) -> R) -> Option<R> {
    arch::cpu::without_interrupts(|| {
        for _ in 0..LOCK_SPINS {
            if let Some(mut ring) = HELD.try_lock() {
                ring.note_dropped(DROPPED_UNLOCKED.swap(0, Ordering::AcqRel));
                return Some(f(&mut ring));
            }
            core::hint::spin_loop();
        }
        None
    })
}

/// Queues `event: <args>` as one line; never waits for the host.
pub fn push_fmt(args: fmt::Arguments) {
    let mut line = LineBuf::<MAX_EVENT_LINE>::new();
    let _ = writeln!(line, "event: {args}");
    match with_held(|ring| ring.push(line.record())) {
        Some(Push::Stored { was_empty: true }) => {
            if let Some(wake) = WAKER.get() {
                wake();
            }
        }
        Some(_) => {}
        None => {
            DROPPED_UNLOCKED.fetch_add(1, Ordering::AcqRel);
            // The drop is reported by the console's next drain: wake it,
            // or the report waits for an unrelated wake-up.
            if let Some(wake) = WAKER.get() {
                wake();
            }
        }
    }
}

/// Whether events (or a drop count) wait; true if the queue cannot be
/// looked at, so a console about to sleep looks again instead.
pub fn pending() -> bool {
    with_held(|ring| ring.has_pending()).unwrap_or(true)
}

/// Takes the oldest event line (with its `\n`), or a pending drop count.
pub fn pop(out: &mut [u8; MAX_EVENT_LINE]) -> Option<Record> {
    with_held(|ring| ring.pop(out)).flatten()
}

/// Registers what a push that makes the queue non-empty calls (the
/// console's waker); the first call wins. It runs wherever events are
/// queued, so it must be safe there (any CPU, interrupts off).
pub fn set_waker(wake: fn()) {
    WAKER.call_once(|| wake);
}
