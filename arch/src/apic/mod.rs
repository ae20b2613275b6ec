//! The local APIC of the running CPU: one interface, two back ends (x2APIC
//! MSRs, xAPIC MMIO).
//!
//! Built on the `x2apic` crate, which picks x2APIC mode when CPUID offers it
//! and xAPIC otherwise. `lapic` hides the places where the two modes
//! differ, so no `if x2apic` leaks into the rest of the kernel.
//!
//! A LAPIC only ever talks to the APIC of the CPU running it, so each CPU
//! keeps its own in its per-CPU area and every function here acts on the
//! current CPU. Nothing here may touch another CPU's LAPIC state.
//!
//! The I/O APICs, which all CPUs share, are [`ioapic`]'s.

pub mod ioapic;
pub mod ioapic_regs;
pub mod irq_line;
pub(crate) mod lapic;

pub use crate::cpuid::{crystal_cpuid, CrystalCpuid};
pub(crate) use lapic::Lapic;
pub use lapic::{ApicError, ApicMode, TIMER_DIVIDE};

use crate::percpu;
use crate::{vector, ApicId};
use lapic::{
    LVT_MASKED, REG_ESR, REG_LVT_ERROR, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_TIMER, REG_TPR,
};

/// Enables the current CPU's LAPIC with our vectors, LINT0/1 masked and the
/// timer stopped, and stores it in the per-CPU area.
pub fn init_current() -> Result<ApicMode, ApicError> {
    let lapic = Lapic::enable_here()?;
    let mode = lapic.mode();
    crate::cpu::without_interrupts(|| {
        let area = percpu::current();
        area.with_lapic(|slot| *slot = Some(lapic));
        area.set_apic_mode(mode);
    });
    Ok(mode)
}

fn with_current<R>(f: impl FnOnce(&mut Lapic, &percpu::PerCpu) -> R) -> R {
    // Interrupts go off before the CPU is looked up, so a preempted thread
    // cannot look up one CPU and then run on another.
    crate::cpu::without_interrupts(|| {
        let area = percpu::current();
        area.with_lapic(|slot| f(slot.as_mut().expect("LAPIC not enabled on this CPU"), area))
    })
}

/// The running CPU's APIC id, read from hardware.
pub fn current_id() -> ApicId {
    with_current(|l, _| l.id())
}

/// Readies this CPU's LAPIC for work: accept every priority (TPR 0), clear
/// stale errors, unmask the error and timer LVTs (SDM Vol. 3A 11.5, 11.8).
pub fn setup_local_vectors() {
    with_current(|l, _| {
        l.write(REG_TPR, 0);
        // ESR is write-then-read: a write latches and clears it.
        l.write(REG_ESR, 0);
        l.write(REG_LVT_ERROR, u32::from(vector::APIC_ERROR));
        l.write(REG_LVT_TIMER, l.timer_lvt());
    })
}

/// Silences this CPU's LAPIC before it goes away: timer stopped and every
/// local source masked, so no interrupt is left pending for a dead CPU.
/// IPIs still arrive (they are not LVT sources).
pub fn quiesce_local_vectors() {
    with_current(|l, _| {
        l.disarm_timer();
        l.write(REG_LVT_TIMER, LVT_MASKED | l.timer_lvt());
        l.write(REG_LVT_ERROR, LVT_MASKED | u32::from(vector::APIC_ERROR));
        l.write(REG_LVT_LINT0, LVT_MASKED);
        l.write(REG_LVT_LINT1, LVT_MASKED);
    })
}

/// Signals end of interrupt.
pub fn end_of_interrupt() {
    with_current(|l, _| l.end_of_interrupt())
}

/// Sends a fixed IPI on `vector` to `dest`.
pub fn send_ipi(dest: ApicId, vector: u8) {
    with_current(|l, _| l.send_ipi(dest, vector))
}

/// Whether this CPU's LAPIC mode can send an IPI to `dest`: x2APIC names
/// every 32-bit id, xAPIC only ids up to 254. The kernel never starts, and
/// arch never signals, a CPU it cannot address.
pub fn can_address(dest: ApicId) -> bool {
    with_current(|l, _| l.destination(dest).is_some())
}

/// Sends INIT to `dest`, resetting it into wait-for-SIPI.
pub(crate) fn send_init(dest: ApicId) {
    with_current(|l, _| l.send_init(dest))
}

/// Sends a start-up IPI making `dest` run real-mode code at `page << 12`.
pub(crate) fn send_startup(dest: ApicId, page: u8) {
    with_current(|l, _| l.send_startup(dest, page))
}

/// Measures this CPU's LAPIC timer rate against the TSC and keeps it for
/// this CPU's deadlines; returns ticks per millisecond (0 in TSC-deadline
/// mode, which needs no rate).
///
/// Each round dates the count at both ends by the TSC reads on either
/// side of it, so a round disturbed by the host only lengthens the window,
/// not the ratio; the median of the rounds drops the odd outlier.
pub fn calibrate_timer(rounds: usize, window_ns: u64) -> u64 {
    if timer_is_tsc_deadline() {
        // Deadlines are in TSC ticks: nothing to measure.
        return 0;
    }
    const MAX_ROUNDS: usize = 5;
    let rounds = rounds.clamp(1, MAX_ROUNDS);
    let mut results = [0u64; MAX_ROUNDS];
    for round in results[..rounds].iter_mut() {
        *round = with_current(|l, _| l.measure_timer_rate(window_ns, false));
    }
    results[..rounds].sort_unstable();
    let ticks_per_ms = results[rounds / 2].max(1);
    with_current(|_, area| area.set_timer_ticks_per_ms(ticks_per_ms));
    ticks_per_ms
}

/// A quick look at this CPU's LAPIC timer rate, in ticks per millisecond
/// at [`TIMER_DIVIDE`] like [`calibrate_timer`]'s, over one `window_ns`
/// window counted at divide-by-1. Kept nowhere: it checks a rate found
/// elsewhere. 0 in TSC-deadline mode. Stops the timer.
pub fn sample_timer_rate(window_ns: u64) -> u64 {
    if timer_is_tsc_deadline() {
        return 0;
    }
    with_current(|l, _| l.measure_timer_rate(window_ns, true))
}

/// Takes `ticks_per_ms` (at [`TIMER_DIVIDE`]) as this CPU's LAPIC timer
/// rate for its deadlines, instead of measuring it: a rate another CPU
/// measured, or one CPUID gives.
pub fn set_timer_rate(ticks_per_ms: u64) {
    with_current(|_, area| area.set_timer_ticks_per_ms(ticks_per_ms.max(1)))
}

/// Arms this CPU's LAPIC timer to fire in `ns` nanoseconds.
pub fn arm_timer_ns(ns: u64) {
    with_current(|l, area| l.arm_timer(ns, area.timer_ticks_per_ms()))
}

/// Whether this CPU's timer runs in TSC-deadline mode.
pub fn timer_is_tsc_deadline() -> bool {
    with_current(|l, _| l.tsc_deadline())
}

/// Stops this CPU's LAPIC timer.
pub fn stop_timer() {
    with_current(|l, _| l.disarm_timer())
}
