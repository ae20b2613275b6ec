//! Blocking and waking: sleeping on a timer or a condition, parking at a
//! safe point, and the wake-ups that end each.
//!
//! Every transition is one compare-and-swap on the thread's state, so a
//! wake-up racing a thread that is about to block is never lost.

use super::runqueue;
use super::switch::{current, schedule};
use super::thread::{by_id, Thread, ThreadState};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

/// Sleeps until `deadline_ns` (monotonic), on a timer of this CPU.
pub fn sleep_until(deadline_ns: u64) {
    sleep_on_timer(deadline_ns, wake_by_id);
}

/// Sleeps on a timer of this CPU whose callback gets this thread's id and
/// must end in [`wake_by_id`].
pub fn sleep_on_timer(deadline_ns: u64, callback: crate::timer::TimerFn) {
    let me = current();
    arch::cpu::without_interrupts(|| {
        me.set_state(ThreadState::Sleeping);
        // Interrupts are off: this is the CPU whose queue gets the timer.
        crate::timer::add(
            crate::percpu::this_cpu(),
            deadline_ns,
            callback,
            me.id as usize,
        );
        schedule();
    });
}

/// Wakes the thread with this id if it sleeps (a timer callback).
pub fn wake_by_id(id: usize) {
    if let Some(thread) = by_id(id as u64) {
        wake(&thread);
    }
}

/// Makes a sleeping thread ready on its CPU (an unbound one: on the least
/// loaded active CPU), and IPIs that CPU. Threads in other states are left.
pub fn wake(thread: &Arc<Thread>) {
    runqueue::wake(thread, ThreadState::Sleeping);
}

/// Asks a thread to park at its next safe point ([`park_point`]).
pub fn request_park(thread: &Thread) {
    thread.park_requested.store(true, Ordering::Release);
}

/// Clears a park request and, if the thread is parked, makes it ready.
pub fn unpark(thread: &Arc<Thread>) {
    thread.park_requested.store(false, Ordering::Release);
    runqueue::wake(thread, ThreadState::Parked);
}

/// Called by a thread between work items: parks here if asked to.
/// Returns whether it parked (and was unparked since).
pub fn park_point() -> bool {
    let me = current();
    let mut parked = false;
    arch::cpu::without_interrupts(|| {
        while me.park_requested.load(Ordering::Acquire) {
            // Publish the state before re-checking the request, so an
            // `unpark` from another CPU either sees `Parked` (and queues
            // us) or has cleared the request we re-check.
            me.set_state(ThreadState::Parked);
            if !me.park_requested.load(Ordering::Acquire)
                && me.transition(ThreadState::Parked, ThreadState::Running)
            {
                break;
            }
            schedule();
            parked = true;
        }
    });
    parked
}

/// Sleeps until woken by [`wake`] (no timer), unless `ready()` holds. The
/// state is published before `ready` is checked, so a waker on any CPU
/// either sees `Sleeping` (and queues us) or made `ready` true first.
pub fn sleep_unless(ready: impl Fn() -> bool) {
    let me = current();
    arch::cpu::without_interrupts(|| {
        me.set_state(ThreadState::Sleeping);
        if ready() && me.transition(ThreadState::Sleeping, ThreadState::Running) {
            return;
        }
        // Either not ready, or a waker already made us `Ready` and queued
        // us: `schedule` copes with both.
        schedule();
    });
}
