//! Time from the TSC: frequency discovery and deadlines.
//!
//! The TSC frequency comes from CPUID leaf 0x15/0x16 where the CPU reports
//! it, else from a calibration against PIT channel 2. Every wait on another
//! CPU is bounded by a [`Deadline`] built on this clock.

use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::instructions::port::Port;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);

/// PIT input clock (Intel 8254 datasheet).
const PIT_HZ: u64 = 1_193_182;
const PIT_CH2_DATA: u16 = 0x42;
const PIT_COMMAND: u16 = 0x43;
/// Port 0x61: bit 0 gates PIT channel 2, bit 1 drives the speaker,
/// bit 5 reads channel 2's output.
const NMI_SC_PORT: u16 = 0x61;
/// Channel 2, lobyte/hibyte access, mode 0 (interrupt on terminal count).
const PIT_CH2_MODE0: u8 = 0b1011_0000;
const CALIBRATION_MS: u64 = 10;

/// Where the TSC frequency came from, for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TscSource {
    Cpuid15,
    Cpuid16,
    Pit,
}

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no memory effects; CR4.TSD is clear in ring 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Finds the TSC frequency. Called once by the boot CPU before any deadline.
pub fn init() -> (u64, TscSource) {
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
    let (hz, source) = match from_cpuid() {
        Some(found) => found,
        None => (calibrate_against_pit(), TscSource::Pit),
    };
    TSC_HZ.store(hz, Ordering::Relaxed);
    (hz, source)
}

/// CPUID.15H gives TSC/crystal ratio and crystal Hz; CPUID.16H the base
/// frequency in MHz (SDM Vol. 3B 18.7.3).
fn from_cpuid() -> Option<(u64, TscSource)> {
    let max = crate::cpu::max_cpuid_leaf();
    if max >= 0x15 {
        let (den, num, crystal_hz, _) = crate::cpu::cpuid(0x15, 0);
        if den != 0 && num != 0 && crystal_hz != 0 {
            return Some((
                crystal_hz as u64 * num as u64 / den as u64,
                TscSource::Cpuid15,
            ));
        }
    }
    if max >= 0x16 {
        let base_mhz = crate::cpu::cpuid(0x16, 0).0 & 0xffff;
        if base_mhz != 0 {
            return Some((base_mhz as u64 * 1_000_000, TscSource::Cpuid16));
        }
    }
    None
}

/// Counts TSC ticks across a 10 ms one-shot of PIT channel 2.
fn calibrate_against_pit() -> u64 {
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    let mut gate = Port::<u8>::new(NMI_SC_PORT);
    let mut command = Port::<u8>::new(PIT_COMMAND);
    let mut data = Port::<u8>::new(PIT_CH2_DATA);
    // SAFETY: ports 0x42/0x43/0x61 belong to the PIT and the system control
    // port; only the boot CPU touches them, once, before APs exist. The
    // speaker bit is kept off.
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
    pub fn after_us(us: u64) -> Self {
        Deadline {
            tsc: rdtsc().saturating_add(ns_to_ticks(us * 1000)),
        }
    }

    pub fn expired(&self) -> bool {
        rdtsc() >= self.tsc
    }

    /// Nanoseconds left, 0 once expired.
    pub fn remaining_ns(&self) -> u64 {
        ticks_to_ns(self.tsc.saturating_sub(rdtsc()))
    }
}

/// Busy-waits for `us` microseconds. Only for the short, spec-mandated
/// delays of the INIT/SIPI protocol; anything longer must halt instead.
pub fn spin_delay_us(us: u64) {
    let end = Deadline::after_us(us);
    while !end.expired() {
        core::hint::spin_loop();
    }
}
