//! Per-CPU timer queues on one-shot LAPIC deadlines.
//!
//! Each CPU owns a queue sorted by deadline; its LAPIC timer is programmed
//! for the earliest of: the first timer, the scheduler's slice end, and a
//! `halt_until` wake-up. Callbacks run on the owning CPU, in its timer
//! interrupt, with interrupts off. A queue that is not live (its CPU is
//! going or gone) accepts nothing: adds are redirected to a live CPU, and
//! hotplug teardown moves what is left, so no timer is ever lost.
//!
//! Every lock here is taken with interrupts off.

mod lateness;

pub use lateness::summary as lateness;

use crate::cpus;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use hotplug::CpuId;
use spin::{Mutex, Once};

/// The running CPU, as of this call.
fn current_cpu() -> CpuId {
    CpuId(arch::percpu::current_index_snapshot() as u32)
}

/// A timer callback, run with interrupts off on the owning CPU.
pub type TimerFn = fn(usize);

/// Names one armed timer, for `cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(u64);

struct Timer {
    id: u64,
    deadline_ns: u64,
    callback: TimerFn,
    arg: usize,
}

struct Queue {
    /// Sorted by deadline, earliest first.
    timers: Vec<Timer>,
    live: bool,
    slice_end: Option<u64>,
    halt_wakeup: Option<u64>,
}

/// Preallocated so that steady-state arming never grows the heap.
const QUEUE_CAPACITY: usize = 256;

static QUEUES: Once<Vec<Mutex<Queue>>> = Once::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Held while timers move between queues, and by `cancel`: a timer in
/// transit is in no queue, so a cancel that ran then would miss it.
static MOVING: Mutex<()> = Mutex::new(());
/// Timer interrupts taken, per CPU.
static IRQS: Once<Vec<AtomicU64>> = Once::new();

fn queue(cpu: CpuId) -> &'static Mutex<Queue> {
    &QUEUES.get().expect("timer::init not called")[cpu.index()]
}

fn with_queue<R>(cpu: CpuId, f: impl FnOnce(&mut Queue) -> R) -> R {
    arch::cpu::without_interrupts(|| f(&mut queue(cpu).lock()))
}

/// Creates every CPU's queue (not live) and makes the boot CPU's live.
pub fn init() {
    let n = cpus::all().len();
    QUEUES.call_once(|| {
        (0..n)
            .map(|_| {
                Mutex::new(Queue {
                    timers: Vec::with_capacity(QUEUE_CAPACITY),
                    live: false,
                    slice_end: None,
                    halt_wakeup: None,
                })
            })
            .collect()
    });
    IRQS.call_once(|| (0..n).map(|_| AtomicU64::new(0)).collect());
    arch::interrupts::set_hook(arch::interrupts::Hook::Timer, on_interrupt);
    arch::smp::set_wakeup_timer(arm_halt_wakeup, cancel_halt_wakeup);
    set_live(CpuId::BOOT, true);
}

/// Opens or closes `cpu`'s queue to new timers.
pub fn set_live(cpu: CpuId, live: bool) {
    with_queue(cpu, |q| q.live = live);
}

fn first_live(except: CpuId) -> CpuId {
    (0..QUEUES.get().map_or(0, Vec::len) as u32)
        .map(CpuId)
        .find(|&c| c != except && with_queue(c, |q| q.live))
        .unwrap_or(CpuId::BOOT)
}

/// Arms `callback(arg)` to run on `cpu` at `deadline_ns` (monotonic clock).
/// If `cpu` is not live, the timer goes to a live CPU instead.
pub fn add(cpu: CpuId, deadline_ns: u64, callback: TimerFn, arg: usize) -> TimerId {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    insert(
        cpu,
        Timer {
            id,
            deadline_ns,
            callback,
            arg,
        },
    );
    TimerId(id)
}

fn insert(cpu: CpuId, timer: Timer) {
    let mut target = cpu;
    let mut timer = Some(timer);
    loop {
        with_queue(target, |q| {
            if q.live {
                let t = timer.take().expect("inserted once");
                let at = q.timers.partition_point(|x| x.deadline_ns <= t.deadline_ns);
                q.timers.insert(at, t);
            }
        });
        if timer.is_none() {
            break;
        }
        target = first_live(target);
    }
    kick(target);
}

/// Cancels a timer that has not fired. Returns whether it was still armed.
pub fn cancel(id: TimerId) -> bool {
    arch::cpu::without_interrupts(|| {
        let _moving = MOVING.lock();
        (0..QUEUES.get().map_or(0, Vec::len) as u32).any(|c| {
            with_queue(CpuId(c), |q| {
                match q.timers.iter().position(|t| t.id == id.0) {
                    Some(at) => {
                        q.timers.remove(at);
                        true
                    }
                    None => false,
                }
            })
        })
    })
}

/// Makes `cpu` re-program its LAPIC timer (here, or by IPI elsewhere).
fn kick(cpu: CpuId) {
    arch::cpu::without_interrupts(|| {
        if cpu == current_cpu() {
            program();
        } else if let Some(entry) = cpus::get(cpu) {
            arch::apic::send_ipi(entry.apic_id, arch::interrupts::vector::WAKE);
        }
    })
}

/// Programs this CPU's LAPIC timer for its next event (or stops it). All
/// with interrupts off: a thread preempted in between could otherwise
/// write a stale deadline, or another CPU's, into this LAPIC.
pub fn program() {
    arch::cpu::without_interrupts(|| {
        let next = with_this_queue(|q| {
            [
                q.timers.first().map(|t| t.deadline_ns),
                q.slice_end,
                q.halt_wakeup,
            ]
            .into_iter()
            .flatten()
            .min()
        });
        match next {
            Some(at) => arch::apic::arm_timer_ns(at.saturating_sub(arch::time::now_ns()).max(1)),
            None => arch::apic::stop_timer(),
        }
    })
}

/// Runs `f` on the running CPU's queue, looked up with interrupts off.
fn with_this_queue<R>(f: impl FnOnce(&mut Queue) -> R) -> R {
    arch::cpu::without_interrupts(|| with_queue(current_cpu(), f))
}

/// The timer interrupt: run every expired timer, note an expired slice.
fn on_interrupt() {
    let cpu = current_cpu();
    IRQS.get().expect("timer::init")[cpu.index()].fetch_add(1, Ordering::Relaxed);
    loop {
        let now = arch::time::now_ns();
        let due = with_queue(cpu, |q| {
            if q.halt_wakeup.is_some_and(|t| t <= now) {
                q.halt_wakeup = None;
            }
            match q.timers.first() {
                Some(t) if t.deadline_ns <= now => Some(q.timers.remove(0)),
                _ => None,
            }
        });
        match due {
            // Run outside the lock: a callback may arm another timer.
            Some(timer) => {
                lateness::record(now - timer.deadline_ns);
                (timer.callback)(timer.arg)
            }
            None => break,
        }
    }
    let slice_over = with_queue(cpu, |q| {
        let over = q.slice_end.is_some_and(|t| t <= arch::time::now_ns());
        if over {
            q.slice_end = None;
        }
        over
    });
    if slice_over {
        crate::sched::slice_expired();
    }
    program();
}

/// Sets (or clears) this CPU's scheduler slice end.
pub fn set_slice(end: Option<u64>) {
    arch::cpu::without_interrupts(|| {
        with_this_queue(|q| q.slice_end = end);
        program();
    })
}

/// Sets this CPU's slice end if it has none.
pub fn ensure_slice(end: u64) {
    arch::cpu::without_interrupts(|| {
        if with_this_queue(|q| q.slice_end.is_none()) {
            set_slice(Some(end));
        }
    })
}

fn arm_halt_wakeup(ns: u64) {
    let at = arch::time::now_ns() + ns;
    arch::cpu::without_interrupts(|| {
        with_this_queue(|q| q.halt_wakeup = Some(at));
        program();
    })
}

fn cancel_halt_wakeup() {
    arch::cpu::without_interrupts(|| {
        with_this_queue(|q| q.halt_wakeup = None);
        program();
    })
}

/// Moves every timer queued on `from` to a live CPU. Returns how many.
pub fn migrate_all(from: CpuId) -> usize {
    arch::cpu::without_interrupts(|| {
        let _moving = MOVING.lock();
        // The emptied queue keeps a full-size buffer for the next online.
        let moved = with_queue(from, |q| {
            core::mem::replace(&mut q.timers, Vec::with_capacity(QUEUE_CAPACITY))
        });
        let count = moved.len();
        for timer in moved {
            insert(first_live(from), timer);
        }
        count
    })
}

/// Pending timers on `cpu`.
pub fn pending(cpu: CpuId) -> usize {
    with_queue(cpu, |q| q.timers.len())
}

/// Timer interrupts `cpu` has taken.
pub fn interrupts(cpu: CpuId) -> u64 {
    IRQS.get()
        .map_or(0, |v| v[cpu.index()].load(Ordering::Relaxed))
}
