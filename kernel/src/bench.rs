//! `bench [cycles]`: offline/online cycles on every AP, timed with the TSC,
//! with the median time each state's callback took, so the floor (the kick
//! itself) is visible next to the total.

use crate::cpuhp::{self, Kernel};
use crate::{cpus, smp_boot};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::{CpuId, Direction, StateId, StepEvent, StepOutcome};
use spin::Mutex;

/// Default cycles per AP.
pub const DEFAULT_CYCLES: u32 = 10;

static RECORDING: AtomicBool = AtomicBool::new(false);
/// Per state: (bring-up samples, teardown samples), in nanoseconds.
static SAMPLES: Mutex<Vec<(Vec<u64>, Vec<u64>)>> = Mutex::new(Vec::new());

/// Hears of every hotplug callback, on either side.
static RECORDER: fn(&StepEvent) = record;

/// Starts listening to the engine's step events (recorded only while a
/// bench runs).
pub fn init() -> Result<(), hotplug::ObserversFull> {
    cpuhp::engine().add_observer(&RECORDER).map(|_| ())
}

/// Keeps the duration of each callback that ran while recording.
fn record(event: &StepEvent) {
    if !RECORDING.load(Ordering::Acquire) || event.outcome != StepOutcome::Done {
        return;
    }
    let (state, direction, ns) = (
        event.state,
        event.direction,
        event.end_ns.saturating_sub(event.start_ns),
    );
    arch::cpu::without_interrupts(|| {
        let mut samples = SAMPLES.lock();
        if let Some((up, down)) = samples.get_mut(state.index()) {
            let list = if direction == Direction::Up { up } else { down };
            if list.len() < list.capacity() {
                list.push(ns);
            }
        }
    });
}

fn median(samples: &mut [u64]) -> u64 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or(0)
}

fn min_median_max(samples: &mut [u64]) -> (u64, u64, u64) {
    samples.sort_unstable();
    match samples {
        [] => (0, 0, 0),
        s => (s[0], s[s.len() / 2], s[s.len() - 1]),
    }
}

/// Runs the benchmark and prints its report and status line.
pub fn run(cycles: u32) {
    let engine = cpuhp::engine();
    let aps: Vec<CpuId> = cpus::all()
        .iter()
        .filter(|e| e.cpu != CpuId::BOOT && e.is_present())
        .map(|e| e.cpu)
        .filter(|&c| engine.state_of(c) == Ok(engine.online_state()))
        .collect();
    if aps.is_empty() {
        println!("error: bench needs at least one online AP");
        return;
    }
    let per_state = cycles as usize * aps.len();
    let states = engine.table_rows();
    let slots = states.iter().map(|r| r.id.index() + 1).max().unwrap_or(0);
    // Every sample is kept (medians need them all): both directions of each
    // state, plus the online and offline totals.
    let need = per_state * core::mem::size_of::<u64>() * (2 * slots + 2);
    let free = arch::memory::heap::free();
    // Half the free heap stays for the rest of the kernel while bench runs.
    if need > free / 2 {
        println!(
            "error: bench: {cycles} cycles x {} APs need {} KiB for samples, {} KiB of heap is free; use fewer cycles",
            aps.len(),
            need / 1024,
            free / 1024
        );
        return;
    }
    arch::cpu::without_interrupts(|| {
        let mut samples = SAMPLES.lock();
        samples.clear();
        samples.resize_with(slots, || {
            (Vec::with_capacity(per_state), Vec::with_capacity(per_state))
        });
    });
    let mut online = Vec::with_capacity(per_state);
    let mut offline = Vec::with_capacity(per_state);
    RECORDING.store(true, Ordering::Release);
    let mut failure = None;
    'cycles: for _ in 0..cycles {
        for &cpu in &aps {
            for (target, times) in [
                (StateId::OFFLINE, &mut offline),
                (engine.online_state(), &mut online),
            ] {
                let start = arch::time::rdtsc();
                if let Err(e) = engine.set_target(&Kernel, cpu, target) {
                    failure = Some(e);
                    break 'cycles;
                }
                times.push(arch::time::ticks_to_ns(arch::time::rdtsc() - start));
            }
        }
    }
    RECORDING.store(false, Ordering::Release);
    let (on_min, on_med, on_max) = min_median_max(&mut online);
    let (off_min, off_med, off_max) = min_median_max(&mut offline);
    let us = |ns: u64| ns / 1000;
    println!("bench: {} cycles x {} APs", cycles, aps.len());
    println!(
        "online  us: min {} median {} max {}",
        us(on_min),
        us(on_med),
        us(on_max)
    );
    println!(
        "offline us: min {} median {} max {}",
        us(off_min),
        us(off_med),
        us(off_max)
    );
    println!(
        "boot bring-up us: {}",
        smp_boot::BOOT_BRINGUP_US.load(Ordering::Relaxed)
    );
    println!("state            side  up-median-us  down-median-us");
    let mut samples = arch::cpu::without_interrupts(|| core::mem::take(&mut *SAMPLES.lock()));
    for row in &states {
        if let Some((up, down)) = samples.get_mut(row.id.index()) {
            if up.is_empty() && down.is_empty() {
                continue;
            }
            let (up, down) = (median(up), median(down));
            println!(
                "{:<16} {:<5} {:>9}.{:01} {:>11}.{:01}",
                row.name,
                row.side,
                up / 1000,
                up % 1000 / 100,
                down / 1000,
                down % 1000 / 100
            );
        }
    }
    drop(samples);
    match failure {
        Some(e) => println!("error: {e}"),
        None => println!(
            "ok: online median {} us, offline median {} us",
            us(on_med),
            us(off_med)
        ),
    }
}
