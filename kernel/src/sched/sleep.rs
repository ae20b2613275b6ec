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

/// Sleeps until `deadline_ns` (monotonic), on a timer of this CPU. A
/// wake-up from anyone but that timer does not end the sleep.
pub fn sleep_until(deadline_ns: u64) {
    sleep_on_timer(deadline_ns, wake_by_id);
}

/// Sleeps on a timer of this CPU whose callback gets this thread's id and
/// must end in [`wake_by_id`]; returns once that timer fired or its
/// deadline passed, and the callback runs exactly once per call. A wake-up
/// before the deadline from anyone else (a stray `wake`, a stale timer's
/// callback) cancels the timer and arms a new one for the same deadline.
pub fn sleep_on_timer(deadline_ns: u64, callback: crate::timer::TimerFn) {
    loop {
        let timer = sleep_once(deadline_ns, callback);
        // Past the deadline the timer has fired or is due and fires at
        // once: it is not stale, and its callback must still run.
        if arch::time::now_ns() >= deadline_ns || !crate::timer::cancel(timer) {
            return;
        }
    }
}

/// Sleeps until `deadline_ns` or the first wake-up, whichever comes first;
/// whether the deadline passed. Its timer is cancelled either way, so none
/// is left armed.
pub fn sleep_until_woken(deadline_ns: u64) -> bool {
    let timer = sleep_once(deadline_ns, wake_by_id);
    crate::timer::cancel(timer);
    arch::time::now_ns() >= deadline_ns
}

/// Arms `callback(this thread's id)` at `deadline_ns` on this CPU and
/// sleeps until any wake-up; returns the timer it armed.
fn sleep_once(deadline_ns: u64, callback: crate::timer::TimerFn) -> crate::timer::TimerId {
    let me = current();
    arch::cpu::without_interrupts(|| {
        me.set_state(ThreadState::Sleeping);
        // Interrupts are off: this is the CPU whose queue gets the timer,
        // and it cannot fire before `schedule` has switched away.
        let timer = crate::timer::add(
            crate::percpu::this_cpu(),
            deadline_ns,
            callback,
            me.id as usize,
        );
        schedule();
        timer
    })
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
        // Either not ready, or a waker already made us `Ready` and left us
        // to our own `schedule`, which keeps us running or queues us.
        schedule();
    });
}
