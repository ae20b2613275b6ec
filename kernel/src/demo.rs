//! The `spawn` workload: unbound threads that sleep a random few
//! milliseconds on a timer, then count a wakeup through deferred work.
//!
//! Three counters make losses visible: timers armed, timers fired, and
//! wakeups counted by the worker. Once the run drains (`stop`), or while
//! it is paused ([`pause`]), all three must be equal however often CPUs
//! went away underneath. Each sleep also arms a far watchdog timer and
//! cancels it on waking: cancellation must hold even for timers that
//! migrated.

use crate::rng::Rng;
use crate::{sched, timer, workqueue};
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Most demo threads alive at once. Each holds up to two timers, and all
/// of them may end up on one CPU: this keeps a timer queue within its
/// preallocated 256 entries, so the heap never grows for good.
pub const MAX_DEMO_THREADS: u32 = 100;
const MIN_SLEEP_NS: u64 = 1_000_000;
const MAX_SLEEP_NS: u64 = 8_000_000;

pub static ARMED: AtomicU64 = AtomicU64::new(0);
pub static FIRED: AtomicU64 = AtomicU64::new(0);
pub static WAKEUPS: AtomicU64 = AtomicU64::new(0);
pub static RUNNING: AtomicU64 = AtomicU64::new(0);
/// Watchdog timers cancelled after the sleep ended, and ones that fired
/// anyway (must stay 0: a cancelled timer never fires, wherever it moved).
pub static CANCELLED: AtomicU64 = AtomicU64::new(0);
pub static WATCHDOG_FIRED: AtomicU64 = AtomicU64::new(0);
/// A sleep that outlives its wake-up by this much means the wake-up was lost.
const WATCHDOG_NS: u64 = 500_000_000;
static STOP: AtomicBool = AtomicBool::new(false);
static SPAWNED: AtomicU64 = AtomicU64::new(0);
/// Every demo thread's name starts with this.
pub const NAME_PREFIX: &str = "demo/";

/// Why `spawn` did not start every thread asked for.
#[derive(Debug)]
pub enum SpawnDemoError {
    /// More than [`MAX_DEMO_THREADS`] would run, or none was asked for.
    Count,
    /// A thread could not be created; those started before it run on.
    Thread(sched::SpawnError),
}

impl core::fmt::Display for SpawnDemoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnDemoError::Count => write!(
                f,
                "spawn: 1 to {MAX_DEMO_THREADS} demo threads may run at once"
            ),
            SpawnDemoError::Thread(sched::SpawnError::Memory(e)) => {
                write!(f, "spawn: out of memory: {e}; no thread started")
            }
        }
    }
}

/// Starts `n` demo threads.
pub fn spawn(n: u32) -> Result<(), SpawnDemoError> {
    if n == 0 || RUNNING.load(Ordering::Acquire) + u64::from(n) > u64::from(MAX_DEMO_THREADS) {
        return Err(SpawnDemoError::Count);
    }
    // Every stack first: either all n threads start, or none does.
    let mut stacks = sched::reserve_stacks(n as usize).map_err(SpawnDemoError::Thread)?;
    STOP.store(false, Ordering::Release);
    for _ in 0..n {
        let serial = SPAWNED.fetch_add(1, Ordering::Relaxed);
        RUNNING.fetch_add(1, Ordering::AcqRel);
        let seed = arch::time::rdtsc() ^ (serial.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // A stack per thread was reserved, so this never runs dry.
        if stacks
            .spawn(format!("{NAME_PREFIX}{serial}"), None, body, seed as usize)
            .is_none()
        {
            RUNNING.fetch_sub(1, Ordering::AcqRel);
            break;
        }
    }
    Ok(())
}

/// Asks every demo thread to exit after its current sleep.
pub fn stop() {
    STOP.store(true, Ordering::Release);
}

/// Every demo thread, in any state.
fn threads() -> impl Iterator<Item = Arc<sched::Thread>> {
    sched::all()
        .into_iter()
        .filter(|t| t.name.starts_with(NAME_PREFIX))
}

/// Asks every demo thread to park between two sleeps, where it holds no
/// timer: once all are parked ([`unpaused`] is 0) and the wakeups are
/// counted, nothing of the workload is in flight. [`resume`] lets them go
/// on.
pub fn pause() {
    for thread in threads() {
        sched::request_park(&thread);
    }
}

/// Demo threads not parked by [`pause`] (yet): 0 once it has taken
/// hold. A thread `stop` ended counts until it is reaped, and one that
/// counts as running but is gone (dropped by the scheduler) for ever.
pub fn unpaused() -> usize {
    let (mut parked, mut other) = (0, 0);
    for thread in threads() {
        match thread.state() {
            sched::ThreadState::Parked => parked += 1,
            _ => other += 1,
        }
    }
    let running = RUNNING.load(Ordering::Acquire) as usize;
    other.max(running.saturating_sub(parked))
}

/// Demo threads that exist (running, or ended and not reaped yet).
pub fn alive() -> usize {
    threads().count()
}

/// Lets the demo threads that [`pause`] parked run on.
pub fn resume() {
    for thread in threads() {
        sched::unpark(&thread);
    }
}

fn body(seed: usize) {
    let mut rng = Rng::new(seed as u64);
    while !STOP.load(Ordering::Acquire) {
        // Between sleeps: no timer armed, the last wakeup queued.
        sched::park_point();
        let sleep = MIN_SLEEP_NS + rng.below(MAX_SLEEP_NS - MIN_SLEEP_NS);
        let now = arch::time::now_ns();
        let watchdog = timer::add(
            crate::percpu::this_cpu(),
            now + sleep + WATCHDOG_NS,
            watchdog_fired,
            0,
        );
        ARMED.fetch_add(1, Ordering::AcqRel);
        sched::sleep_on_timer(now + sleep, fired);
        if timer::cancel(watchdog) {
            CANCELLED.fetch_add(1, Ordering::AcqRel);
        }
        workqueue::queue(crate::percpu::this_cpu(), count_wakeup, 0);
    }
    RUNNING.fetch_sub(1, Ordering::AcqRel);
}

/// The demo timer: count it, wake the sleeper.
fn fired(thread_id: usize) {
    FIRED.fetch_add(1, Ordering::AcqRel);
    sched::wake_by_id(thread_id);
}

fn watchdog_fired(_: usize) {
    WATCHDOG_FIRED.fetch_add(1, Ordering::AcqRel);
}

fn count_wakeup(_: usize) {
    WAKEUPS.fetch_add(1, Ordering::AcqRel);
}
