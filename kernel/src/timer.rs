//! Per-CPU timer queues on one-shot LAPIC deadlines.
//!
//! Each CPU owns a queue sorted by deadline (`queues::TimerQueue`); its
//! LAPIC timer is programmed for the earliest of: the first timer, the
//! scheduler's slice end, and a `halt_until` wake-up. Callbacks run on the
//! owning CPU, in its timer interrupt, with interrupts off. A queue that is
//! not live (its CPU is going or gone) accepts nothing: adds are redirected
//! to a live CPU, and hotplug teardown moves what is left, so no timer is
//! ever lost.
//!
//! It never decides scheduling: a slice end is reported to whoever
//! registered with [`set_slice_handler`]. Every lock here is taken with
//! interrupts off.

use crate::cpus;
use crate::percpu::{current_cpu, disable_irqs};
use core::sync::atomic::{AtomicU64, Ordering};
use hotplug::CpuId;
use queues::{Lateness, LatenessSummary, Timer, TimerQueue};
use spin::{Mutex, Once};

/// A timer callback, run with interrupts off on the owning CPU.
pub type TimerFn = fn(usize);

/// Names one armed timer, for `cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(u64);

type Queue = TimerQueue<(TimerFn, usize)>;

/// Reserved per queue so that steady-state arming never grows the heap.
const QUEUE_CAPACITY: usize = 256;

per_cpu! {
    static QUEUES: Mutex<Queue> = Mutex::new(TimerQueue::new());
}
per_cpu! {
    /// Timer interrupts taken, per CPU.
    static IRQS: AtomicU64 = AtomicU64::new(0);
}
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Held while timers move between queues, and by `cancel`: a timer in
/// transit is in no queue, so a cancel that ran then would miss it.
static MOVING: Mutex<()> = Mutex::new(());
static LATENESS: Lateness = Lateness::new();
/// Told when the running thread's slice is over (the scheduler).
static SLICE_HANDLER: Once<fn()> = Once::new();

fn with_queue<R>(cpu: CpuId, f: impl FnOnce(&mut Queue) -> R) -> R {
    arch::cpu::without_interrupts(|| f(&mut QUEUES.get(cpu).lock()))
}

/// Takes over the LAPIC timer interrupt, the WAKE IPI's re-programming
/// (how [`kick`] reaches another CPU) and `halt_until`'s wake-ups, and
/// opens the boot CPU's queue.
pub fn init() {
    arch::interrupts::set_hook(arch::interrupts::Hook::Timer, on_interrupt);
    // The scheduler's part of a WAKE runs after EOI (its preemption point).
    arch::interrupts::set_hook(arch::interrupts::Hook::Wake, program);
    arch::smp::set_wakeup_timer(arm_halt_wakeup, cancel_halt_wakeup);
    with_queue(CpuId::BOOT, |q| q.reserve(QUEUE_CAPACITY));
    set_live(CpuId::BOOT, true);
}

/// Who hears that a slice ended; set once by the scheduler.
pub fn set_slice_handler(handler: fn()) {
    SLICE_HANDLER.call_once(|| handler);
}

/// Opens or closes `cpu`'s queue to new timers.
pub fn set_live(cpu: CpuId, live: bool) {
    with_queue(cpu, |q| q.live = live);
}

/// Whether `cpu`'s queue takes new timers (its CPU is up).
pub fn is_live(cpu: CpuId) -> bool {
    with_queue(cpu, |q| q.live)
}

fn first_live(except: CpuId) -> CpuId {
    queues::first_other(cpus::all().len(), except, |c| with_queue(c, |q| q.live))
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
            callback: (callback, arg),
        },
    );
    TimerId(id)
}

fn insert(cpu: CpuId, timer: Timer<(TimerFn, usize)>) {
    let mut target = cpu;
    let mut timer = Some(timer);
    while let Some(t) = timer.take() {
        timer = with_queue(target, |q| {
            if q.live {
                q.insert(t);
                None
            } else {
                Some(t)
            }
        });
        if timer.is_some() {
            target = first_live(target);
        }
    }
    kick(target);
}

/// Cancels a timer that has not fired. Returns whether it was still armed.
pub fn cancel(id: TimerId) -> bool {
    arch::cpu::without_interrupts(|| {
        let _moving = MOVING.lock();
        (0..cpus::all().len() as u32).any(|c| with_queue(CpuId(c), |q| q.cancel(id.0)))
    })
}

/// Makes `cpu` re-program its LAPIC timer: here at once, elsewhere by a
/// WAKE IPI, whose hook is [`program`] (a CPU halted with its LAPIC timer
/// stopped, or set for a later timer, would otherwise miss a new earlier
/// one).
fn kick(cpu: CpuId) {
    let guard = disable_irqs();
    if cpu == current_cpu(&guard) {
        program();
    } else if let Some(entry) = cpus::get(cpu) {
        arch::apic::send_ipi(entry.apic_id, arch::interrupts::vector::WAKE);
    }
}

/// Programs this CPU's LAPIC timer for its next event (or stops it). All
/// with interrupts off: a thread preempted in between could otherwise
/// write a stale deadline, or another CPU's, into this LAPIC.
pub fn program() {
    let _irqs_off = disable_irqs();
    let next = with_this_queue(|q| q.next_event());
    match next {
        Some(at) => arch::apic::arm_timer_ns(queues::delay_ns(at, arch::time::now_ns())),
        None => arch::apic::stop_timer(),
    }
}

/// Runs `f` on the running CPU's queue.
fn with_this_queue<R>(f: impl FnOnce(&mut Queue) -> R) -> R {
    QUEUES.with_current(|_, q| f(&mut q.lock()))
}

/// The timer interrupt: run every expired timer, note an expired slice.
fn on_interrupt() {
    // An interrupt handler runs with interrupts off, so this stays the CPU
    // throughout; no guard is held while callbacks run (one that woke a
    // thread and switched would otherwise carry it across the switch).
    let cpu = crate::percpu::this_cpu();
    IRQS.get(cpu).fetch_add(1, Ordering::Relaxed);
    loop {
        let now = arch::time::now_ns();
        // Run outside the lock: a callback may arm another timer.
        match with_queue(cpu, |q| q.pop_due(now)) {
            Some(timer) => {
                LATENESS.record(now - timer.deadline_ns);
                let (callback, arg) = timer.callback;
                callback(arg);
                // A callback must not switch: this loop would then serve
                // another CPU's queue from here.
                assert_eq!(
                    crate::percpu::this_cpu(),
                    cpu,
                    "a timer callback switched CPUs"
                );
            }
            None => break,
        }
    }
    if with_queue(cpu, |q| q.take_expired_slice(arch::time::now_ns())) {
        if let Some(handler) = SLICE_HANDLER.get() {
            handler();
        }
    }
    program();
}

/// Sets (or clears) this CPU's scheduler slice end.
pub fn set_slice(end: Option<u64>) {
    let _irqs_off = disable_irqs();
    with_this_queue(|q| q.slice_end = end);
    program();
}

/// Sets this CPU's slice end if it has none.
pub fn ensure_slice(end: u64) {
    let _irqs_off = disable_irqs();
    if with_this_queue(|q| q.slice_end.is_none()) {
        set_slice(Some(end));
    }
}

fn arm_halt_wakeup(ns: u64) {
    let at = arch::time::now_ns() + ns;
    let _irqs_off = disable_irqs();
    with_this_queue(|q| q.halt_wakeup = Some(at));
    program();
}

fn cancel_halt_wakeup() {
    let _irqs_off = disable_irqs();
    with_this_queue(|q| q.halt_wakeup = None);
    program();
}

/// Moves every timer queued on `from` to a live CPU and leaves `from`'s
/// queue empty with room reserved for its next online. Returns how many
/// moved.
pub fn migrate_all(from: CpuId) -> usize {
    arch::cpu::without_interrupts(|| {
        let _moving = MOVING.lock();
        let moved = with_queue(from, |q| q.take_all(QUEUE_CAPACITY));
        let count = moved.len();
        for timer in moved {
            insert(first_live(from), timer);
        }
        count
    })
}

/// Pending timers on `cpu`.
pub fn pending(cpu: CpuId) -> usize {
    with_queue(cpu, |q| q.len())
}

/// Timer interrupts `cpu` has taken.
pub fn interrupts(cpu: CpuId) -> u64 {
    IRQS.get(cpu).load(Ordering::Relaxed)
}

/// How late timers have fired so far, over every CPU.
pub fn lateness() -> LatenessSummary {
    LATENESS.summary()
}
