//! `timer <cpu> <ms>`: arm one timer on a CPU from the console's CPU and
//! wait until it fires, to see that a timer added from elsewhere reaches
//! that CPU's LAPIC on time (the insert kicks the CPU with a WAKE IPI),
//! and that the console's own wait leaves no timer behind.
//!
//! It owns no timer logic: the timer is an ordinary `timer::add`, whose
//! callback notes when and where it ran and wakes the console.

use crate::percpu::this_cpu;
use crate::{cpus, sched, timer};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use hotplug::CpuId;

/// How long after its deadline the timer may be late before the command
/// gives up (TCG guests are noisy; a lost kick is lost for ever).
const GRACE_NS: u64 = 5_000_000_000;

/// Which arming the callback belongs to: a timer left from a command that
/// gave up must not count for the next one.
static ARMING: AtomicU64 = AtomicU64::new(0);
/// When the current arming's timer ran (monotonic ns; 0: not yet).
static FIRED_AT: AtomicU64 = AtomicU64::new(0);
/// Where it ran.
static FIRED_ON: AtomicU32 = AtomicU32::new(0);
/// The thread waiting for it (the console).
static WAITER: AtomicU64 = AtomicU64::new(0);

/// Runs the command and prints its status line.
pub fn run(cpu: CpuId, ms: u32) {
    if cpus::get(cpu).is_none() {
        println!("error: {cpu}: no such CPU");
        return;
    }
    if !timer::is_live(cpu) {
        println!("error: {cpu} takes no timers (it is not up)");
        return;
    }
    let arming = ARMING.fetch_add(1, Ordering::AcqRel) + 1;
    FIRED_AT.store(0, Ordering::Release);
    WAITER.store(sched::current().id, Ordering::Release);
    let deadline = arch::time::now_ns() + u64::from(ms) * 1_000_000;
    let id = timer::add(cpu, deadline, fired, arming as usize);
    let give_up = deadline + GRACE_NS;
    while FIRED_AT.load(Ordering::Acquire) == 0 && arch::time::now_ns() < give_up {
        sched::sleep_until_woken(give_up);
    }
    // Not cancelled: it fired (or is firing right now, elsewhere).
    if FIRED_AT.load(Ordering::Acquire) == 0 && timer::cancel(id) {
        println!(
            "error: {cpu} timer has not fired {} ms after its deadline; cancelled",
            GRACE_NS / 1_000_000
        );
        return;
    }
    let at = match FIRED_AT.load(Ordering::Acquire) {
        0 => arch::time::now_ns(),
        at => at,
    };
    println!(
        "ok: {cpu} timer fired on cpu{} {} us late",
        FIRED_ON.load(Ordering::Acquire),
        at.saturating_sub(deadline) / 1000
    );
}

/// The timer: note when and where, wake the console.
fn fired(arming: usize) {
    if arming as u64 != ARMING.load(Ordering::Acquire) {
        return;
    }
    FIRED_ON.store(this_cpu().0, Ordering::Release);
    FIRED_AT.store(arch::time::now_ns().max(1), Ordering::Release);
    sched::wake_by_id(WAITER.load(Ordering::Acquire) as usize);
}
