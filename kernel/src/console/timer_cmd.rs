//! `timer <cpus> <ms>`: arm one timer on each CPU of a list from the
//! console's CPU, all with the same deadline, and wait until they fire, to
//! see that a timer added from elsewhere reaches that CPU's LAPIC on time
//! (the insert kicks the CPU with a WAKE IPI), and that the console's own
//! wait leaves no timer behind.
//!
//! It owns no timer logic: each timer is an ordinary `timer::add`, whose
//! callback notes when and where it ran and wakes the console.

use super::cpu_list::{self, Members, Named, Scope};
use crate::percpu::this_cpu;
use crate::{cpus, sched, timer};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use hotplug::CpuId;
use shell::{CpuList, CpuSet};

/// How long after its deadline the timer may be late before the command
/// gives up (TCG guests are noisy; a lost kick is lost for ever).
const GRACE_NS: u64 = 5_000_000_000;

/// A timer's argument: the arming in the high bits, the CPU it was armed
/// on in the low ones (CPU numbers are below `MAX_CPUS`, 1024).
const CPU_BITS: u32 = 16;

/// Which arming the callbacks belong to: a timer left from a command that
/// gave up must not count for the next one.
static ARMING: AtomicU64 = AtomicU64::new(0);
/// The thread waiting for them (the console).
static WAITER: AtomicU64 = AtomicU64::new(0);

/// Where and when the timer armed on this CPU ran.
struct Fired {
    /// Monotonic ns; 0: not yet.
    at: AtomicU64,
    /// The CPU it ran on.
    on: AtomicU32,
}

per_cpu! {
    /// Indexed by the CPU the timer was armed on.
    static FIRED: Fired = Fired { at: AtomicU64::new(0), on: AtomicU32::new(0) };
}

/// `timer all`: every CPU that takes timers now.
const TAKES_TIMERS: Scope = Scope {
    includes: |entry| timer::is_live(entry.cpu),
    what: "CPU taking timers",
};

/// How one CPU's timer ended.
enum Outcome {
    /// It ran on `on`, `late_us` after its deadline.
    Fired { on: u32, late_us: u64 },
    /// Not run by the give-up time; cancelled.
    Lost,
}

/// Runs the command and prints its status line.
pub fn run(cpus: CpuList, ms: u32) {
    let set = match cpu_list::resolve(cpus, &TAKES_TIMERS) {
        Ok(Members::One(cpu)) => {
            if cpus::get(cpu).is_none() {
                return println!("error: {cpu}: no such CPU");
            }
            if !timer::is_live(cpu) {
                return println!("error: {cpu} takes no timers (it is not up)");
            }
            return match fire(&[cpu], ms)[0] {
                Outcome::Fired { on, late_us } => {
                    println!("ok: {cpu} timer fired on cpu{on} {late_us} us late")
                }
                Outcome::Lost => println!(
                    "error: {cpu} timer has not fired {} ms after its deadline; cancelled",
                    GRACE_NS / 1_000_000
                ),
            };
        }
        Ok(Members::Many(set)) => set,
        Err(refusal) => return println!("error: {refusal}"),
    };
    let down: CpuSet = set.iter().filter(|c| !timer::is_live(CpuId(*c))).collect();
    if !down.is_empty() {
        return println!("error: {} take no timers (not up)", Named(&down));
    }
    let members = cpu_list::ids(&set);
    let outcomes = fire(&members, ms);
    let mut lost = CpuSet::new();
    let mut latest = 0;
    for (cpu, outcome) in members.iter().zip(&outcomes) {
        match outcome {
            Outcome::Fired { on, late_us } => {
                println!("{cpu}: timer fired on cpu{on} {late_us} us late");
                latest = latest.max(*late_us);
            }
            Outcome::Lost => {
                println!("{cpu}: timer has not fired; cancelled");
                lost.insert(cpu.0);
            }
        }
    }
    match lost.is_empty() {
        true => println!("ok: {} timers fired, at most {latest} us late", Named(&set)),
        false => println!(
            "error: {} timers have not fired {} ms after their deadline; cancelled",
            Named(&lost),
            GRACE_NS / 1_000_000
        ),
    }
}

/// Arms one timer on each of `members`, `ms` from now, and waits until all
/// have run or the grace period is over; cancels the ones that have not.
fn fire(members: &[CpuId], ms: u32) -> Vec<Outcome> {
    let arming = ARMING.fetch_add(1, Ordering::AcqRel) + 1;
    for cpu in members {
        FIRED.get(*cpu).at.store(0, Ordering::Release);
    }
    WAITER.store(sched::current().id, Ordering::Release);
    let deadline = arch::time::now_ns() + u64::from(ms) * 1_000_000;
    let tag = (arming << CPU_BITS) as usize;
    let ids: Vec<timer::TimerId> = (members.iter())
        .map(|cpu| timer::add(*cpu, deadline, fired, tag | cpu.index()))
        .collect();
    let give_up = deadline + GRACE_NS;
    let pending = || {
        members
            .iter()
            .any(|c| FIRED.get(*c).at.load(Ordering::Acquire) == 0)
    };
    while pending() && arch::time::now_ns() < give_up {
        sched::sleep_until_woken(give_up);
    }
    (members.iter().zip(ids))
        .map(|(cpu, id)| {
            let slot = FIRED.get(*cpu);
            // Not cancelled: it fired (or is firing right now, elsewhere).
            if slot.at.load(Ordering::Acquire) == 0 && timer::cancel(id) {
                return Outcome::Lost;
            }
            let at = match slot.at.load(Ordering::Acquire) {
                0 => arch::time::now_ns(),
                at => at,
            };
            Outcome::Fired {
                on: slot.on.load(Ordering::Acquire),
                late_us: at.saturating_sub(deadline) / 1000,
            }
        })
        .collect()
}

/// A timer: note when and where, wake the console.
fn fired(arg: usize) {
    if (arg as u64) >> CPU_BITS != ARMING.load(Ordering::Acquire) {
        return;
    }
    let slot = FIRED.get(CpuId((arg & ((1 << CPU_BITS) - 1)) as u32));
    slot.on.store(this_cpu().0, Ordering::Release);
    slot.at
        .store(arch::time::now_ns().max(1), Ordering::Release);
    sched::wake_by_id(WAITER.load(Ordering::Acquire) as usize);
}
