//! `torture <ops> [seed] [hang-every]`: random online/offline/target
//! operations on random CPUs with random armed faults (and, about once every
//! `hang-every` operations, an armed hang, which forces its CPU offline),
//! while the demo workload and its timers run (Linux's rcutorture onoff, but with faults and partial
//! targets). It ends with `ok` only if no operation failed unexpectedly,
//! every timer fired once, no wakeup was lost and the heap is back where it
//! started.
//!
//! The workload is its own (started and, at the end, stopped and drained)
//! unless the user already runs one. A running workload always has work in
//! flight (each thread holds an armed sleep), so the user's is paused
//! instead: every thread parks between two sleeps, the counters must then
//! agree exactly, and the threads resume afterwards. A lost timer or
//! wakeup keeps its thread from ever parking, which the drain reports.

use crate::cpuhp::{self, Kernel};
use crate::rng::Rng;
use crate::{cpus, demo, sched};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use hotplug::{CpuId, HotplugError, StateId, StepError};

/// Demo threads started for the run if none are running.
const WORKLOAD_THREADS: u32 = 16;
/// Heap a hang may cost for good: INIT cuts the hung AP's frames off, and
/// what they own is never freed (the engine's walk of that request holds
/// one small vector). Measured: 48 bytes; the allowance is generous but
/// keeps a real leak per operation visible.
const CUT_OFF_BYTES: usize = 512;
/// How long the workload gets to drain after the run.
const DRAIN_NS: u64 = 10_000_000_000;

#[derive(Default)]
struct Tally {
    attempts: u64,
    succeeded: u64,
    rolled_back: u64,
    refused: u64,
    /// Hangs armed, and operations that ended with their CPU forced offline
    /// because one fired.
    hangs_armed: u64,
    hangs_recovered: u64,
    unexpected: u64,
    first_unexpected: Option<HotplugError>,
}

fn summary(samples: &mut [u64]) -> (u64, u64, u64) {
    samples.sort_unstable();
    match samples {
        [] => (0, 0, 0),
        s => (s[0], s[s.len() / 2], s[s.len() - 1]),
    }
}

/// What one run does: the console's arguments.
pub struct Options {
    /// Operations to run.
    pub ops: u32,
    /// Seeds every random choice, so a run can be repeated.
    pub seed: u64,
    /// Arm a hang about once every this many operations (each one that
    /// fires costs the 2 s deadline); `None`: no hangs.
    pub hang_every: Option<u32>,
}

/// Whose workload runs under the torture, and so how it is drained.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Started by the run: stopped and drained at the end.
    Own,
    /// The user's: paused at the end, then resumed.
    Users,
}

/// Runs the torture and prints its report and status line.
pub fn run(options: &Options) {
    let Options {
        ops,
        seed,
        hang_every,
    } = *options;
    let engine = cpuhp::engine();
    let aps: Vec<CpuId> = cpus::all()
        .iter()
        .filter(|e| e.cpu != CpuId::BOOT && e.is_present() && e.addressable())
        .map(|e| e.cpu)
        .collect();
    if aps.is_empty() {
        println!("error: torture needs at least one AP");
        return;
    }
    let rows = engine.table_rows();
    let stoppable: Vec<StateId> = rows.iter().filter(|r| r.can_rest).map(|r| r.id).collect();
    // (state, may fail going up, may fail going down), for arming faults
    // that the CPU's next pass through the state can fire.
    let failable: Vec<(StateId, bool, bool)> = (rows.iter())
        .filter(|r| r.up_may_fail || r.down_may_fail)
        .map(|r| (r.id, r.up_may_fail, r.down_may_fail))
        .collect();
    // Built-in AP states; one with a single callback refuses a hang whose
    // next pass has none, which just means no hang that time.
    let hangable: Vec<StateId> = (rows.iter())
        .filter(|r| r.side == hotplug::Side::Ap && !r.dynamic && r.id != engine.online_state())
        .map(|r| r.id)
        .collect();
    let mut online_us = Vec::with_capacity(ops as usize);
    let mut offline_us = Vec::with_capacity(ops as usize);

    let heap_before = arch::memory::heap::used();
    let workload = if demo::RUNNING.load(Ordering::Acquire) == 0 {
        Workload::Own
    } else {
        Workload::Users
    };
    if workload == Workload::Own && demo::spawn(WORKLOAD_THREADS).is_err() {
        println!("error: torture could not start its workload");
        return;
    }
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for _ in 0..ops {
        let cpu = aps[rng.below(aps.len() as u64) as usize];
        if rng.below(4) == 0 {
            // The next pass is a bring-up above the CPU's state, a teardown
            // at or below it (the rule `arm_fault` enforces).
            let at = engine.state_of(cpu).unwrap_or(StateId::OFFLINE);
            let fires = |&&(state, up, down): &&(StateId, bool, bool)| {
                if state > at {
                    up
                } else {
                    down
                }
            };
            let candidates: Vec<StateId> = failable.iter().filter(fires).map(|f| f.0).collect();
            if !candidates.is_empty() {
                let state = candidates[rng.below(candidates.len() as u64) as usize];
                if let Err(e) = engine.arm_fault(cpu, Some(state)) {
                    // Chosen by the same rule: a refusal here is a bug.
                    tally.unexpected += 1;
                    tally.first_unexpected.get_or_insert(e);
                }
            }
        }
        if let Some(every) = hang_every.filter(|_| !hangable.is_empty()) {
            if rng.below(u64::from(every)) == 0 {
                let state = hangable[rng.below(hangable.len() as u64) as usize];
                match engine.arm_hang(cpu, Some(state)) {
                    Ok(()) => tally.hangs_armed += 1,
                    // A state with one callback only (irq:affinity) has
                    // nothing to hang in one direction: no hang this time.
                    Err(HotplugError::CannotHang {
                        why: hotplug::HangRefusal::NoCallback(_),
                        ..
                    }) => {}
                    Err(e) => {
                        tally.unexpected += 1;
                        tally.first_unexpected.get_or_insert(e);
                    }
                }
            }
        }
        let hang_armed = engine.status(cpu).is_ok_and(|s| s.armed_hang.is_some());
        let (target, timed) = match rng.below(5) {
            0 | 1 => (engine.online_state(), Some(true)),
            2 | 3 => (StateId::OFFLINE, Some(false)),
            _ => (stoppable[rng.below(stoppable.len() as u64) as usize], None),
        };
        let from = engine.state_of(cpu).unwrap_or(StateId::OFFLINE);
        let start = arch::time::now_ns();
        let result = engine.set_target(&Kernel, cpu, target);
        let us = (arch::time::now_ns() - start) / 1000;
        tally.attempts += 1;
        match result {
            Ok(()) => {
                tally.succeeded += 1;
                match timed {
                    Some(true) if from != target => online_us.push(us),
                    Some(false) if from != target => offline_us.push(us),
                    _ => {}
                }
            }
            Err(HotplugError::StepFailed(f))
                if f.error == StepError::Injected && f.rollback_errors == 0 =>
            {
                tally.rolled_back += 1;
            }
            // The armed hang fired (going there, or in the rollback of a
            // fault): forced offline, as it must be.
            Err(HotplugError::StepFailed(f))
                if hang_armed && f.forced_offline && f.settled == StateId::OFFLINE =>
            {
                tally.hangs_recovered += 1;
            }
            Err(HotplugError::TargetNotStoppable { .. } | HotplugError::LastOnlineCpu(_)) => {
                tally.refused += 1
            }
            Err(e) => {
                tally.unexpected += 1;
                tally.first_unexpected.get_or_insert(e);
            }
        }
    }
    // Leave every CPU online with no fault armed.
    for &cpu in &aps {
        let _ = engine.arm_fault(cpu, None);
        let _ = engine.arm_hang(cpu, None);
        if let Err(e) = engine.cpu_up(&Kernel, cpu) {
            tally.unexpected += 1;
            tally.first_unexpected.get_or_insert(e);
        }
    }
    let drained = drain(workload);
    let heap_after = arch::memory::heap::used();
    if workload == Workload::Users {
        demo::resume();
    }
    report(
        &tally,
        &mut online_us,
        &mut offline_us,
        &drained,
        heap_before,
        heap_after,
    );
}

/// The workload's counters once it came to rest (or the drain time ran
/// out), and how many of its threads never did.
#[derive(Clone, Copy)]
struct Drained {
    armed: u64,
    fired: u64,
    wakeups: u64,
    restless: usize,
}

/// Brings the workload to rest: stops its own (every thread exits) or
/// pauses the user's (every thread parks holding no timer), then waits
/// until every armed timer fired and every wakeup was counted, or the
/// drain time is up.
fn drain(workload: Workload) -> Drained {
    match workload {
        Workload::Own => demo::stop(),
        Workload::Users => demo::pause(),
    }
    let deadline = arch::time::now_ns() + DRAIN_NS;
    loop {
        let restless = match workload {
            Workload::Own => demo::alive(),
            Workload::Users => demo::unpaused(),
        };
        // Wakeups first: each is counted after its timer fired, and each
        // timer after it was armed, so this order never reads a total
        // ahead of the one before it.
        let wakeups = demo::WAKEUPS.load(Ordering::Acquire);
        let fired = demo::FIRED.load(Ordering::Acquire);
        let armed = demo::ARMED.load(Ordering::Acquire);
        let settled = armed == fired && fired == wakeups;
        if (settled && restless == 0) || arch::time::now_ns() > deadline {
            return Drained {
                armed,
                fired,
                wakeups,
                restless,
            };
        }
        sched::sleep_until(arch::time::now_ns() + 10_000_000);
    }
}

fn report(
    tally: &Tally,
    online_us: &mut [u64],
    offline_us: &mut [u64],
    drained: &Drained,
    heap_before: usize,
    heap_after: usize,
) {
    let Drained {
        armed,
        fired,
        wakeups,
        restless,
    } = *drained;
    let (on_min, on_med, on_max) = summary(online_us);
    let (off_min, off_med, off_max) = summary(offline_us);
    println!(
        "attempts {} succeeded {} expected-rollbacks {} refused {} unexpected {}",
        tally.attempts, tally.succeeded, tally.rolled_back, tally.refused, tally.unexpected
    );
    println!(
        "online  us: n {} min {on_min} median {on_med} max {on_max}",
        online_us.len()
    );
    println!(
        "offline us: n {} min {off_min} median {off_med} max {off_max}",
        offline_us.len()
    );
    println!(
        "hangs armed {} recovered {}",
        tally.hangs_armed, tally.hangs_recovered
    );
    println!("timers armed {armed} fired {fired} wakeups {wakeups}");
    println!("heap before {heap_before} after {heap_after}");
    if let Some(e) = &tally.first_unexpected {
        println!(
            "error: {} unexpected failures, first: {e}",
            tally.unexpected
        );
    } else if armed != fired || fired != wakeups {
        println!("error: lost work: armed {armed} fired {fired} wakeups {wakeups}");
    } else if restless != 0 {
        println!("error: lost work: {restless} demo threads never came to rest");
    } else if heap_after > heap_before + tally.hangs_recovered as usize * CUT_OFF_BYTES {
        println!("error: heap grew from {heap_before} to {heap_after} bytes");
    } else {
        println!(
            "ok: {} ops, {} succeeded, {} rolled back as expected, online median {on_med} us, offline median {off_med} us",
            tally.attempts, tally.succeeded, tally.rolled_back
        );
    }
}
