//! Switching: picking the next thread on this CPU, preemption after EOI,
//! the idle loop, and the running thread's own record.
//!
//! Owns the only call into `arch::context::switch_to`; it never decides
//! where a woken thread goes (that is `runqueue`'s).

use super::runqueue::{self, rq, with_this_rq};
use super::thread::{Thread, ThreadState};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use hotplug::CpuId;

pub fn exit() -> ! {
    arch::cpu::disable_interrupts();
    current().set_state(ThreadState::Dead);
    schedule();
    unreachable!("a dead thread was scheduled");
}

pub fn current() -> Arc<Thread> {
    runqueue::with_this_rq(|_, rq| rq.current.clone()).expect("scheduler running on this CPU")
}

pub fn try_current_on(cpu: CpuId) -> Option<Arc<Thread>> {
    rq(cpu).try_lock()?.current.clone()
}

pub fn yield_now() {
    schedule();
}

pub fn schedule() {
    // Dropped (restoring IF) only when this thread runs again, possibly on
    // another CPU: IF travels with the thread.
    let mut irq = arch::cpu::disable_irqs();
    if let Some(next) = runqueue::pick_next() {
        // No reference may live in this frame across the switch: a thread
        // that exits never comes back to drop it (`rq.current` keeps the
        // next thread alive, `switch_to` its context). The chosen thread
        // may still be saving its context on the CPU it just left (it was
        // woken onto this queue mid-switch): `switch_to` waits for that.
        let context = next.context.clone();
        drop(next);
        if let Err(e) = arch::context::switch_to(context, &mut irq) {
            panic!("sched: cannot switch: {e}");
        }
        runqueue::finish_switch();
    }
}

pub(super) fn slice_expired() {
    with_this_rq(|_, rq| rq.need_resched = true);
}

pub(super) fn preempt_point() {
    runqueue::note_queued();
    let switch = with_this_rq(|_, rq| {
        let preemptible = rq
            .current
            .as_ref()
            .is_some_and(|c| c.preempt_disabled.load(Ordering::Relaxed) == 0);
        let switch = rq.need_resched && preemptible;
        if switch {
            rq.need_resched = false;
        }
        switch
    });
    if switch {
        schedule();
    }
}

pub fn without_preemption<R>(f: impl FnOnce() -> R) -> R {
    let me = current();
    me.preempt_disabled.fetch_add(1, Ordering::Relaxed);
    let result = f();
    me.preempt_disabled.fetch_sub(1, Ordering::Relaxed);
    result
}

pub fn idle_loop(pending: impl Fn() -> bool, mut run: impl FnMut() -> bool) {
    loop {
        arch::cpu::disable_interrupts();
        if with_this_rq(|_, rq| !rq.ready.is_empty()) {
            arch::cpu::enable_interrupts();
            schedule();
            continue;
        }
        if pending() {
            arch::cpu::enable_interrupts();
            if without_preemption(&mut run) {
                return;
            }
            continue;
        }
        arch::cpu::enable_interrupts_and_halt();
    }
}
