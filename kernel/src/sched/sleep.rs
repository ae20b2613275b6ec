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

pub fn sleep_until(deadline_ns: u64) {
    sleep_on_timer(deadline_ns, wake_by_id);
}

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

pub fn wake_by_id(id: usize) {
    if let Some(thread) = by_id(id as u64) {
        wake(&thread);
    }
}

pub fn wake(thread: &Arc<Thread>) {
    runqueue::wake(thread, ThreadState::Sleeping);
}

pub fn request_park(thread: &Thread) {
    thread.park_requested.store(true, Ordering::Release);
}

pub fn unpark(thread: &Arc<Thread>) {
    thread.park_requested.store(false, Ordering::Release);
    runqueue::wake(thread, ThreadState::Parked);
}

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
