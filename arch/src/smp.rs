//! Starting an AP: the BP-side kick and the AP-side entry.
//!
//! These are the two halves of the `cpu:kick` hotplug step. [`kick`] sends
//! INIT-SIPI(-SIPI) to one APIC id and halts until the AP reports alive or
//! the deadline passes; `ap_entry` is where the AP lands in Rust, sets up
//! its own tables and LAPIC, reports alive and hands over to the kernel.

use crate::ap_failure::{self, ApFailure};
pub use crate::halt::{halt_until, set_wakeup_timer, TimedOut};
use crate::install::{self, InstallError};
pub use crate::kick_error::KickError;
use crate::memory::vm;
use crate::percpu::{self, ArchStage, PerCpu};
use crate::smp_trace::{emit, SmpTraceKind};
use crate::time::Deadline;
use crate::trampoline::Trampoline;
use crate::{apic, cpu, vector, ApicId};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
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

static TRAMPOLINE: Once<Trampoline> = Once::new();
static KERNEL_CR3: AtomicUsize = AtomicUsize::new(0);
/// APIC id of the CPU running the kick, which the AP wakes when alive.
static KICKER: AtomicU32 = AtomicU32::new(0);
/// The kernel's per-AP continuation, reached once the AP is alive.
static AP_MAIN: Once<fn(&'static PerCpu) -> !> = Once::new();
/// Set while a kick runs: the trampoline's parameters and page table are
/// shared, so two kicks at once would race on them.
static KICK_IN_FLIGHT: AtomicBool = AtomicBool::new(false);
/// Why the last kicked AP gave up on its own ([`ApFailure::encode`]),
/// written by the AP before it sets its stage back to `Down`, read by the
/// kicker after. An atomic, not a lock: the AP may be forced down with INIT
/// at any instruction.
static AP_FAILURE: AtomicU64 = AtomicU64::new(0);

/// Installs the trampoline in `low` (from `memory::init`) and records where
/// alive APs continue.
pub fn init(
    low: crate::memory::LowPages,
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

/// Set by the first kick: from then on the kernel owns its APs, and
/// [`park_firmware_aps`] would reset one the kernel started.
static ANY_KICKED: AtomicBool = AtomicBool::new(false);

/// Puts every AP in `apic_ids` that firmware left running into
/// wait-for-SIPI with INIT, before the kernel starts any: OVMF leaves its
/// APs in a MONITOR/MWAIT loop, which under TCG spins and takes host time
/// from the CPUs being brought up. The running CPU's own id and ids this
/// APIC mode cannot address are skipped. Boot only: after the first kick
/// it does nothing. Returns how many were sent INIT.
pub fn park_firmware_aps(apic_ids: impl Iterator<Item = ApicId>) -> usize {
    if ANY_KICKED.load(Ordering::Acquire) {
        return 0;
    }
    let me = cpu::initial_apic_id();
    let mut parked = 0;
    for id in apic_ids.filter(|&id| id != me && apic::can_address(id)) {
        apic::send_init(id);
        parked += 1;
    }
    parked
}

/// Starts the CPU owning `area` and waits until it is alive.
///
/// Only a CPU that is down may be kicked: the area's stage must be
/// [`ArchStage::Down`] (never started, parked, or forced down), it must not
/// be the running CPU's own, and no other area that is not down may record
/// the same APIC id; otherwise nothing is sent and the error says why. Only
/// one kick may be in flight at a time (the trampoline parameters are
/// shared): a second one meanwhile gets [`KickError::Busy`].
pub fn kick(area: &'static PerCpu) -> Result<(), KickError> {
    let trampoline = TRAMPOLINE.get().ok_or(KickError::NoTrampoline)?;
    let stack_top = area
        .stacks()
        .ok_or(KickError::Install(InstallError::NoStacks))?
        .kernel
        .top();
    refuse_current(area).map_err(|()| KickError::CurrentCpu)?;
    if !apic::can_address(area.apic_id()) {
        return Err(KickError::Unaddressable(area.apic_id()));
    }
    if KICK_IN_FLIGHT.swap(true, Ordering::Acquire) {
        return Err(KickError::Busy);
    }
    // Checked inside the exclusive section, so no other kick moves the
    // stage between the check and `kick_exclusive`.
    let result = match (area.stage(), percpu::live_area_with_apic_id(area)) {
        (ArchStage::Down, None) => kick_exclusive(trampoline, area, stack_top.as_u64()),
        (ArchStage::Down, Some(other)) => Err(KickError::ApicIdInUse(other)),
        (stage, _) => Err(KickError::NotDown(stage)),
    };
    KICK_IN_FLIGHT.store(false, Ordering::Release);
    result
}

/// `Err` if `area` is the running CPU's own, by address or by APIC id (as
/// CPUID reports it, which needs no LAPIC and software cannot change).
fn refuse_current(area: &PerCpu) -> Result<(), ()> {
    let mine = percpu::try_current().is_some_and(|current| core::ptr::eq(current, area));
    if mine || area.apic_id() == cpu::initial_apic_id() {
        Err(())
    } else {
        Ok(())
    }
}

fn kick_exclusive(
    trampoline: &Trampoline,
    area: &'static PerCpu,
    stack_top: u64,
) -> Result<(), KickError> {
    let target = area.apic_id();
    ANY_KICKED.store(true, Ordering::Release);
    KICKER.store(apic::current_id().0, Ordering::Relaxed);
    AP_FAILURE.store(ap_failure::NONE, Ordering::Relaxed);
    area.set_stage(ArchStage::Kicked);
    // SAFETY: no AP runs the trampoline now: every earlier kick ended with
    // its AP alive in the kernel (past the trampoline) or forced down with
    // INIT, and `KICK_IN_FLIGHT` keeps other kicks out.
    unsafe { trampoline.arm(stack_top, ap_entry, area as *const PerCpu as u64) };

    // INIT then SIPI. The SDM's 10 ms INIT delay is for pre-Nehalem parts;
    // like Linux (init_udelay=0) modern CPUs and QEMU need none. A second
    // SIPI goes out only if the first shows no sign of life; a CPU that is
    // already running ignores it.
    let alive = Deadline::after_us(ALIVE_TIMEOUT_US);
    emit(SmpTraceKind::Init, area.index());
    apic::send_init(target);
    emit(SmpTraceKind::Sipi, area.index());
    apic::send_startup(target, trampoline.sipi_page());
    if halt_until(Deadline::after_us(SIPI_RETRY_US), POLL_US, || {
        trampoline.started()
    })
    .is_err()
    {
        emit(SmpTraceKind::Sipi, area.index());
        apic::send_startup(target, trampoline.sipi_page());
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
    if area.stage() != ArchStage::Alive {
        // The AP gave up by itself and said why before leaving `Kicked`.
        let error = ApFailure::decode(AP_FAILURE.load(Ordering::Acquire), target)
            .unwrap_or(KickError::NotAlive);
        return Err(fail(area, error));
    }
    Ok(())
}

/// Waits until the AP owning `area` has parked (after its last teardown).
///
/// An AP that does not park in time is forced down with INIT, which stops
/// it whatever it was doing, and `Err(NotParked)` reports that it had to be
/// (what that does to its frames: [`crate::context`]). The running CPU's own
/// area is refused with `Err(CurrentCpu)` and nothing is sent.
pub fn wait_parked(area: &'static PerCpu, timeout_us: u64) -> Result<(), ParkError> {
    refuse_current(area).map_err(|()| ParkError::CurrentCpu)?;
    let parked = halt_until(Deadline::after_us(timeout_us), timeout_us, || {
        area.stage() == ArchStage::Down
    });
    if parked.is_err() {
        force_down(area);
        return Err(ParkError::NotParked);
    }
    // Parked means halted with interrupts off; INIT puts it back into
    // wait-for-SIPI so the next kick starts from a clean reset.
    emit(SmpTraceKind::Init, area.index());
    apic::send_init(area.apic_id());
    Ok(())
}

/// Why [`wait_parked`] did not see the CPU park by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkError {
    /// Forced down with INIT after the deadline.
    NotParked,
    /// The area is the running CPU's own: a CPU cannot wait for itself to
    /// park. Nothing was sent.
    CurrentCpu,
}

impl core::fmt::Display for ParkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParkError::NotParked => write!(f, "did not park in time, forced down with INIT"),
            ParkError::CurrentCpu => write!(f, "a CPU cannot wait for itself to park"),
        }
    }
}

/// Stops the CPU owning `area` for good, whatever it is doing: INIT puts it
/// into wait-for-SIPI, and its stage becomes [`ArchStage::Down`], so it
/// may be kicked again. For a CPU that missed a deadline (it hangs, or is
/// too slow to trust): what INIT does to the frames it was running is
/// [`crate::context`]'s "frames cut off by INIT" rule; the locks it held
/// stay held. The running CPU's own area is refused with
/// `Err(CurrentCpu)` and nothing is sent.
pub fn force_down_cpu(area: &'static PerCpu) -> Result<(), ParkError> {
    refuse_current(area).map_err(|()| ParkError::CurrentCpu)?;
    force_down(area);
    Ok(())
}

/// Puts a CPU that failed to come up back into wait-for-SIPI.
fn fail(area: &PerCpu, error: KickError) -> KickError {
    force_down(area);
    error
}

/// INIT stops a CPU whatever it is doing and leaves it in wait-for-SIPI.
fn force_down(area: &PerCpu) {
    emit(SmpTraceKind::Init, area.index());
    apic::send_init(area.apic_id());
    area.set_stage(ArchStage::Down);
}

/// Parks the current AP for good: it can only leave by INIT.
///
/// The caller must have finished all of the CPU's teardown; the control CPU
/// sees [`ArchStage::Down`] and may then kick it again.
pub fn park_current() -> ! {
    cpu::disable_interrupts();
    apic::stop_timer();
    emit(SmpTraceKind::Parked, percpu::current().index());
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
    // SAFETY: the BP passed the address of a leaked, never-freed `PerCpu`
    // (`kick` takes `&'static PerCpu`).
    let area: &'static PerCpu = unsafe { &*(arg as *const PerCpu) };
    let kicker = ApicId(KICKER.load(Ordering::Relaxed));
    if let Err(e) = install::install_ap(area) {
        // The install checked the APIC id against the area's, the one
        // kicked: reported like the LAPIC check below.
        let error = match e {
            InstallError::WrongCpu { found, .. } => ApFailure::WrongApicId { found },
            other => ApFailure::Install(other),
        };
        // Without a per-CPU area there is no LAPIC to wake the kicker with;
        // its deadline will.
        give_up(area, error, None);
    }
    if apic::init_current().is_err() {
        give_up(area, ApFailure::ApicInit, None);
    }
    let found = apic::current_id();
    if found != area.apic_id() {
        give_up(area, ApFailure::WrongApicId { found }, Some(kicker));
    }
    emit(SmpTraceKind::Alive, area.index());
    area.set_stage(ArchStage::Alive);
    wake(kicker);
    let main = AP_MAIN.get().expect("smp::init ran before any kick");
    main(area)
}

/// The AP cannot come up: say why, leave `Kicked` (which ends the kicker's
/// wait, at once if we can wake it) and halt until INIT.
fn give_up(area: &PerCpu, failure: ApFailure, kicker: Option<ApicId>) -> ! {
    AP_FAILURE.store(failure.encode(), Ordering::Release);
    area.set_stage(ArchStage::Down);
    if let Some(kicker) = kicker {
        wake(kicker);
    }
    cpu::halt_forever()
}
