//! Per-CPU run queues: picking, finishing a switch, waking, migrating.

use super::thread::{self, Thread, ThreadState};
use super::SLICE_NS;
use crate::cpus;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use hotplug::CpuId;
use spin::{Mutex, Once};

/// The running CPU, as of this call.
fn current_cpu() -> CpuId {
    CpuId(arch::percpu::current_index_snapshot() as u32)
}

/// Preallocated so that steady-state queueing never grows the heap.
const QUEUE_CAPACITY: usize = 256;

pub struct RunQueue {
    pub current: Option<Arc<Thread>>,
    pub idle: Option<Arc<Thread>>,
    pub ready: VecDeque<Arc<Thread>>,
    /// The thread switched away from, until the next context finishes the
    /// switch (saves it, re-queues it if still runnable).
    /// With whether it is still runnable (preempted or yielding).
    prev: Option<(Arc<Thread>, bool)>,
    /// Unbound threads may be placed here (`sched:active`).
    accepting_unbound: bool,
    /// The CPU runs the scheduler (between `start_cpu` and `stop_cpu`).
    running: bool,
    pub need_resched: bool,
}

static QUEUES: Once<Vec<Mutex<RunQueue>>> = Once::new();
/// Ready threads per CPU, readable without the lock (for placement).
static QUEUED: Once<Vec<AtomicUsize>> = Once::new();
/// Whether each CPU takes unbound threads (`accepting_unbound && running`),
/// readable without the lock, so placing a woken thread does not lock every
/// CPU's queue. `enqueue` re-checks under the lock.
static OPEN: Once<Vec<AtomicBool>> = Once::new();

pub(super) fn init() {
    let n = cpus::all().len();
    QUEUES.call_once(|| {
        (0..n)
            .map(|_| {
                Mutex::new(RunQueue {
                    current: None,
                    idle: None,
                    ready: VecDeque::with_capacity(QUEUE_CAPACITY),
                    prev: None,
                    accepting_unbound: false,
                    running: false,
                    need_resched: false,
                })
            })
            .collect()
    });
    QUEUED.call_once(|| (0..n).map(|_| AtomicUsize::new(0)).collect());
    OPEN.call_once(|| (0..n).map(|_| AtomicBool::new(false)).collect());
}

/// Mirrors `rq`'s openness to unbound threads into `OPEN`; called under
/// the queue lock after every change of either flag.
fn publish_open(cpu: CpuId, rq: &RunQueue) {
    OPEN.get().expect("sched init")[cpu.index()]
        .store(rq.accepting_unbound && rq.running, Ordering::Release);
}

pub(super) fn rq(cpu: CpuId) -> Option<&'static Mutex<RunQueue>> {
    QUEUES.get()?.get(cpu.index())
}

pub(super) fn with_rq<R>(cpu: CpuId, f: impl FnOnce(&mut RunQueue) -> R) -> R {
    let q = rq(cpu).expect("scheduler not initialised");
    arch::cpu::without_interrupts(|| f(&mut q.lock()))
}

/// Runs `f` on the running CPU's queue. Interrupts go off before the CPU
/// is looked up, so the thread cannot migrate in between.
pub(super) fn with_this_rq<R>(f: impl FnOnce(CpuId, &mut RunQueue) -> R) -> R {
    arch::cpu::without_interrupts(|| {
        let cpu = current_cpu();
        f(cpu, &mut rq(cpu).expect("scheduler not initialised").lock())
    })
}

fn count(cpu: CpuId, ready: usize) {
    QUEUED.get().expect("sched init")[cpu.index()].store(ready, Ordering::Relaxed);
}

/// Ready threads queued on `cpu`.
pub fn nr_queued(cpu: CpuId) -> usize {
    QUEUED
        .get()
        .map_or(0, |v| v[cpu.index()].load(Ordering::Relaxed))
}

pub(super) fn set_idle(cpu: CpuId, idle: Arc<Thread>) {
    with_rq(cpu, |rq| rq.idle = Some(idle));
}

pub(super) fn idle_of(cpu: CpuId) -> Option<Arc<Thread>> {
    with_rq(cpu, |rq| rq.idle.clone())
}

/// Makes the running context `cpu`'s idle thread and starts scheduling.
/// Called by a CPU on itself as it comes up. Its queue is empty after a
/// clean offline (`sched:active` pushed unbound threads away, per-CPU ones
/// were parked); after a forced INIT it may not be (see the closing notes
/// of the timers-and-threads issue: such threads are not recovered).
pub fn start_cpu(cpu: CpuId) {
    with_rq(cpu, |rq| {
        let idle = rq
            .idle
            .clone()
            .expect("idle thread created in threads:prepare");
        idle.set_state(ThreadState::Running);
        idle.set_cpu(cpu);
        rq.current = Some(idle);
        rq.prev = None;
        rq.running = true;
        publish_open(cpu, rq);
        rq.need_resched = false;
    });
}

/// The CPU stops scheduling for good (it is about to park).
pub fn stop_cpu(cpu: CpuId) {
    with_rq(cpu, |rq| {
        rq.running = false;
        publish_open(cpu, rq);
        if let Some(idle) = rq.current.take() {
            idle.set_state(ThreadState::Parked);
        }
    });
}

/// Opens or closes `cpu` to unbound threads (`sched:active`).
pub fn accept_unbound(cpu: CpuId, accept: bool) {
    with_rq(cpu, |rq| {
        rq.accepting_unbound = accept;
        publish_open(cpu, rq);
    });
}

/// Chooses the next thread on this CPU: what to switch to, or `None` to
/// keep running.
pub(super) fn pick_next() -> Option<Arc<Thread>> {
    let cpu = current_cpu();
    with_rq(cpu, |rq| {
        rq.need_resched = false;
        let prev = rq.current.clone().expect("scheduler running");
        let prev_runnable = prev.state() == ThreadState::Running;
        let next = match rq.ready.pop_front() {
            Some(next) => next,
            None if prev_runnable => return None,
            None => rq.idle.clone().expect("idle thread"),
        };
        count(cpu, rq.ready.len());
        if Arc::ptr_eq(&next, &prev) {
            // Woken while about to sleep: keep running.
            prev.set_state(ThreadState::Running);
            return None;
        }
        if prev_runnable {
            prev.set_state(ThreadState::Ready);
        }
        next.set_state(ThreadState::Running);
        next.set_cpu(cpu);
        rq.current = Some(next.clone());
        rq.prev = Some((prev, prev_runnable));
        Some(next)
    })
}

/// Runs on the context just switched to: the previous thread's context is
/// now saved, so it may be queued (here or elsewhere) or reaped.
pub(super) fn finish_switch() {
    let cpu = current_cpu();
    let prev = with_rq(cpu, |rq| rq.prev.take());
    if let Some((prev, runnable)) = prev {
        if prev.state() == ThreadState::Dead {
            thread::reap(&prev);
        } else if runnable && !prev.idle {
            // Preempted or yielded (a thread woken while switching out was
            // queued by its waker instead). The idle thread is never queued.
            enqueue(prev, Some(cpu));
        }
    }
    let waiting = with_rq(cpu, |rq| !rq.ready.is_empty());
    crate::timer::set_slice(waiting.then(|| arch::time::now_ns() + SLICE_NS));
}

/// The least loaded CPU accepting unbound threads.
fn placement(prefer: Option<CpuId>) -> CpuId {
    let n = QUEUES.get().map_or(0, Vec::len) as u32;
    let open = OPEN.get().expect("sched init");
    let accepting = |c: CpuId| open[c.index()].load(Ordering::Acquire);
    if let Some(cpu) = prefer.filter(|&c| accepting(c) && nr_queued(c) == 0) {
        return cpu;
    }
    (0..n)
        .map(CpuId)
        .filter(|&c| accepting(c))
        .min_by_key(|&c| nr_queued(c))
        .unwrap_or(CpuId::BOOT)
}

/// Queues a ready thread whose context is saved: a bound one on its CPU,
/// an unbound one on `prefer` if that is a good place, else the least
/// loaded active CPU. IPIs the CPU if it is not this one.
pub(super) fn enqueue(thread: Arc<Thread>, prefer: Option<CpuId>) {
    let mut target = thread.bound.unwrap_or_else(|| placement(prefer));
    loop {
        let queued = with_rq(target, |rq| {
            if thread.bound.is_none() && !(rq.accepting_unbound && rq.running) {
                return false;
            }
            thread.set_cpu(target);
            thread.set_state(ThreadState::Ready);
            rq.ready.push_back(thread.clone());
            count(target, rq.ready.len());
            true
        });
        if queued {
            break;
        }
        // The CPU closed between choosing and queueing: choose again.
        target = placement(None);
    }
    if target == current_cpu() {
        note_queued();
    } else if let Some(entry) = cpus::get(target) {
        // The target runs `note_queued` from its WAKE interrupt.
        arch::apic::send_ipi(entry.apic_id, arch::interrupts::vector::WAKE);
    }
}

/// Something was queued on this CPU: switch soon. The idle thread yields
/// at once; a busy thread gets a slice end, if it has none.
pub(super) fn note_queued() {
    let busy = with_this_rq(|_, rq| {
        if rq.ready.is_empty() {
            return false;
        }
        let idle = rq.current.as_ref().is_some_and(|c| c.idle);
        rq.need_resched |= idle;
        !idle
    });
    if busy {
        crate::timer::ensure_slice(arch::time::now_ns() + SLICE_NS);
    }
}

/// Makes `thread` ready if it is in state `from` (sleeping or parked). The
/// transition is one compare-and-swap, so of two wakers only one queues
/// it; a thread still switching out is run elsewhere only once its context
/// is saved (`arch::context::switch_to` waits for that).
pub(super) fn wake(thread: &Arc<Thread>, from: ThreadState) {
    if thread.transition(from, ThreadState::Ready) {
        enqueue(thread.clone(), Some(thread.cpu()));
    }
}

/// Moves every queued unbound thread off `cpu` (which no longer accepts
/// them) to other CPUs. Returns how many moved.
pub fn push_unbound_away(cpu: CpuId) -> usize {
    let moved: Vec<Arc<Thread>> = with_rq(cpu, |rq| {
        let mut moved = Vec::new();
        rq.ready.retain(|t| {
            let keep = t.bound.is_some();
            if !keep {
                moved.push(t.clone());
            }
            keep
        });
        count(cpu, rq.ready.len());
        moved
    });
    let n = moved.len();
    for thread in moved {
        enqueue(thread, None);
    }
    n
}
