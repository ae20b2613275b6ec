//! Starting an AP: the BP-side kick and the AP-side entry.
//!
//! These are the two halves of the `cpu:kick` hotplug step. [`kick`] sends
//! INIT-SIPI(-SIPI) to one APIC id and halts until the AP reports alive or
//! the deadline passes; [`ap_entry`] is where the AP lands in Rust, sets up
//! its own tables and LAPIC, reports alive and hands over to the kernel.

use crate::memory::vm;
use crate::percpu::{self, ArchStage, PerCpu};
use crate::time::Deadline;
use crate::trampoline::Trampoline;
use crate::{apic, cpu, interrupts::vector, ApicId};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use spin::Once;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

/// How long an AP gets from the SIPI to running the trampoline before a
/// second SIPI is sent (the SDM's MP protocol sends two).
const SIPI_RETRY_US: u64 = 1_000;
/// How long an AP gets from the kick to reporting alive. Linux waits 10 s;
/// under TCG a healthy AP needs a few milliseconds.
pub const ALIVE_TIMEOUT_US: u64 = 2_000_000;
/// How often a halted waiter re-checks a condition nobody signals (the
/// trampoline's `started` flag).
const POLL_US: u64 = 50;

/// Why a kick failed. Either way the CPU is left down (it got INIT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickError {
    /// Never ran a trampoline instruction, even after two SIPIs.
    NoStartup,
    /// Ran the trampoline but never reported alive from the kernel.
    NotAlive,
    /// The reported APIC id differs from the one we kicked.
    WrongApicId { expected: ApicId, found: ApicId },
    /// The AP could not enable its LAPIC.
    ApicInit,
    /// SMP was not initialised (no trampoline).
    NoTrampoline,
}

impl core::fmt::Display for KickError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KickError::NoStartup => write!(f, "no response to INIT-SIPI-SIPI"),
            KickError::NotAlive => write!(f, "started but never reported alive"),
            KickError::WrongApicId { expected, found } => {
                write!(f, "answered with APIC id {found}, expected {expected}")
            }
            KickError::ApicInit => write!(f, "could not enable its local APIC"),
            KickError::NoTrampoline => write!(f, "no AP trampoline installed"),
        }
    }
}

/// What a successful kick measured.
#[derive(Clone, Copy, Debug)]
pub struct KickStats {
    pub sipis: u32,
}

static TRAMPOLINE: Once<Trampoline> = Once::new();
static KERNEL_CR3: AtomicUsize = AtomicUsize::new(0);
/// APIC id of the CPU running the kick, which the AP wakes when alive.
static KICKER: AtomicU32 = AtomicU32::new(0);
/// The kernel's per-AP continuation, reached once the AP is alive.
static AP_MAIN: Once<fn(&'static PerCpu) -> !> = Once::new();
/// APIC id each AP found in its own ID register, for `WrongApicId`.
static FOUND_ID: AtomicU32 = AtomicU32::new(u32::MAX);

/// Installs the trampoline in `low` (from `memory::init`) and records where
/// alive APs continue.
pub fn init(
    low: PhysAddr,
    ap_main: fn(&'static PerCpu) -> !,
) -> Result<(), crate::memory::MemoryError> {
    let trampoline = Trampoline::install(low)?;
    TRAMPOLINE.call_once(|| trampoline);
    KERNEL_CR3.store(vm::kernel_page_table().as_u64() as usize, Ordering::Relaxed);
    AP_MAIN.call_once(|| ap_main);
    Ok(())
}

/// Low pages [`init`] needs, to be reserved by `memory::init`.
pub const TRAMPOLINE_LOW_PAGES: usize = crate::trampoline::LOW_PAGES;

/// How [`halt_until`] bounds each halt: arm a wake-up `ns` from now, and
/// cancel it. Until the kernel's timer queues run, the LAPIC timer is used
/// directly.
static WAKEUP_ARM: AtomicUsize = AtomicUsize::new(0);
static WAKEUP_CANCEL: AtomicUsize = AtomicUsize::new(0);

/// Routes [`halt_until`]'s wake-ups through the kernel's timer queues.
pub fn set_wakeup_timer(arm: fn(u64), cancel: fn()) {
    WAKEUP_ARM.store(arm as usize, Ordering::Release);
    WAKEUP_CANCEL.store(cancel as usize, Ordering::Release);
}

fn arm_wakeup(ns: u64) {
    match WAKEUP_ARM.load(Ordering::Acquire) {
        0 => apic::arm_timer_ns(ns),
        // SAFETY: stored by `set_wakeup_timer` from a `fn(u64)`.
        f => unsafe { core::mem::transmute::<usize, fn(u64)>(f)(ns) },
    }
}

fn cancel_wakeup() {
    match WAKEUP_CANCEL.load(Ordering::Acquire) {
        0 => apic::stop_timer(),
        // SAFETY: stored by `set_wakeup_timer` from a `fn()`.
        f => unsafe { core::mem::transmute::<usize, fn()>(f)() },
    }
}

/// The deadline of a [`halt_until`] passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

/// Halts until `done()` or the deadline; `Err(TimedOut)` on timeout.
///
/// The condition is checked with interrupts off and the halt re-enables them
/// atomically, so a wake-up IPI sent after the check still ends the halt.
/// The LAPIC timer bounds each halt by `poll_us` (or the deadline).
pub fn halt_until(
    deadline: Deadline,
    poll_us: u64,
    mut done: impl FnMut() -> bool,
) -> Result<(), TimedOut> {
    let was_enabled = cpu::interrupts_enabled();
    let result = loop {
        cpu::disable_interrupts();
        if done() {
            break Ok(());
        }
        if deadline.expired() {
            break Err(TimedOut);
        }
        arm_wakeup(deadline.remaining_ns().min(poll_us * 1000));
        cpu::enable_interrupts_and_halt();
    };
    cpu::disable_interrupts();
    cancel_wakeup();
    if was_enabled {
        cpu::enable_interrupts();
    } else {
        cpu::disable_interrupts();
    }
    result
}

/// Starts the CPU owning `area` and waits until it is alive.
///
/// Only one kick may be in flight at a time (the trampoline parameters are
/// shared); the hotplug lock guarantees that.
pub fn kick(area: &'static PerCpu) -> Result<KickStats, KickError> {
    let trampoline = TRAMPOLINE.get().ok_or(KickError::NoTrampoline)?;
    let target = area.apic_id;
    KICKER.store(apic::current_id().0, Ordering::Relaxed);
    FOUND_ID.store(u32::MAX, Ordering::Relaxed);
    area.set_stage(ArchStage::Kicked);
    trampoline.arm(
        area.kernel_stack.top.as_u64(),
        ap_entry,
        area as *const PerCpu as u64,
    );

    // INIT then SIPI. The SDM's 10 ms INIT delay is for pre-Nehalem parts;
    // like Linux (init_udelay=0) modern CPUs and QEMU need none. A second
    // SIPI goes out only if the first shows no sign of life; a CPU that is
    // already running ignores it.
    let alive = Deadline::after_us(ALIVE_TIMEOUT_US);
    apic::send_init(target);
    apic::send_startup(target, trampoline.sipi_page());
    let mut sipis = 1;
    if halt_until(Deadline::after_us(SIPI_RETRY_US), POLL_US, || {
        trampoline.started()
    })
    .is_err()
    {
        apic::send_startup(target, trampoline.sipi_page());
        sipis += 1;
    }
    // The AP wakes us with an IPI once alive. Under TCG on a busy host its
    // vCPU thread may take a while to be scheduled at all, so the whole
    // deadline applies even if the trampoline has not started yet.
    if halt_until(alive, ALIVE_TIMEOUT_US, || {
        area.stage() != ArchStage::Kicked
    })
    .is_err()
    {
        let error = if trampoline.started() {
            KickError::NotAlive
        } else {
            KickError::NoStartup
        };
        return Err(fail(area, error));
    }
    let found = FOUND_ID.load(Ordering::Acquire);
    if area.stage() != ArchStage::Alive {
        return Err(fail(
            area,
            KickError::WrongApicId {
                expected: target,
                found: ApicId(found),
            },
        ));
    }
    Ok(KickStats { sipis })
}

/// Waits until the AP owning `area` has parked (after its last teardown).
///
/// An AP that does not park in time is forced down with INIT, which stops
/// it whatever it was doing, and `Err(NotParked)` reports that it had to be.
pub fn wait_parked(area: &'static PerCpu, timeout_us: u64) -> Result<(), ParkError> {
    let parked = halt_until(Deadline::after_us(timeout_us), timeout_us, || {
        area.stage() == ArchStage::Down
    });
    if parked.is_err() {
        force_down(area);
        return Err(ParkError::NotParked);
    }
    // Parked means halted with interrupts off; INIT puts it back into
    // wait-for-SIPI so the next kick starts from a clean reset.
    apic::send_init(area.apic_id);
    Ok(())
}

/// A CPU that did not park by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkError {
    /// Forced down with INIT after the deadline.
    NotParked,
}

/// Puts a CPU that failed to come up back into wait-for-SIPI.
fn fail(area: &PerCpu, error: KickError) -> KickError {
    force_down(area);
    error
}

/// INIT stops a CPU whatever it is doing and leaves it in wait-for-SIPI.
fn force_down(area: &PerCpu) {
    apic::send_init(area.apic_id);
    area.set_stage(ArchStage::Down);
}

/// Parks the current AP for good: it can only leave by INIT.
///
/// The caller must have finished all of the CPU's teardown; the control CPU
/// sees [`ArchStage::Down`] and may then kick it again.
pub fn park_current() -> ! {
    cpu::disable_interrupts();
    apic::stop_timer();
    percpu::current().set_stage(ArchStage::Down);
    wake(ApicId(KICKER.load(Ordering::Relaxed)));
    cpu::halt_forever()
}

/// Wakes `dest` if it is halted in [`halt_until`].
pub fn wake(dest: ApicId) {
    apic::send_ipi(dest, vector::WAKE);
}

/// The AP's first Rust code, called by the trampoline on the AP's own stack.
extern "C" fn ap_entry(arg: u64) -> ! {
    let cr3 = PhysAddr::new(KERNEL_CR3.load(Ordering::Relaxed) as u64);
    // SAFETY: (1) the kernel PML4 maps everything the trampoline's table
    // maps above the identity page, including this code and our stack;
    // (2) the flags match what the BP runs with.
    unsafe { Cr3::write(PhysFrame::containing_address(cr3), Cr3Flags::empty()) };
    // SAFETY: the BP passed the address of this CPU's leaked `PerCpu`.
    let area: &'static PerCpu = unsafe { &*(arg as *const PerCpu) };
    // SAFETY: we are that CPU, interrupts are off since the trampoline, and
    // nothing has touched per-CPU data yet.
    unsafe { area.install() };
    let kicker = ApicId(KICKER.load(Ordering::Relaxed));
    let found = apic::init_current().ok().map(|_| apic::current_id());
    if found != Some(area.apic_id) {
        // Without a LAPIC we cannot wake the kicker; its deadline will.
        FOUND_ID.store(found.map_or(u32::MAX, |id| id.0), Ordering::Release);
        area.set_stage(ArchStage::Down);
        if found.is_some() {
            wake(kicker);
        }
        cpu::halt_forever();
    }
    area.set_stage(ArchStage::Alive);
    wake(kicker);
    let main = AP_MAIN.get().expect("smp::init not called");
    main(area)
}
