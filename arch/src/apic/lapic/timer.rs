//! One LAPIC's timer: its mode in the LVT, arming and stopping it, and
//! measuring the rate it counts at. The rate itself is the caller's: kept
//! in each CPU's per-CPU area, decided by the kernel.

use super::{Lapic, TIMER_DIVIDE, TIMER_DIVIDE_CONFIG};
use crate::{time, vector};
use core::sync::atomic::Ordering;
use x2apic::lapic::{LocalApic, TimerDivide};
use x86_64::registers::model_specific::Msr;

/// LVT timer mode field, bits 18:17: 00 one-shot, 10 TSC-deadline.
const LVT_TIMER_TSC_DEADLINE: u32 = 0b10 << 17;
/// IA32_TSC_DEADLINE: the absolute TSC value at which the timer fires; 0
/// disarms it (SDM Vol. 3A 11.5.4.1).
const IA32_TSC_DEADLINE: u32 = 0x6e0;

impl Lapic {
    /// The timer LVT value: our vector, in this CPU's timer mode.
    pub(in crate::apic) fn timer_lvt(&self) -> u32 {
        let mode = if self.tsc_deadline {
            LVT_TIMER_TSC_DEADLINE
        } else {
            0
        };
        mode | u32::from(vector::TIMER)
    }

    /// Fires the timer interrupt `ns` from now; a one-shot timer counts at
    /// `ticks_per_ms` (this CPU's calibration).
    pub(in crate::apic) fn arm_timer(&mut self, ns: u64, ticks_per_ms: u64) {
        if self.tsc_deadline {
            let deadline = time::rdtsc() + time::ns_to_ticks(ns).max(1);
            // The SDM asks for a serializing fence between an LVT write
            // and the deadline MSR write (11.5.4.1); MFENCE suffices.
            core::sync::atomic::fence(Ordering::SeqCst);
            // SAFETY: writing IA32_TSC_DEADLINE only (re)arms this CPU's
            // timer, whose vector has a handler.
            unsafe { Msr::new(IA32_TSC_DEADLINE).write(deadline) };
        } else {
            let ticks = (ns as u128 * ticks_per_ms as u128 / 1_000_000).clamp(1, u32::MAX as u128);
            // SAFETY: writing the initial count only (re)starts this CPU's
            // timer, whose vector has a handler.
            unsafe { self.inner.set_timer_initial(ticks as u32) };
        }
    }

    /// Stops the timer.
    pub(in crate::apic) fn disarm_timer(&mut self) {
        if self.tsc_deadline {
            // SAFETY: a deadline of 0 disarms the timer.
            unsafe { Msr::new(IA32_TSC_DEADLINE).write(0) };
        } else {
            // SAFETY: an initial count of 0 stops the timer.
            unsafe { self.inner.set_timer_initial(0) };
        }
    }

    /// One calibration round: LAPIC timer ticks per millisecond at the
    /// running divide ([`TIMER_DIVIDE`]), measured over `window_ns` of TSC
    /// time. `fine` counts at divide-by-1 meanwhile, 16 times the ticks
    /// in the same window, so a window of a few microseconds still holds
    /// hundreds of ticks on a 25 MHz crystal. Leaves the timer stopped.
    ///
    /// At both ends of the window the count is read between two TSC reads
    /// and dated at their midpoint, so the time taken to start the count,
    /// or a vCPU descheduled inside the window, lengthens the window and
    /// leaves the ratio alone.
    pub(in crate::apic) fn measure_timer_rate(&mut self, window_ns: u64, fine: bool) -> u64 {
        let window = time::ns_to_ticks(window_ns);
        let (divide, per_tick) = match fine {
            true => (TimerDivide::Div1, TIMER_DIVIDE),
            false => (TIMER_DIVIDE_CONFIG, 1),
        };
        // SAFETY: the timer is ours and not armed while we measure (the
        // callers run with interrupts off); it is left stopped (initial
        // count 0) at the divide it runs at.
        unsafe {
            self.inner.set_timer_divide(divide);
            self.inner.set_timer_initial(u32::MAX);
        }
        // Once for nothing: a CPU's first pass through the reads (a cold
        // cache, or a TCG block not yet translated) is slow on one side.
        dated_count(&self.inner);
        let (count0, tsc0) = dated_count(&self.inner);
        while time::rdtsc() - tsc0 < window {
            core::hint::spin_loop();
        }
        let (count1, tsc1) = dated_count(&self.inner);
        // SAFETY: as above.
        unsafe {
            self.inner.set_timer_initial(0);
            self.inner.set_timer_divide(TIMER_DIVIDE_CONFIG);
        }
        let (ticks, tsc) = (count0.saturating_sub(count1), tsc1 - tsc0);
        let ns = u128::from(time::ticks_to_ns(tsc).max(1)) * u128::from(per_tick);
        (u128::from(ticks) * 1_000_000 / ns) as u64
    }
}

/// The timer's current count and the TSC at which it was read: the
/// midpoint of a TSC read on either side. Never inlined, so both ends of
/// a measurement run the same instructions.
#[inline(never)]
fn dated_count(apic: &LocalApic) -> (u32, u64) {
    let before = time::rdtsc();
    // SAFETY: reading the current count has no side effects.
    let count = unsafe { apic.timer_current() };
    let after = time::rdtsc();
    (count, before + (after - before) / 2)
}
