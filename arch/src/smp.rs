//! Starting an AP: the BP-side kick, in two halves so that many APs can be
//! started at once (Linux 6.5's parallel bring-up).
//!
//! [`kick_start`] (the `cpu:kick` hotplug step) arms the CPU's slot in
//! `ap_slots`, sends INIT and SIPI and returns at once; [`wait_alive`]
//! (`cpu:bringup`) sends the second SIPI if needed and halts until the AP
//! reports alive or the deadline passes. Any number of kicks may be
//! outstanding: each AP finds its own parameters by its own APIC id, and
//! the trampoline page is the same for all of them. [`kick`] is both
//! halves, one CPU at a time. The AP's half is `smp_ap`.

use crate::ap_failure::ApFailure;
use crate::ap_slots;
pub use crate::halt::{halt_until, set_wakeup_timer, TimedOut};
use crate::install::InstallError;
pub use crate::kick_error::KickError;
use crate::memory::vm;
use crate::percpu::{self, ArchStage, PerCpu};
use crate::smp_ap;
pub use crate::smp_ap::{park_current, wake};
use crate::smp_trace::{emit, SmpTraceKind};
use crate::time::{self, Deadline};
use crate::trampoline::Trampoline;
use crate::{apic, cpu, ApicId};
use core::sync::atomic::{fence, AtomicBool, Ordering};
use spin::Once;

/// How long an AP gets from the first SIPI to finding its slot in the
/// trampoline before a second SIPI is sent (the SDM's MP protocol sends
/// two; one to a CPU already running is ignored).
const SIPI_RETRY_US: u64 = 1_000;
/// How long an AP gets to report alive, counted from the start of
/// [`wait_alive`], not from the kick: the last of a thousand APs kicked
/// together is not judged by how long the others took. Linux waits 10 s;
/// under TCG a healthy AP needs a few milliseconds.
pub const ALIVE_TIMEOUT_US: u64 = 2_000_000;
/// How often a halted waiter re-checks a condition nobody signals (the
/// slot's `started` flag).
const POLL_US: u64 = 50;

static TRAMPOLINE: Once<Trampoline> = Once::new();

/// Installs the trampoline in `low` (from `memory::init`) and records where
/// alive APs continue.
pub fn init(
    low: crate::memory::LowPages,
    ap_main: fn(&'static PerCpu) -> !,
) -> Result<(), crate::memory::MemoryError> {
    smp_ap::init(vm::kernel_page_table(), ap_main);
    let trampoline = Trampoline::install(low, smp_ap::ap_entry)?;
    TRAMPOLINE.call_once(|| trampoline);
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

/// Starts the CPU owning `area` and waits until it is alive: [`kick_start`]
/// then [`wait_alive`].
pub fn kick(area: &'static PerCpu) -> Result<(), KickError> {
    kick_start(area)?;
    wait_alive(area)
}

/// Sends INIT and SIPI to the CPU owning `area` and returns at once; the
/// kick is then outstanding until [`wait_alive`] or [`cancel_kick`].
///
/// Only a CPU that is down may be kicked: the area's stage must be
/// [`ArchStage::Down`] (never started, parked, or forced down), it must not
/// be the running CPU's own, and no other area that is not down may record
/// the same APIC id; otherwise nothing is sent and the error says why.
/// Kicks of different CPUs may run at the same time, on any CPUs; of two
/// kicks of the same CPU only one gets past the stage check.
pub fn kick_start(area: &'static PerCpu) -> Result<(), KickError> {
    let trampoline = TRAMPOLINE.get().ok_or(KickError::NoTrampoline)?;
    let stack_top = area
        .stacks()
        .ok_or(KickError::Install(InstallError::NoStacks))?
        .kernel
        .top();
    refuse_current(area).map_err(|()| KickError::CurrentCpu)?;
    let target = area.apic_id();
    if !apic::can_address(target) {
        return Err(KickError::Unaddressable(target));
    }
    claim(area)?;
    ANY_KICKED.store(true, Ordering::Release);
    let slot = ap_slots::slot(area.index());
    let arg = area as *const PerCpu as u64;
    slot.arm(
        area.index(),
        target,
        stack_top.as_u64(),
        arg,
        apic::current_id(),
    );
    trampoline.refresh_page_table();
    // The AP may read the slot as soon as the SIPI lands.
    smp_ap::fence_before_ipi();
    // INIT then SIPI. The SDM's 10 ms INIT delay is for pre-Nehalem parts;
    // like Linux (init_udelay=0) modern CPUs and QEMU need none.
    emit(SmpTraceKind::Init, area.index());
    apic::send_init(target);
    slot.set_kicked_at(time::now_ns());
    emit(SmpTraceKind::Sipi, area.index());
    apic::send_startup(target, trampoline.sipi_page());
    Ok(())
}

/// Moves `area` from `Down` to `Kicked` (one atomic step: of two kicks of
/// one CPU only one wins), then refuses it, and moves it back, if another
/// area that is not down records the same APIC id.
///
/// Kicked-then-checked rather than checked-then-kicked: two kicks of two
/// areas with one APIC id each store their own stage, fence, then read the
/// other's, so at least one of them sees the other (both may, and then
/// both refuse, which is the safe answer).
fn claim(area: &PerCpu) -> Result<(), KickError> {
    area.move_stage(ArchStage::Down, ArchStage::Kicked)
        .map_err(KickError::NotDown)?;
    fence(Ordering::SeqCst);
    if let Some(other) = percpu::live_area_with_apic_id(area) {
        area.set_stage(ArchStage::Down);
        return Err(KickError::ApicIdInUse(other));
    }
    Ok(())
}

/// Waits until the CPU [`kick_start`] started reports alive.
///
/// Sends the second SIPI first if the AP has not found its slot
/// `SIPI_RETRY_US` after the kick (waiting out the rest of that time if
/// need be); then halts for up to [`ALIVE_TIMEOUT_US`] from now. An AP that
/// does not make it is put back with INIT and the error says how far it got
/// (or what it reported itself). The running CPU's own area, and a CPU
/// with no kick outstanding, are refused and nothing is sent.
pub fn wait_alive(area: &'static PerCpu) -> Result<(), KickError> {
    let trampoline = TRAMPOLINE.get().ok_or(KickError::NoTrampoline)?;
    refuse_current(area).map_err(|()| KickError::CurrentCpu)?;
    let target = area.apic_id();
    let slot = ap_slots::slot(area.index());
    if !slot.armed_for(target) {
        return Err(KickError::NotKicked(area.stage()));
    }
    // The AP wakes whoever is named here; that is us from now on, even if
    // another CPU ran the kick.
    slot.set_waiter(apic::current_id());
    fence(Ordering::SeqCst);
    if !slot.started() {
        let since_us = time::now_ns().saturating_sub(slot.kicked_at_ns()) / 1000;
        let left_us = SIPI_RETRY_US.saturating_sub(since_us);
        let started = halt_until(Deadline::after_us(left_us), POLL_US, || slot.started());
        if started.is_err() {
            emit(SmpTraceKind::Sipi, area.index());
            apic::send_startup(target, trampoline.sipi_page());
        }
    }
    // The AP wakes us with an IPI once alive (or given up). Under TCG on a
    // busy host its vCPU thread may take a while to be scheduled at all,
    // so the whole deadline applies even if it has not started yet.
    let answered = || area.stage() == ArchStage::Alive || slot.failure() != crate::ap_failure::NONE;
    if halt_until(
        Deadline::after_us(ALIVE_TIMEOUT_US),
        ALIVE_TIMEOUT_US,
        answered,
    )
    .is_err()
    {
        let error = if slot.started() {
            KickError::NotAlive
        } else {
            KickError::NoStartup
        };
        force_down(area);
        return Err(error);
    }
    if area.stage() != ArchStage::Alive {
        // The AP gave up by itself and said why.
        let error = ApFailure::decode(slot.failure(), target).unwrap_or(KickError::NotAlive);
        force_down(area);
        return Err(error);
    }
    slot.disarm();
    Ok(())
}

/// Settles a kick of the CPU owning `area` that nobody waited for with
/// [`wait_alive`] (the way back of a bring-up that failed between the
/// two). It is never cut off with INIT once it may run kernel code, where
/// it can hold locks: it is waited for as [`wait_alive`] does (the same
/// deadline, and an AP that never answers is put down with INIT there, as
/// it never got past its own start-up). Answers what the caller must do:
/// [`Unkicked::Nothing`] if no kick was outstanding (it is down already,
/// or was waited for), [`Unkicked::PutDown`] if it never came alive and
/// was put back with INIT, [`Unkicked::Alive`] if it is alive in the
/// kernel and must be asked to park (then [`wait_parked`]). The running
/// CPU's own area is refused with `Err(CurrentCpu)` and nothing is sent.
pub fn cancel_kick(area: &'static PerCpu) -> Result<Unkicked, ParkError> {
    refuse_current(area).map_err(|()| ParkError::CurrentCpu)?;
    if !ap_slots::slot(area.index()).armed_for(area.apic_id()) {
        return Ok(Unkicked::Nothing);
    }
    match wait_alive(area) {
        Ok(()) => Ok(Unkicked::Alive),
        Err(error) => Ok(Unkicked::PutDown(error)),
    }
}

/// What [`cancel_kick`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unkicked {
    /// No kick was outstanding; nothing was sent.
    Nothing,
    /// The AP never came alive ([`wait_alive`]'s error) and was put back
    /// into wait-for-SIPI with INIT.
    PutDown(KickError),
    /// The AP is alive and running kernel code: ask it to park.
    Alive,
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

/// Waits until the AP owning `area` has parked (after its last teardown).
///
/// An AP that does not park in time is forced down with INIT, which stops
/// it whatever it was doing, and `Err(NotParked)` reports that it had to be
/// (what that does to its frames: [`crate::context`]). The running CPU's own
/// area is refused with `Err(CurrentCpu)` and nothing is sent.
pub fn wait_parked(area: &'static PerCpu, timeout_us: u64) -> Result<(), ParkError> {
    refuse_current(area).map_err(|()| ParkError::CurrentCpu)?;
    // The parking AP wakes whoever is named in its slot: us.
    ap_slots::slot(area.index()).set_waiter(apic::current_id());
    fence(Ordering::SeqCst);
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

/// INIT stops a CPU whatever it is doing and leaves it in wait-for-SIPI;
/// then its slot is disarmed (so a SIPI finds nothing for it) and only
/// then is it down, which lets another kick use its APIC id.
fn force_down(area: &PerCpu) {
    emit(SmpTraceKind::Init, area.index());
    apic::send_init(area.apic_id());
    ap_slots::slot(area.index()).disarm();
    area.set_stage(ArchStage::Down);
}
