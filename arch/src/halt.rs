//! Halting until a condition holds or a deadline passes, the way every
//! wait on another CPU is done here.
//!
//! Owns how a halt is bounded: the LAPIC timer directly until the kernel's
//! timer queues run, then whatever the kernel installed. It never decides
//! what to wait for.

use crate::time::Deadline;
use crate::{apic, cpu};
use spin::Once;

/// How [`halt_until`] bounds each halt: arm a wake-up `ns` from now, and
/// cancel it. Until the kernel's timer queues run, the LAPIC timer is used
/// directly. Read lock-free (`Once::get` is one atomic load).
static WAKEUP_TIMER: Once<WakeupTimer> = Once::new();

/// Arm a wake-up `ns` from now, and cancel it.
type WakeupTimer = (fn(u64), fn());

/// Routes [`halt_until`]'s wake-ups through the kernel's timer queues. Set
/// once: the first call wins, later ones are ignored.
pub fn set_wakeup_timer(arm: fn(u64), cancel: fn()) {
    WAKEUP_TIMER.call_once(|| (arm, cancel));
}

fn arm_wakeup(ns: u64) {
    match WAKEUP_TIMER.get() {
        Some((arm, _)) => arm(ns),
        None => apic::arm_timer_ns(ns),
    }
}

fn cancel_wakeup() {
    match WAKEUP_TIMER.get() {
        Some((_, cancel)) => cancel(),
        None => apic::stop_timer(),
    }
}

/// The deadline of a [`halt_until`] passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

impl core::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "deadline passed")
    }
}

/// Halts until `done()` or the deadline; `Err(TimedOut)` on timeout.
///
/// The condition is checked with interrupts off and the halt re-enables them
/// atomically, so a wake-up IPI sent after the check still ends the halt.
/// The LAPIC timer bounds each halt by `poll_us` (or the deadline).
///
/// Panics if an `IrqGuard` is alive on this CPU: halting turns interrupts
/// on, which would break the guard's promise.
pub fn halt_until(
    deadline: Deadline,
    poll_us: u64,
    mut done: impl FnMut() -> bool,
) -> Result<(), TimedOut> {
    let was_enabled = cpu::interrupts_enabled();
    let result = loop {
        cpu::disable_interrupts();
        if done() {
            break Ok(());
        }
        if deadline.expired() {
            break Err(TimedOut);
        }
        arm_wakeup(deadline.remaining_ns().min(poll_us * 1000));
        cpu::enable_interrupts_and_halt();
    };
    cpu::disable_interrupts();
    cancel_wakeup();
    if was_enabled {
        cpu::enable_interrupts();
    } else {
        cpu::disable_interrupts();
    }
    result
}
