//! Switching: picking the next thread on this CPU, preemption after EOI,
//! the idle loop, and the running thread's own record.
//!
//! Owns the only call into `arch::context::switch_to`; it never decides
//! where a woken thread goes (that is `runqueue`'s).

use super::runqueue::{self, rq, with_this_rq};
use super::thread::{Thread, ThreadState};
use alloc::sync::Arc;
use arch::context::SwitchError;
use core::sync::atomic::Ordering;
use hotplug::CpuId;

/// Ends the running thread.
pub fn exit() -> ! {
    arch::cpu::disable_interrupts();
    current().set_state(ThreadState::Dead);
    schedule();
    unreachable!("a dead thread was scheduled");
}

/// The running thread.
pub fn current() -> Arc<Thread> {
    runqueue::with_this_rq(|_, rq| rq.current.clone()).expect("scheduler running on this CPU")
}

/// The thread running on `cpu`, if its run queue is not locked: for crash
/// reports, which must never wait.
pub fn try_current_on(cpu: CpuId) -> Option<Arc<Thread>> {
    rq(cpu).try_lock()?.current.clone()
}

/// Gives up the CPU to the next ready thread, if any.
pub fn yield_now() {
    schedule();
}

/// Picks the next thread and switches to it. The caller has set the
/// running thread's state: `Running` (preempted or yielding, it stays
/// runnable), or `Sleeping`/`Parked`/`Dead`.
pub fn schedule() {
    // Dropped (restoring IF) only when this thread runs again, possibly on
    // another CPU: IF travels with the thread.
    let mut irq = arch::cpu::disable_irqs();
    while let Some(next) = runqueue::pick_next() {
        // No reference may live in this frame across the switch: a thread
        // that exits never comes back to drop it (`rq.current` keeps the
        // next thread alive, `switch_to` its context). A queued thread's
        // context is saved (`runqueue::wake` never queues one that is not),
        // so `switch_to` does not wait.
        let context = next.context.clone();
        drop(next);
        match arch::context::switch_to(context, &mut irq) {
            Ok(()) => {
                runqueue::finish_switch();
                return;
            }
            // Cut off by a CPU forced down mid-switch (still running
            // there at `switch_to`'s deadline, or voided since): it can
            // never run again. Drop it and pick another.
            Err(e @ (SwitchError::StillRunning | SwitchError::NotResumable)) => drop_unresumable(e),
            Err(e) => panic!("sched: cannot switch: {e}"),
        }
    }
}

/// `switch_to` refused the thread just picked: undo the pick, report the
/// thread and reap it, so `threads` no longer lists what cannot run.
fn drop_unresumable(e: SwitchError) {
    let cpu = crate::percpu::this_cpu();
    let Some(refused) = runqueue::undo_pick() else {
        panic!("sched: {cpu}: cannot resume its idle thread: {e}");
    };
    println!(
        "sched: {cpu}: {} (id {}) cannot be resumed: {e}; dropped",
        refused.name, refused.id
    );
    // Still running elsewhere (StillRunning): its stack is not free until
    // that CPU starts afresh, so it is reaped then, not leaked now.
    super::dead::bury(refused);
}

/// The timer says the running thread's slice is over.
pub(super) fn slice_expired() {
    with_this_rq(|_, rq| rq.need_resched = true);
}

/// After EOI of timer/wake/hotplug interrupts: switch if asked to. A
/// thread that disabled preemption keeps the request for later.
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

/// Runs `f` without the running thread being preempted (interrupts stay
/// on). Counted per thread: a thread it yields to is preemptible as usual.
pub fn without_preemption<R>(f: impl FnOnce() -> R) -> R {
    let me = current();
    me.preempt_disabled.fetch_add(1, Ordering::Relaxed);
    let result = f();
    me.preempt_disabled.fetch_sub(1, Ordering::Relaxed);
    result
}

/// The idle loop of the running CPU: halt until there is work, run it.
/// `pending()` is checked with interrupts off right before each halt (so a
/// wake-up IPI after it cannot be lost); when it holds, `run()` runs with
/// interrupts on and preemption off, and returning `true` leaves the loop.
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
