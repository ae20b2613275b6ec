//! The built-in states' bring-up and teardown functions.
//!
//! Each is a thin wrapper that turns a hardware or bookkeeping action into
//! a `StepError`; the work itself lives in `arch` and `cpus`. An arch or
//! kernel error keeps its detail: it is formatted into the `StepError` here
//! (its `Display`, or a message written here for errors without one), so the
//! console shows e.g. `cpu:bringup bring-up failed: answered with APIC id 7,
//! expected 3`.

use crate::cpus;
use arch::percpu;
use hotplug::{Cause, CpuId, StateId, StepError};

/// How long an AP gets to park after its last teardown.
const PARK_TIMEOUT_US: u64 = 1_000_000;

fn entry(cpu: CpuId) -> Result<&'static cpus::CpuEntry, StepError> {
    cpus::get(cpu).ok_or(StepError::failed("no such CPU"))
}

fn area(cpu: CpuId) -> Result<&'static percpu::PerCpu, StepError> {
    percpu::get(cpu.index()).ok_or(StepError::failed("per-CPU area missing"))
}

/// Allocates the CPU's per-CPU area and stacks the first time; later onlines
/// reuse them, so there is nothing to undo.
pub fn cpu_prepare(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    let entry = entry(cpu)?;
    percpu::prepare(cpu.index(), entry.apic_id)
        .map(|_| ())
        .map_err(|e| StepError::Failed(Cause::format(format_args!("per-CPU area: {e}"))))
}

/// INIT and the first SIPI, returning at once: `cpu:bringup` waits.
pub fn cpu_kick(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    // Cleared here, before the AP runs, not by the AP: `cpu:kick`'s
    // teardown may ask an AP to park as soon as it is alive.
    super::park_request::clear(cpu);
    arch::smp::kick_start(area(cpu)?).map_err(|e| StepError::because(&e))
}

/// The way back from a bring-up that failed after `cpu:kick` but before
/// `cpu:bringup` waited (an injected fault there, or a set whose member's
/// `cpu:bringup` never ran). The kicked AP may be alive and in the kernel
/// by now, holding run-queue or heap locks, so it is not cut off with
/// INIT: it is waited for, asked to park as after a clean offline, and
/// INIT only follows its deadline. A no-op for a CPU that is down already
/// (`cpu:bringup` failed and put it down itself, or its teardown parked it).
pub fn cpu_cancel_kick(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    use arch::smp::Unkicked;
    let area = area(cpu)?;
    match arch::smp::cancel_kick(area) {
        Ok(Unkicked::Nothing) => {}
        Ok(Unkicked::PutDown(e)) => {
            println!(
                "{cpu}: cpu:kick teardown: kicked but never waited for; {e}, put back with INIT"
            )
        }
        Ok(Unkicked::Alive) => {
            super::park_request::ask(cpu);
            if let Err(e) = arch::smp::wait_parked(area, PARK_TIMEOUT_US) {
                println!("{cpu}: cpu:kick teardown: {e}");
            }
            crate::sched::accept_unbound(cpu, false);
        }
        // Nothing was sent: the CPU is not down.
        Err(e) => return Err(StepError::because(&e)),
    }
    Ok(())
}

/// Waits (deadline) until the AP `cpu:kick` started reports alive, with a
/// second SIPI if the first went unanswered. An AP that never answers keeps
/// the words of the old `Timeout` error, `timed out waiting for the CPU`,
/// ahead of what exactly it missed.
pub fn cpu_bringup(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    use arch::smp::KickError;
    arch::smp::wait_alive(area(cpu)?).map_err(|e| match e {
        KickError::NoStartup | KickError::NotAlive => {
            StepError::Failed(Cause::format(format_args!("{}: {e}", StepError::Timeout)))
        }
        e => StepError::because(&e),
    })
}

/// Waits until the AP has parked. One that never does is forced down with
/// INIT: the CPU is down either way, so this teardown reports success and
/// only the log says it had to be forced. A dead CPU is in no mask: after a
/// clean offline its own teardowns left them, after a forced one it could
/// not, so they are cleared here, before the teardowns below clean up.
pub fn cpu_wait_parked(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    match arch::smp::wait_parked(area(cpu)?, PARK_TIMEOUT_US) {
        Ok(()) => {}
        Err(e @ arch::smp::ParkError::NotParked) => {
            println!("{cpu}: cpu:bringup teardown: {e}");
        }
        // Nothing was sent: the CPU is not down.
        Err(e @ arch::smp::ParkError::CurrentCpu) => return Err(StepError::because(&e)),
    }
    let entry = entry(cpu)?;
    entry.set_online(false);
    entry.set_active(false);
    crate::sched::accept_unbound(cpu, false);
    Ok(())
}

/// Going down: every device interrupt aimed at this CPU moves to a live
/// one while this CPU still accepts interrupts (one already delivered here
/// is still ours to EOI).
pub fn irq_move_off(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    report_moved(cpu, "irq:affinity", crate::irq_affinity::move_off(cpu));
    Ok(())
}

/// Once the AP is dead: device interrupts still aimed at it (it was forced
/// down before `irq:affinity`'s teardown could run) move to a live CPU.
pub fn irq_dead(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    report_moved(cpu, "irq:prepare", crate::irq_affinity::move_off(cpu));
    Ok(())
}

fn report_moved(cpu: CpuId, state: &str, failed: usize) {
    if failed > 0 {
        println!("{cpu}: {state} teardown: {failed} device interrupts could not be moved");
    }
}

/// Interrupt priorities, error reporting and the timer LVT.
pub fn apic_starting(_: CpuId, _: StateId) -> Result<(), StepError> {
    arch::apic::setup_local_vectors();
    Ok(())
}

/// Masks every local interrupt source before the CPU goes away.
pub fn apic_dying(_: CpuId, _: StateId) -> Result<(), StepError> {
    arch::apic::quiesce_local_vectors();
    Ok(())
}

/// The CPU may now be chosen for work.
pub fn cpu_set_active(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    entry(cpu)?.set_active(true);
    Ok(())
}

pub fn cpu_clear_active(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    entry(cpu)?.set_active(false);
    Ok(())
}

/// Joins the online mask: other CPUs may now send it cross-CPU requests.
pub fn smp_online(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    entry(cpu)?.set_online(true);
    Ok(())
}

/// Leaves the online mask first thing on the way down.
pub fn smp_offline(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    entry(cpu)?.set_online(false);
    Ok(())
}

/// The CPU's idle record, worker and hotplug thread, created parked once
/// and reused on every later online.
pub fn threads_prepare(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::percpu_threads::create(cpu).map_err(|e| StepError::because(&e))
}

/// The timer queue is preallocated; make sure nothing stale is in it.
pub fn timers_prepare(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::timer::migrate_all(cpu);
    Ok(())
}

/// Once the AP is dead: the queue is closed (a forced-down CPU could not
/// close it) and anything still queued goes to a live CPU.
pub fn timers_dead(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::timer::set_live(cpu, false);
    let moved = crate::timer::migrate_all(cpu);
    if moved > 0 {
        println!("{cpu}: timers:prepare teardown: moved {moved} late timers");
    }
    Ok(())
}

/// Once the AP is dead: its scheduler is stopped and closed, unbound
/// threads still queued there (a forced-down CPU could not push them away)
/// move to live CPUs, and one it was running when INIT hit is reported
/// lost.
pub fn sched_dead(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    let dead = crate::sched::cpu_dead(cpu);
    if dead.moved > 0 || dead.lost > 0 {
        println!(
            "{cpu}: sched:prepare teardown: moved {} threads, {} lost (cut off by INIT)",
            dead.moved, dead.lost
        );
    }
    Ok(())
}

/// Once the AP is dead: work still queued there moves to a live CPU.
pub fn workqueue_dead(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    let moved = crate::workqueue::close_and_migrate(cpu);
    if moved > 0 {
        println!("{cpu}: workqueue:prepare teardown: moved {moved} work items");
    }
    Ok(())
}

/// Once the AP is dead: its per-CPU threads are parked, and one cut off
/// mid-flight is discarded so the next `threads:prepare` creates it afresh.
pub fn threads_dead(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    let (parked, discarded) = crate::percpu_threads::reset_cut_off(cpu);
    if parked + discarded > 0 {
        println!(
            "{cpu}: threads:prepare teardown: parked {parked}, replaced {discarded} per-CPU threads"
        );
    }
    Ok(())
}

/// Gives this CPU's LAPIC timer its rate (the boot CPU's, after a 5 us
/// check; see `lapic_rate`) and opens its queue.
pub fn timers_starting(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::lapic_rate::init_ap(cpu);
    crate::timer::set_live(cpu, true);
    crate::timer::program();
    Ok(())
}

/// Closes the queue, stops the LAPIC timer and moves pending timers away.
pub fn timers_dying(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::timer::set_live(cpu, false);
    arch::apic::stop_timer();
    crate::timer::migrate_all(cpu);
    Ok(())
}

/// Unbound threads may now be placed here.
pub fn sched_active(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::sched::accept_unbound(cpu, true);
    Ok(())
}

/// How long the scheduler teardown waits for unbound threads to leave;
/// kept well under the engine's 2 s deadline for the whole request.
const DRAIN_TIMEOUT_US: u64 = 500_000;

/// Pushes every unbound thread elsewhere, then waits until only the idle
/// thread and per-CPU threads are left here.
pub fn sched_inactive(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::sched::accept_unbound(cpu, false);
    let deadline = arch::time::Deadline::after_us(DRAIN_TIMEOUT_US);
    loop {
        crate::sched::push_unbound_away(cpu);
        if crate::sched::only_bound_threads(cpu) {
            return Ok(());
        }
        if deadline.expired() {
            crate::sched::accept_unbound(cpu, true);
            // Worded as the `Timeout` it used to report, then what it waited for.
            return Err(StepError::Failed(Cause::format(format_args!(
                "{}: unbound threads still queued after {} ms",
                StepError::Timeout,
                DRAIN_TIMEOUT_US / 1000
            ))));
        }
        crate::sched::yield_now();
    }
}

/// Starts the per-CPU threads.
pub fn threads_online(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::percpu_threads::unpark_all(cpu);
    Ok(())
}

/// Parks the per-CPU threads, each after its current work item.
pub fn threads_offline(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    crate::percpu_threads::park_all(cpu).map_err(|e| StepError::because(&e))
}
