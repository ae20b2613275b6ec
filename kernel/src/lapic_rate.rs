//! One LAPIC timer calibration for the machine.
//!
//! Every LAPIC on a machine counts the same clock (the bus clock, or the
//! core crystal clock where CPUID leaf 0x15 enumerates it: SDM Vol. 3A
//! 11.5.4), so the boot CPU finds the timer rate once, from CPUID where it
//! is given and by measuring otherwise, and each AP takes that figure after
//! a cheap check of its own timer instead of calibrating again on every
//! online. An AP whose check fails calibrates itself fully and says so.
//! `calibrate each` makes every AP calibrate fully again, to measure what
//! sharing saves.
//!
//! It only decides which figure a CPU uses; the arithmetic is in
//! `queues::timer_rate`, the measuring in `arch::apic`.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use hotplug::CpuId;

/// The boot CPU's full calibration: the median of 5 rounds of 200 us.
const BOOT_ROUNDS: usize = 5;
const BOOT_WINDOW_NS: u64 = 200_000;
/// An AP's full calibration: one 50 us window (~3,000 ticks at QEMU's
/// 62.5 MHz, well under 0.1% error).
const AP_WINDOW_NS: u64 = 50_000;
/// The check: 5 us counted at divide-by-1 holds ~5,000 ticks under QEMU
/// (1 GHz) and 125 on a 25 MHz crystal, so it resolves the rate to 1%
/// where the clock is slowest; the measured spread under TCG is ~0.5%.
const CHECK_WINDOW_NS: u64 = 5_000;
/// How far the check may land from the shared figure. Two LAPICs fed by
/// one clock differ by nothing but noise, and the clocks a check must tell
/// apart differ by far more than 10% (another divide is 2x, bus clocks come
/// in 100/133 MHz steps); within 10% a timer fires at most 10% late.
const CHECK_TOLERANCE_PERCENT: u64 = 10;
/// A check disturbed between its two paired reads (an SMI, a host
/// preempting the vCPU) is taken once more before the full calibration.
const CHECK_TRIES: usize = 2;

/// Where the boot CPU's figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootSource {
    /// The timer takes TSC deadlines: there is no rate to find.
    TscDeadline,
    /// CPUID leaf 0x15's core crystal clock, confirmed by the check.
    Cpuid15,
    /// Measured against the TSC; CPUID gave no crystal clock.
    Calibrated,
    /// Measured, because the timer did not run at the rate CPUID 0x15's
    /// crystal gives (e.g. a hypervisor whose LAPIC runs at its own rate).
    CpuidDisagreed {
        /// The rate the crystal clock gave, ticks per ms.
        cpuid: u64,
    },
}

/// The boot CPU's figure, ticks per ms (0: none, TSC-deadline mode).
static BOOT_RATE: AtomicU64 = AtomicU64::new(0);
static BOOT_FROM_CPUID: AtomicBool = AtomicBool::new(false);
/// `calibrate each`: every AP online calibrates fully.
static EACH: AtomicBool = AtomicBool::new(false);
/// AP onlines whose check failed, since boot.
static FALLBACKS: AtomicU64 = AtomicU64::new(0);

/// The boot CPU's timer rate and where it came from; its `Display` is the
/// boot log's description of the timer.
#[derive(Clone, Copy, Debug)]
pub struct BootRate {
    /// Ticks per millisecond (0 in TSC-deadline mode).
    pub ticks_per_ms: u64,
    /// Where the figure came from.
    pub source: BootSource,
}

impl core::fmt::Display for BootRate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ticks = self.ticks_per_ms;
        match self.source {
            BootSource::TscDeadline => return write!(f, "LAPIC timer in TSC-deadline mode"),
            _ => write!(f, "LAPIC timer one-shot, {ticks} ticks/ms")?,
        }
        match self.source {
            BootSource::Cpuid15 => write!(f, " (from CPUID 0x15)"),
            BootSource::CpuidDisagreed { cpuid } => {
                write!(f, " (calibrated: not CPUID 0x15's {cpuid})")
            }
            BootSource::TscDeadline | BootSource::Calibrated => Ok(()),
        }
    }
}

/// The boot CPU's timer rate: from CPUID 0x15 if the CPU enumerates its
/// crystal and the timer agrees, else measured.
pub fn init_boot_cpu() -> BootRate {
    if arch::apic::timer_is_tsc_deadline() {
        return BootRate {
            ticks_per_ms: 0,
            source: BootSource::TscDeadline,
        };
    }
    let cpuid = crystal_rate();
    let (rate, source) = match cpuid {
        Some(rate) if check(rate).is_ok() => {
            arch::apic::set_timer_rate(rate);
            (rate, BootSource::Cpuid15)
        }
        Some(rate) => (calibrate_boot(), BootSource::CpuidDisagreed { cpuid: rate }),
        None => (calibrate_boot(), BootSource::Calibrated),
    };
    BOOT_RATE.store(rate, Ordering::Relaxed);
    BOOT_FROM_CPUID.store(source == BootSource::Cpuid15, Ordering::Relaxed);
    BootRate {
        ticks_per_ms: rate,
        source,
    }
}

fn calibrate_boot() -> u64 {
    arch::apic::calibrate_timer(BOOT_ROUNDS, BOOT_WINDOW_NS)
}

/// The LAPIC timer rate CPUID's core crystal clock gives, if CPUID gives
/// the crystal.
fn crystal_rate() -> Option<u64> {
    let raw = arch::apic::crystal_cpuid()?;
    let (eax, ebx, ecx) = raw.leaf_15;
    let leaf = queues::CrystalLeaf {
        ratio_denominator: eax,
        ratio_numerator: ebx,
        crystal_hz: ecx,
    };
    let family_model = queues::display_family_model(raw.version);
    let crystal_hz = queues::core_crystal_hz(leaf, family_model, raw.base_mhz)?;
    Some(queues::ticks_per_ms(crystal_hz, arch::apic::TIMER_DIVIDE)).filter(|&r| r > 0)
}

/// Checks this CPU's timer against `rate`; on disagreement, the last
/// sample.
fn check(rate: u64) -> Result<(), u64> {
    let mut sample = 0;
    for _ in 0..CHECK_TRIES {
        sample = arch::apic::sample_timer_rate(CHECK_WINDOW_NS);
        if queues::rate_agrees(sample, rate, CHECK_TOLERANCE_PERCENT) {
            return Ok(());
        }
    }
    Err(sample)
}

/// Gives the running AP its timer rate (in `timers:starting`, interrupts
/// off): the boot CPU's after the check, or its own full calibration if
/// the check fails or `calibrate each` is set. A fallback is logged.
pub fn init_ap(cpu: CpuId) {
    if arch::apic::timer_is_tsc_deadline() {
        return;
    }
    let shared = BOOT_RATE.load(Ordering::Relaxed);
    if EACH.load(Ordering::Relaxed) || shared == 0 {
        arch::apic::calibrate_timer(1, AP_WINDOW_NS);
        return;
    }
    if check(shared).is_ok() {
        arch::apic::set_timer_rate(shared);
        return;
    }
    let own = arch::apic::calibrate_timer(1, AP_WINDOW_NS);
    FALLBACKS.fetch_add(1, Ordering::Relaxed);
    println!("{cpu}: LAPIC timer runs at {own} ticks/ms, not cpu0's {shared}: calibrated its own");
}

/// Sets whether every AP online calibrates fully (`true`) or takes the
/// boot CPU's figure after the check (`false`, the default).
pub fn set_each(each: bool) {
    EACH.store(each, Ordering::Relaxed);
}

/// The `calibrate` answer: the setting, the boot CPU's figure and where
/// it came from, and how many AP onlines fell back.
pub fn show() {
    let mode = match EACH.load(Ordering::Relaxed) {
        true => "each",
        false => "shared",
    };
    let rate = BOOT_RATE.load(Ordering::Relaxed);
    let fallbacks = FALLBACKS.load(Ordering::Relaxed);
    if rate == 0 {
        println!("ok: calibrate {mode} (cpu0 in TSC-deadline mode)");
        return;
    }
    let from = match BOOT_FROM_CPUID.load(Ordering::Relaxed) {
        true => "from CPUID 0x15",
        false => "calibrated",
    };
    println!("ok: calibrate {mode} (cpu0 {rate} ticks/ms, {from}; {fallbacks} APs fell back)");
}
