//! Per-CPU run queues: picking, finishing a switch, waking, migrating.

use super::thread::{self, Thread, ThreadState};
use crate::cpus;
use crate::percpu::this_cpu;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use hotplug::CpuId;
use spin::Mutex;

/// How long a thread runs before another waiting one gets the CPU.
pub const SLICE_NS: u64 = 2_000_000;

/// Reserved per queue so that steady-state queueing never grows the heap.
const QUEUE_CAPACITY: usize = 256;

/// One CPU's scheduling state.
pub struct RunQueue {
    /// The thread running on the CPU (its idle thread when nothing else).
    pub current: Option<Arc<Thread>>,
    /// The CPU's idle thread, from `threads:prepare` on.
    pub idle: Option<Arc<Thread>>,
    /// Threads ready to run here, in the order they will run.
    pub ready: VecDeque<Arc<Thread>>,
    /// The thread switched away from, until the next context finishes the
    /// switch (saves it, re-queues it if still runnable).
    /// With whether it is still runnable (preempted or yielding).
    prev: Option<(Arc<Thread>, bool)>,
    /// Unbound threads may be placed here (`sched:active`).
    accepting_unbound: bool,
    /// The CPU runs the scheduler (between `start_cpu` and `stop_cpu`).
    running: bool,
    /// The running thread should give up the CPU at the next chance.
    pub need_resched: bool,
}

impl RunQueue {
    const fn new() -> RunQueue {
        RunQueue {
            current: None,
            idle: None,
            ready: VecDeque::new(),
            prev: None,
            accepting_unbound: false,
            running: false,
            need_resched: false,
        }
    }
}

per_cpu! {
    static QUEUES: Mutex<RunQueue> = Mutex::new(RunQueue::new());
}
per_cpu! {
    /// Ready threads per CPU, readable without the lock (for placement).
    static QUEUED: AtomicUsize = AtomicUsize::new(0);
}
per_cpu! {
    /// Whether each CPU takes unbound threads (`accepting_unbound &&
    /// running`), readable without the lock, so placing a woken thread does
    /// not lock every CPU's queue. `enqueue` re-checks under the lock.
    static OPEN: AtomicBool = AtomicBool::new(false);
}

/// Mirrors `rq`'s openness to unbound threads into `OPEN`; called under
/// the queue lock after every change of either flag.
fn publish_open(cpu: CpuId, rq: &RunQueue) {
    OPEN.get(cpu)
        .store(rq.accepting_unbound && rq.running, Ordering::Release);
}

/// `cpu`'s queue lock, for crash reports that may only try it.
pub(super) fn rq(cpu: CpuId) -> &'static Mutex<RunQueue> {
    QUEUES.get(cpu)
}

pub(super) fn with_rq<R>(cpu: CpuId, f: impl FnOnce(&mut RunQueue) -> R) -> R {
    arch::cpu::without_interrupts(|| f(&mut QUEUES.get(cpu).lock()))
}

/// Runs `f` on the running CPU's queue, with interrupts off so the thread
/// cannot migrate while it looks.
pub(super) fn with_this_rq<R>(f: impl FnOnce(CpuId, &mut RunQueue) -> R) -> R {
    QUEUES.with_current(|cpu, rq| f(cpu, &mut rq.lock()))
}

fn count(cpu: CpuId, ready: usize) {
    QUEUED.get(cpu).store(ready, Ordering::Relaxed);
}

/// Ready threads queued on `cpu`.
pub fn nr_queued(cpu: CpuId) -> usize {
    QUEUED.get(cpu).load(Ordering::Relaxed)
}

/// Reserves `cpu`'s ready queue, before its first online.
pub(super) fn reserve(cpu: CpuId) {
    with_rq(cpu, |rq| rq.ready.reserve(QUEUE_CAPACITY));
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
/// were parked). After a CPU was forced down with INIT it may not be: what
/// was queued there (saved contexts) stays queued and runs once the CPU is
/// back, unless the control CPU's cleanup (`dead.rs`) moved it: it does so
/// for unbound threads, and parks or replaces per-CPU threads. A thread
/// that was running there when INIT hit can never run again (arch voids
/// its context): the cleanup marks it dead, and should a wake-up still
/// queue one, `schedule` reports and drops it when `switch_to` refuses it
/// (`NotResumable`).
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

/// Whether `cpu` runs the scheduler (between `start_cpu` and `stop_cpu`).
pub(super) fn is_running(cpu: CpuId) -> bool {
    with_rq(cpu, |rq| rq.running)
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

/// What a dead CPU's queue held as running: its current thread and the
/// one it was switching away from (with whether that one was runnable).
pub(super) struct CutOff {
    pub current: Option<Arc<Thread>>,
    pub previous: Option<(Arc<Thread>, bool)>,
}

/// `cpu` died without stopping its scheduler (forced down with INIT): it
/// schedules and accepts nothing any more, its idle thread is parked, and
/// what it was running is handed back for `dead` to deal with.
pub(super) fn stop_dead_cpu(cpu: CpuId) -> CutOff {
    with_rq(cpu, |rq| {
        rq.running = false;
        rq.accepting_unbound = false;
        publish_open(cpu, rq);
        rq.need_resched = false;
        let idle = |t: &Arc<Thread>| t.idle;
        // Running or switched away from: parked either way, as `stop_cpu`
        // leaves it.
        if let Some(t) = &rq.idle {
            t.set_state(ThreadState::Parked);
        }
        let current = rq.current.take();
        CutOff {
            current: current.filter(|t| !idle(t)),
            previous: rq.prev.take().filter(|(t, _)| !idle(t)),
        }
    })
}

/// Takes `thread` off `cpu`'s ready queue; whether it was there.
pub(super) fn remove_ready(cpu: CpuId, thread: &Arc<Thread>) -> bool {
    with_rq(cpu, |rq| {
        let before = rq.ready.len();
        rq.ready.retain(|t| !Arc::ptr_eq(t, thread));
        count(cpu, rq.ready.len());
        rq.ready.len() != before
    })
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
    with_this_rq(|cpu, rq| {
        rq.need_resched = false;
        let prev = rq.current.clone().expect("scheduler running");
        // `Ready`: woken after it chose to sleep or park but before it
        // switched away; its waker left it to us (see `wake`).
        let prev_runnable = matches!(prev.state(), ThreadState::Running | ThreadState::Ready);
        let next = match rq.ready.pop_front() {
            Some(next) => next,
            None if prev_runnable => {
                prev.set_state(ThreadState::Running);
                return None;
            }
            None => rq.idle.clone().expect("idle thread"),
        };
        count(cpu, rq.ready.len());
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

/// Undoes the last `pick_next` after `switch_to` refused its thread (its
/// context cannot be resumed): the thread that was running stays current
/// (runnable again if it was, or was woken meanwhile), and the refused one
/// is returned, out of every queue. Returns `None` if it was the idle
/// thread, which nothing can replace.
pub(super) fn undo_pick() -> Option<Arc<Thread>> {
    with_this_rq(|_, rq| {
        let (prev, runnable) = rq.prev.take().expect("a pick to undo");
        if runnable {
            prev.set_state(ThreadState::Running);
        }
        let refused = rq.current.replace(prev).expect("the refused thread");
        (!refused.idle).then_some(refused)
    })
}

/// Runs on the context just switched to: the previous thread's context is
/// now saved, so it may be queued (here or elsewhere) or reaped.
pub(super) fn finish_switch() {
    let (cpu, prev) = with_this_rq(|cpu, rq| (cpu, rq.prev.take()));
    if let Some((prev, runnable)) = prev {
        if prev.state() == ThreadState::Dead {
            thread::reap(&prev);
        } else if runnable && !prev.idle {
            // Preempted, yielded, or woken while switching out (its waker
            // left it to us). The idle thread is never queued.
            enqueue(prev, Some(cpu));
        }
    }
    let waiting = with_rq(cpu, |rq| !rq.ready.is_empty());
    crate::timer::set_slice(waiting.then(|| arch::time::now_ns() + SLICE_NS));
}

/// The least loaded CPU accepting unbound threads (the boot CPU if none
/// does: it never goes down).
fn placement(prefer: Option<CpuId>) -> CpuId {
    queues::least_loaded(
        prefer,
        cpus::all().len(),
        |c| OPEN.get(c).load(Ordering::Acquire),
        nr_queued,
    )
    .unwrap_or(CpuId::BOOT)
}

/// Queues a ready thread whose context is saved: a bound one on its CPU,
/// an unbound one on `prefer` if that is a good place, else the least
/// loaded active CPU. IPIs the CPU if it is not this one.
pub(super) fn enqueue(thread: Arc<Thread>, prefer: Option<CpuId>) {
    let first = thread.bound.unwrap_or_else(|| placement(prefer));
    enqueue_at(thread, first);
}

/// Queues `thread` on `first`, or, if that CPU no longer takes unbound
/// threads, on the least loaded one that does.
fn enqueue_at(thread: Arc<Thread>, first: CpuId) {
    let mut target = first;
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
    // Interrupts off, so the waker cannot move between the comparison and
    // acting on it.
    arch::cpu::without_interrupts(|| {
        if target == this_cpu() {
            note_queued();
        } else if let Some(entry) = cpus::get(target) {
            // The target runs `note_queued` from its WAKE interrupt.
            arch::apic::send_ipi(entry.apic_id, arch::interrupts::vector::WAKE);
        }
    });
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

/// What a waker found, under the woken thread's CPU's queue lock.
enum Woken {
    /// Not in the state to wake from: someone else woke it, or it never
    /// went to sleep.
    NotWaiting,
    /// It moved to another CPU between reading its CPU and the lock.
    Moved,
    /// Its context may still be live on its CPU, which queues it.
    LeftToItsCpu,
    /// Its context is saved: the waker queues it.
    Saved,
}

/// Makes `thread` ready if it is in state `from` (sleeping or parked). The
/// transition is one compare-and-swap, so of two wakers only one goes on.
/// A thread whose context may not be saved yet is never queued: if it is
/// still its CPU's current thread, that CPU's own `pick_next` sees it
/// woken and keeps it; if that CPU is switching away from it, the CPU's
/// `finish_switch` queues it once its registers are saved (Linux's
/// wake-list for a task still `on_cpu`). The transition and that check are
/// made under the thread's CPU's queue lock, which `pick_next` and
/// `finish_switch` hold for the same fields, so exactly one of them queues
/// it. So no CPU ever waits in `switch_to` for a context another CPU is
/// still saving, and a CPU that stops mid-switch (forced down) stalls
/// nobody.
pub(super) fn wake(thread: &Arc<Thread>, from: ThreadState) {
    loop {
        if thread.state() != from {
            return;
        }
        let home = thread.cpu();
        let found = with_rq(home, |rq| {
            // Picking it, finishing a switch away from it and pushing it
            // off a queue all need this lock: if `home` is still its CPU
            // here, it stays so until the lock is dropped.
            if thread.cpu() != home {
                return Woken::Moved;
            }
            if !thread.transition(from, ThreadState::Ready) {
                return Woken::NotWaiting;
            }
            if rq.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, thread)) {
                return Woken::LeftToItsCpu;
            }
            match rq.prev.as_mut() {
                Some((prev, runnable)) if Arc::ptr_eq(prev, thread) => {
                    *runnable = true;
                    Woken::LeftToItsCpu
                }
                _ => Woken::Saved,
            }
        });
        match found {
            Woken::Moved => continue,
            Woken::NotWaiting | Woken::LeftToItsCpu => return,
            Woken::Saved => return enqueue(thread.clone(), Some(home)),
        }
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
