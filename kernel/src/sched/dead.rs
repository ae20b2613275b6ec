//! Cleaning up after a CPU that died without tearing itself down: one
//! forced down with INIT after it missed a hotplug deadline. Runs on the
//! control CPU, from BP teardowns (Linux runs its `*_dead` callbacks there
//! for the same reason: the dead CPU cannot).
//!
//! After a clean offline there is nothing to do here: the AP pushed its
//! unbound threads away, parked its per-CPU threads and stopped its
//! scheduler itself.

use super::runqueue::{self, CutOff};
use super::thread::{self, Thread, ThreadState};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use hotplug::CpuId;
use spin::Mutex;

/// Dead threads whose contexts were cut off running: they cannot retire
/// (their stacks are not free) until their CPU starts afresh and voids
/// them. Taken with interrupts off only.
static CUT_OFF: Mutex<Vec<Arc<Thread>>> = Mutex::new(Vec::new());

/// What [`cpu_dead`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeadCpu {
    /// Unbound threads moved to live CPUs.
    pub moved: usize,
    /// Threads that were running there when INIT hit: lost (a per-CPU one
    /// among them is created afresh by the next `threads:prepare`).
    pub lost: usize,
}

/// `cpu` is dead: it schedules and accepts nothing any more, its queued
/// unbound threads move to live CPUs, and a thread it was running when
/// INIT hit is lost (dead, reaped once its stack is free), bound or not.
/// Per-CPU threads INIT caught elsewhere are left to [`park_dead`]
/// (`threads:prepare`'s teardown).
pub fn cpu_dead(cpu: CpuId) -> DeadCpu {
    let CutOff { current, previous } = runqueue::stop_dead_cpu(cpu);
    let mut report = DeadCpu::default();
    let candidates = current.map(|t| (t, true)).into_iter().chain(previous);
    for (thread, runnable) in candidates {
        if thread.state() == ThreadState::Dead {
            // Cut off running (marked so under the queue lock), or it was
            // exiting: either way only its reaping is left.
            report.lost += usize::from(!thread.resumable());
            bury(thread);
        } else if thread.bound.is_none() && runnable {
            // Saved just before INIT: it can run elsewhere.
            runqueue::enqueue(thread, None);
            report.moved += 1;
        }
    }
    report.moved += runqueue::push_unbound_away(cpu);
    report
}

/// Parks a per-CPU thread of a dead CPU that INIT caught ready or asleep
/// (its registers are saved): off the queue, parked, asked to stay so, as
/// a clean offline leaves it. `unpark` at the next online resumes it where
/// it was. Returns false, changing nothing, if it was cut off running
/// (it cannot resume: [`discard`] it) or is already parked.
pub fn park_dead(thread: &Arc<Thread>) -> bool {
    let state = thread.state();
    if !thread.resumable() || matches!(state, ThreadState::Parked | ThreadState::Dead) {
        return false;
    }
    thread.park_requested.store(true, Ordering::Release);
    // Running too: picked, but INIT came before the switch to it.
    for from in [
        ThreadState::Ready,
        ThreadState::Sleeping,
        ThreadState::Running,
    ] {
        if thread.transition(from, ThreadState::Parked) {
            break;
        }
    }
    if let Some(cpu) = thread.bound {
        runqueue::remove_ready(cpu, thread);
    }
    true
}

/// Marks `thread` dead and reaps it, now if its context can retire, else
/// later ([`reap_cut_off`]).
pub(super) fn bury(thread: Arc<Thread>) {
    thread.set_state(ThreadState::Dead);
    if thread.context.runs() {
        arch::cpu::without_interrupts(|| CUT_OFF.lock().push(thread));
    } else {
        thread::reap(&thread);
    }
}

/// Reaps the buried threads whose contexts have been voided since (their
/// CPU started afresh). Called by every CPU as it starts scheduling.
pub fn reap_cut_off() {
    let ready: Vec<Arc<Thread>> = arch::cpu::without_interrupts(|| {
        let mut cut_off = CUT_OFF.lock();
        let (ready, waiting) = cut_off.drain(..).partition(|t| !t.context.runs());
        *cut_off = waiting;
        ready
    });
    for thread in ready {
        thread::reap(&thread);
    }
}
