//! What the SCI handler shares with the `acpihp` thread and the console:
//! the "scan the block" flag, the thread to wake, SCI counts, and the
//! `autoonline` setting. A leaf: it knows nothing of the rest of the
//! module.

use crate::sched::{self, Thread};
use alloc::sync::Arc;
use arch::acpi::cpu_hotplug::GPE;
use arch::acpi::fixed;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Once;

/// Whether a hot-added CPU is brought online at once (the default; on
/// Linux a udev rule usually does this) or left `present` and `offline`
/// until `online N`.
static AUTOONLINE: AtomicBool = AtomicBool::new(true);
/// Set by the SCI handler, taken by the thread before it scans the block,
/// so an SCI that arrives during a scan causes another one.
pub(super) static PENDING: AtomicBool = AtomicBool::new(false);
/// SCIs taken, and those that carried no CPU hotplug GPE.
static SCIS: AtomicU64 = AtomicU64::new(0);
static UNKNOWN_SCIS: AtomicU64 = AtomicU64::new(0);
pub(super) static THREAD: Once<Arc<Thread>> = Once::new();

/// The SCI (interrupts off; the LAPIC EOI follows). The GPE status is
/// cleared first, so the level-triggered line drops before the EOI; then
/// the thread is woken to scan the block. An SCI without our GPE set is
/// counted and answered by silencing every other event source again, so an
/// event the kernel does not know cannot hold the line up in a storm.
pub(super) fn on_sci() {
    SCIS.fetch_add(1, Ordering::Relaxed);
    if fixed::gpe_status(GPE).unwrap_or(false) {
        let _ = fixed::clear_gpe(GPE);
    } else {
        UNKNOWN_SCIS.fetch_add(1, Ordering::Relaxed);
        let _ = fixed::disable_all_events();
        let _ = fixed::enable_gpe(GPE);
    }
    // Scan in both cases: clearing everything may have hidden our GPE.
    PENDING.store(true, Ordering::Release);
    if let Some(thread) = THREAD.get() {
        sched::wake(thread);
    }
}

/// Whether hot-added CPUs are brought online at once.
pub fn autoonline() -> bool {
    AUTOONLINE.load(Ordering::Acquire)
}

/// Sets [`autoonline`].
pub fn set_autoonline(on: bool) {
    AUTOONLINE.store(on, Ordering::Release);
}

/// SCIs taken, and how many of them carried no CPU hotplug event.
pub(super) fn sci_counts() -> (u64, u64) {
    (
        SCIS.load(Ordering::Relaxed),
        UNKNOWN_SCIS.load(Ordering::Relaxed),
    )
}
