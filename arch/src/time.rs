//! Time from the TSC: frequency discovery and deadlines.
//!
//! The TSC frequency comes from CPUID leaf 0x15/0x16 where the CPU reports
//! it, else from a calibration against PIT channel 2. Every wait on another
//! CPU is bounded by a [`Deadline`] built on this clock.

use crate::acpi::HpetBase;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Once;
use x86_64::instructions::port::Port;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// What the one calibration found; later [`init`] calls return it.
static CALIBRATED: Once<(u64, TscSource)> = Once::new();

/// PIT input clock (Intel 8254 datasheet).
const PIT_HZ: u64 = 1_193_182;
const PIT_CH2_DATA: u16 = 0x42;
const PIT_COMMAND: u16 = 0x43;
/// Port 0x61: bit 0 gates PIT channel 2, bit 1 drives the speaker,
/// bit 5 reads channel 2's output.
const NMI_SC_PORT: u16 = 0x61;
/// Channel 2, lobyte/hibyte access, mode 0 (interrupt on terminal count).
const PIT_CH2_MODE0: u8 = 0b1011_0000;
const CALIBRATION_MS: u64 = 5;
/// Calibration rounds; the smallest result wins. A vCPU descheduled by the
/// host (or an SMI on hardware) only ever makes a round *longer*, so the
/// minimum is the least disturbed one (Linux's `tsc_pit_min` does the same).
const CALIBRATION_ROUNDS: usize = 5;

/// Where the TSC frequency came from, for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TscSource {
    /// CPUID leaf 0x15: crystal clock and TSC ratio (exact).
    Cpuid15,
    /// CPUID leaf 0x16: the processor base frequency.
    Cpuid16,
    /// Calibrated against the HPET main counter.
    Hpet,
    /// Calibrated against PIT channel 2.
    Pit,
}

/// HPET registers (IA-PC HPET spec 1.0a, 2.3): capabilities (period in
/// femtoseconds in bits 63:32), configuration (bit 0 enables the counter)
/// and the main counter.
const HPET_CAPABILITIES: u64 = 0x00;
const HPET_CONFIG: u64 = 0x10;
const HPET_CONFIG_ENABLE: u64 = 1;
const HPET_COUNTER: u64 = 0xf0;
const FS_PER_SECOND: u128 = 1_000_000_000_000_000;

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no memory effects; CR4.TSD is clear in ring 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Finds the TSC frequency. Called by the boot CPU before any deadline;
/// only the first call measures (and touches the HPET or the PIT), later
/// ones return what it found.
///
/// Preference: CPUID (exact), then the HPET (its counter and the TSC are
/// read back to back, so a descheduled vCPU does not skew the ratio), then
/// the PIT. `hpet` can only come from `acpi::discover`, so the block mapped
/// and written is the firmware's HPET.
pub fn init(hpet: Option<HpetBase>) -> (u64, TscSource) {
    *CALIBRATED.call_once(|| calibrate(hpet))
}

fn calibrate(hpet: Option<HpetBase>) -> (u64, TscSource) {
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
    let hpet_hz = || {
        hpet.and_then(calibrate_against_hpet)
            .map(|hz| (hz, TscSource::Hpet))
    };
    let (hz, source) = match from_cpuid().or_else(hpet_hz) {
        Some(found) => found,
        None => {
            let hz = (0..CALIBRATION_ROUNDS)
                .map(|_| calibrate_against_pit())
                .min()
                .unwrap_or(0);
            (hz, TscSource::Pit)
        }
    };
    TSC_HZ.store(hz, Ordering::Relaxed);
    (hz, source)
}

/// CPUID.15H gives TSC/crystal ratio and crystal Hz; CPUID.16H the base
/// frequency in MHz (SDM Vol. 3B 18.7.3).
fn from_cpuid() -> Option<(u64, TscSource)> {
    let max = crate::cpuid::max_cpuid_leaf();
    if max >= 0x15 {
        let (den, num, crystal_hz, _) = crate::cpuid::cpuid(0x15, 0);
        if den != 0 && num != 0 && crystal_hz != 0 {
            return Some((
                crystal_hz as u64 * num as u64 / den as u64,
                TscSource::Cpuid15,
            ));
        }
    }
    if max >= 0x16 {
        let base_mhz = crate::cpuid::cpuid(0x16, 0).0 & 0xffff;
        if base_mhz != 0 {
            return Some((base_mhz as u64 * 1_000_000, TscSource::Cpuid16));
        }
    }
    None
}

/// Counts TSC ticks across 5 ms of HPET main counter; `None` if the HPET
/// cannot be mapped or does not count.
fn calibrate_against_hpet(base: HpetBase) -> Option<u64> {
    let regs = crate::memory::vm::map_mmio(base.address(), 1)
        .ok()?
        .as_u64();
    let reg = |offset: u64| (regs + offset) as *mut u64;
    // SAFETY: `regs` maps the HPET register block uncached: `base` is the
    // address in the firmware's HPET table (only `acpi::discover` makes an
    // `HpetBase`), so it is device memory no Rust object lives in; the
    // registers are 64-bit aligned. Only the first `init` gets here, so the
    // HPET is touched once; enabling the main counter has no other effect.
    unsafe {
        let period_fs = (core::ptr::read_volatile(reg(HPET_CAPABILITIES)) >> 32) as u128;
        if period_fs == 0 {
            return None;
        }
        let config = core::ptr::read_volatile(reg(HPET_CONFIG));
        core::ptr::write_volatile(reg(HPET_CONFIG), config | HPET_CONFIG_ENABLE);
        let window = (CALIBRATION_MS as u128 * FS_PER_SECOND / 1000 / period_fs) as u64;
        let (h0, t0) = (core::ptr::read_volatile(reg(HPET_COUNTER)), rdtsc());
        let start_tsc = t0;
        loop {
            let (h1, t1) = (core::ptr::read_volatile(reg(HPET_COUNTER)), rdtsc());
            if h1.wrapping_sub(h0) >= window {
                let fs = h1.wrapping_sub(h0) as u128 * period_fs;
                return Some(((t1 - t0) as u128 * FS_PER_SECOND / fs) as u64);
            }
            // A counter that does not move is not a clock.
            if t1 - start_tsc > 1_000_000_000 && h1 == h0 {
                return None;
            }
            core::hint::spin_loop();
        }
    }
}

/// Counts TSC ticks across a 5 ms one-shot of PIT channel 2.
fn calibrate_against_pit() -> u64 {
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    let mut gate = Port::<u8>::new(NMI_SC_PORT);
    let mut command = Port::<u8>::new(PIT_COMMAND);
    let mut data = Port::<u8>::new(PIT_CH2_DATA);
    // SAFETY: ports 0x42/0x43/0x61 belong to the PIT and the system control
    // port; only the first `init` touches them (no other code drives these
    // ports), and port I/O aliases no Rust memory. The speaker bit is kept
    // off.
    unsafe {
        let ctl = gate.read() & !0x03;
        gate.write(ctl);
        command.write(PIT_CH2_MODE0);
        data.write((count & 0xff) as u8);
        data.write((count >> 8) as u8);
        let start = rdtsc();
        gate.write(ctl | 0x01);
        while gate.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        let end = rdtsc();
        gate.write(ctl);
        (end - start) * 1000 / CALIBRATION_MS
    }
}

/// TSC ticks per second.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    (ticks as u128 * 1_000_000_000 / tsc_hz().max(1) as u128) as u64
}

/// Converts nanoseconds to TSC ticks.
pub fn ns_to_ticks(ns: u64) -> u64 {
    (ns as u128 * tsc_hz() as u128 / 1_000_000_000) as u64
}

/// Monotonic nanoseconds since [`init`].
pub fn now_ns() -> u64 {
    ticks_to_ns(rdtsc().saturating_sub(TSC_AT_BOOT.load(Ordering::Relaxed)))
}

/// A point in time after which a wait gives up.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    tsc: u64,
}

impl Deadline {
    /// The deadline `us` microseconds from now.
    pub fn after_us(us: u64) -> Self {
        Deadline {
            tsc: rdtsc().saturating_add(ns_to_ticks(us * 1000)),
        }
    }

    /// The deadline `ticks` TSC ticks from now. Unlike [`Deadline::after_us`]
    /// it needs no calibration, so it bounds waits that may run before
    /// [`init`].
    pub(crate) fn after_ticks(ticks: u64) -> Self {
        Deadline {
            tsc: rdtsc().saturating_add(ticks),
        }
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        rdtsc() >= self.tsc
    }

    /// Nanoseconds left, 0 once expired.
    pub fn remaining_ns(&self) -> u64 {
        ticks_to_ns(self.tsc.saturating_sub(rdtsc()))
    }
}
