//! The local APIC: one interface, two back ends (x2APIC MSRs, xAPIC MMIO).
//!
//! Built on the `x2apic` crate, which picks x2APIC mode when CPUID offers it
//! and xAPIC otherwise. This module hides the places where the two modes
//! differ (the ID register layout, the ICR destination field) and fixes the
//! crate's pitfalls, so no `if x2apic` leaks into the rest of the kernel.
//!
//! A `LocalApic` only ever talks to the APIC of the CPU running it, so each
//! CPU keeps its own in its per-CPU area and the functions here act on the
//! current CPU.

use crate::interrupts::vector;
use crate::memory::vm;
use crate::percpu;
use crate::ApicId;
use core::sync::atomic::Ordering;
use spin::Once;
use x2apic::lapic::{LocalApic, LocalApicBuilder, TimerDivide, TimerMode};
use x86_64::registers::model_specific::Msr;
use x86_64::PhysAddr;

/// IA32_APIC_BASE (SDM Vol. 3A 11.4.4): bits 12.. hold the xAPIC MMIO base.
const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Register offsets in the xAPIC MMIO page; the x2APIC MSR is
/// `0x800 + offset / 16` (SDM Vol. 3A Table 11-6).
const REG_TPR: u32 = 0x080;
const REG_ESR: u32 = 0x280;
const REG_LVT_TIMER: u32 = 0x320;
const REG_LVT_ERROR: u32 = 0x370;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
/// LVT mask bit (SDM Vol. 3A 11.5.1).
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer mode field, bits 18:17: 00 one-shot, 10 TSC-deadline.
const LVT_TIMER_TSC_DEADLINE: u32 = 0b10 << 17;
/// IA32_TSC_DEADLINE: the absolute TSC value at which the timer fires; 0
/// disarms it (SDM Vol. 3A 11.5.4.1).
const IA32_TSC_DEADLINE: u32 = 0x6e0;
/// xAPIC ID register keeps the id in bits 31:24; ICR destination likewise.
const XAPIC_ID_SHIFT: u32 = 24;
/// ICR delivery-status bit: set while an IPI is still being sent.
const ICR_SEND_PENDING_SPINS: u32 = 100_000;

/// Which register interface the CPU's LAPIC runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApicMode {
    X2Apic,
    XApic,
}

impl ApicMode {
    pub fn name(self) -> &'static str {
        match self {
            ApicMode::X2Apic => "x2apic",
            ApicMode::XApic => "xapic",
        }
    }
}

/// Why a LAPIC could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApicError {
    Build(&'static str),
    Map(crate::memory::MemoryError),
}

/// Virtual address of the xAPIC MMIO page (shared by all CPUs: each sees its
/// own APIC there).
static XAPIC_BASE: Once<Result<u64, ApicError>> = Once::new();

/// One CPU's LAPIC.
pub struct Lapic {
    inner: LocalApic,
    mode: ApicMode,
    mmio: u64,
    /// The timer runs in TSC-deadline mode (absolute TSC deadlines, no
    /// calibration needed) rather than one-shot counting.
    tsc_deadline: bool,
}

fn xapic_base() -> Result<u64, ApicError> {
    *XAPIC_BASE.call_once(|| {
        // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; reading it has
        // no side effects.
        let base = unsafe { Msr::new(IA32_APIC_BASE).read() } & APIC_BASE_ADDR_MASK;
        vm::map_mmio(PhysAddr::new(base), 1)
            .map(|v| v.as_u64())
            .map_err(ApicError::Map)
    })
}

/// Enables the current CPU's LAPIC with our vectors, LINT0/1 masked and the
/// timer stopped, and stores it in the per-CPU area.
pub fn init_current() -> Result<ApicMode, ApicError> {
    let area = percpu::current();
    let mmio = xapic_base()?;
    let tsc_deadline = crate::cpu::has_tsc_deadline();
    let timer_mode = if tsc_deadline {
        TimerMode::TscDeadline
    } else {
        TimerMode::OneShot
    };
    let mut inner = LocalApicBuilder::new()
        .timer_vector(vector::TIMER as usize)
        .error_vector(vector::APIC_ERROR as usize)
        .spurious_vector(vector::SPURIOUS as usize)
        .timer_mode(timer_mode)
        .timer_divide(TimerDivide::Div16)
        .timer_initial(0)
        .set_xapic_base(mmio)
        .build()
        .map_err(ApicError::Build)?;
    let mode = if crate::cpu::has_x2apic() {
        ApicMode::X2Apic
    } else {
        ApicMode::XApic
    };
    // SAFETY: (1) the IDT has handlers for the timer, error and spurious
    // vectors; (2) in xAPIC mode `mmio` maps this CPU's APIC page uncached.
    unsafe { inner.enable() };
    let mut lapic = Lapic {
        inner,
        mode,
        mmio,
        tsc_deadline,
    };
    // The crate writes 0 to LINT0/LINT1, which *unmasks* them (ExtINT from a
    // stale 8259 would then arrive as vector 0). Mask them for real.
    lapic.write(REG_LVT_LINT0, LVT_MASKED);
    lapic.write(REG_LVT_LINT1, LVT_MASKED);
    area.with_lapic(|slot| *slot = Some(lapic));
    area.set_apic_mode(mode);
    Ok(mode)
}

impl Lapic {
    /// Raw register write, for the registers the crate does not expose.
    fn write(&mut self, offset: u32, value: u32) {
        match self.mode {
            // SAFETY: `0x800 + offset/16` is the x2APIC MSR of an LVT
            // register (SDM Vol. 3A Table 11-6); masking an LVT is harmless.
            ApicMode::X2Apic => unsafe { Msr::new(0x800 + (offset >> 4)).write(u64::from(value)) },
            // SAFETY: `mmio` maps this CPU's APIC page, and `offset` is a
            // register inside it.
            ApicMode::XApic => unsafe {
                core::ptr::write_volatile((self.mmio + u64::from(offset)) as *mut u32, value)
            },
        }
    }

    /// The timer LVT value: our vector, in this CPU's timer mode.
    fn timer_lvt(&self) -> u32 {
        let mode = if self.tsc_deadline {
            LVT_TIMER_TSC_DEADLINE
        } else {
            0
        };
        mode | u32::from(vector::TIMER)
    }

    /// Fires the timer interrupt `ns` from now.
    fn arm_timer(&mut self, ns: u64) {
        if self.tsc_deadline {
            let deadline = crate::time::rdtsc() + crate::time::ns_to_ticks(ns).max(1);
            // The SDM asks for a serializing fence between an LVT write
            // and the deadline MSR write (11.5.4.1); MFENCE suffices.
            core::sync::atomic::fence(Ordering::SeqCst);
            // SAFETY: writing IA32_TSC_DEADLINE only (re)arms this CPU's
            // timer, whose vector has a handler.
            unsafe { Msr::new(IA32_TSC_DEADLINE).write(deadline) };
        } else {
            let rate = percpu::current().timer_ticks_per_ms.load(Ordering::Relaxed);
            let ticks = (ns as u128 * rate as u128 / 1_000_000).clamp(1, u32::MAX as u128);
            // SAFETY: writing the initial count only (re)starts this CPU's
            // timer, whose vector has a handler.
            unsafe { self.inner.set_timer_initial(ticks as u32) };
        }
    }

    fn disarm_timer(&mut self) {
        if self.tsc_deadline {
            // SAFETY: a deadline of 0 disarms the timer.
            unsafe { Msr::new(IA32_TSC_DEADLINE).write(0) };
        } else {
            // SAFETY: an initial count of 0 stops the timer.
            unsafe { self.inner.set_timer_initial(0) };
        }
    }

    fn id(&self) -> ApicId {
        // SAFETY: reading the ID register has no side effects.
        let raw = unsafe { self.inner.id() };
        match self.mode {
            ApicMode::X2Apic => ApicId(raw),
            ApicMode::XApic => ApicId(raw >> XAPIC_ID_SHIFT),
        }
    }

    fn destination(&self, apic: ApicId) -> u32 {
        match self.mode {
            ApicMode::X2Apic => apic.0,
            ApicMode::XApic => apic.0 << XAPIC_ID_SHIFT,
        }
    }

    /// In xAPIC mode a new ICR write while the previous IPI is still pending
    /// may be lost; x2APIC has no such bit to wait for.
    fn wait_icr_idle(&self) {
        if self.mode == ApicMode::XApic {
            for _ in 0..ICR_SEND_PENDING_SPINS {
                // SAFETY: reading the ICR has no side effects.
                if !unsafe { self.inner.get_ipi_delivery_status() } {
                    return;
                }
                core::hint::spin_loop();
            }
        }
    }
}

fn with_current<R>(f: impl FnOnce(&mut Lapic) -> R) -> R {
    // Interrupts go off before the CPU is looked up, so a preempted thread
    // cannot look up one CPU and then run on another.
    crate::cpu::without_interrupts(|| {
        percpu::current()
            .with_lapic(|slot| f(slot.as_mut().expect("LAPIC not enabled on this CPU")))
    })
}

/// The running CPU's APIC id, read from hardware.
pub fn current_id() -> ApicId {
    with_current(|l| l.id())
}

/// The running CPU's APIC mode.
pub fn current_mode() -> ApicMode {
    with_current(|l| l.mode)
}

/// Readies this CPU's LAPIC for work: accept every priority (TPR 0), clear
/// stale errors, unmask the error and timer LVTs (SDM Vol. 3A 11.5, 11.8).
pub fn setup_local_vectors() {
    with_current(|l| {
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
    with_current(|l| {
        l.disarm_timer();
        l.write(REG_LVT_TIMER, LVT_MASKED | l.timer_lvt());
        l.write(REG_LVT_ERROR, LVT_MASKED | u32::from(vector::APIC_ERROR));
        l.write(REG_LVT_LINT0, LVT_MASKED);
        l.write(REG_LVT_LINT1, LVT_MASKED);
    })
}

/// Signals end of interrupt.
pub fn end_of_interrupt() {
    // SAFETY: called at the end of a LAPIC-delivered interrupt handler.
    with_current(|l| unsafe { l.inner.end_of_interrupt() })
}

/// Sends a fixed IPI on `vector` to `dest`.
pub fn send_ipi(dest: ApicId, vector: u8) {
    with_current(|l| {
        let d = l.destination(dest);
        l.wait_icr_idle();
        // SAFETY: our vectors all have IDT handlers on every CPU.
        unsafe { l.inner.send_ipi(vector, d) };
    })
}

/// Sends INIT to `dest`, resetting it into wait-for-SIPI.
pub(crate) fn send_init(dest: ApicId) {
    with_current(|l| {
        let d = l.destination(dest);
        l.wait_icr_idle();
        // SAFETY: INIT only resets the target CPU, which the caller has
        // decided is not running anything we need (it is offline).
        unsafe { l.inner.send_init_ipi(d) };
        l.wait_icr_idle();
    })
}

/// Sends a start-up IPI making `dest` run real-mode code at `page << 12`.
pub(crate) fn send_startup(dest: ApicId, page: u8) {
    with_current(|l| {
        let d = l.destination(dest);
        l.wait_icr_idle();
        // SAFETY: `page` holds the trampoline; SIPI is ignored by CPUs that
        // are not waiting for one.
        unsafe { l.inner.send_sipi(page, d) };
        l.wait_icr_idle();
    })
}

/// Measures this CPU's LAPIC timer rate against the TSC and keeps it for
/// this CPU's deadlines; returns ticks per millisecond.
///
/// Both counters are read back to back at the end of each round, so a
/// round disturbed by the host only lengthens the window, not the ratio;
/// the median of the rounds drops the odd outlier.
pub fn calibrate_timer(rounds: usize, window_ns: u64) -> u64 {
    if timer_is_tsc_deadline() {
        // Deadlines are in TSC ticks: nothing to measure.
        return 0;
    }
    const MAX_ROUNDS: usize = 5;
    let rounds = rounds.clamp(1, MAX_ROUNDS);
    let mut results = [0u64; MAX_ROUNDS];
    for round in results[..rounds].iter_mut() {
        *round = with_current(|l| {
            let window = crate::time::ns_to_ticks(window_ns);
            // SAFETY: the timer is ours; it is left stopped (initial count 0).
            unsafe {
                l.inner.set_timer_initial(u32::MAX);
                let start = crate::time::rdtsc();
                while crate::time::rdtsc() - start < window {
                    core::hint::spin_loop();
                }
                let left = l.inner.timer_current();
                let elapsed = crate::time::rdtsc() - start;
                l.inner.set_timer_initial(0);
                let ticks = u64::from(u32::MAX - left);
                ticks * 1_000_000 / crate::time::ticks_to_ns(elapsed).max(1)
            }
        });
    }
    results[..rounds].sort_unstable();
    let ticks_per_ms = results[rounds / 2].max(1);
    percpu::current()
        .timer_ticks_per_ms
        .store(ticks_per_ms, Ordering::Relaxed);
    ticks_per_ms
}

/// Arms this CPU's LAPIC timer to fire in `ns` nanoseconds.
pub fn arm_timer_ns(ns: u64) {
    with_current(|l| l.arm_timer(ns))
}

/// Whether this CPU's timer runs in TSC-deadline mode.
pub fn timer_is_tsc_deadline() -> bool {
    with_current(|l| l.tsc_deadline)
}

/// Stops this CPU's LAPIC timer.
pub fn stop_timer() {
    with_current(|l| l.disarm_timer())
}
