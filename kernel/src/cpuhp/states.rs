//! The hotplug state table: top to bottom is bring-up order, bottom to top
//! is teardown order (Linux's `cpuhp_hp_states[]`).
//!
//! A new state is one entry here plus its two functions and a `.why` (the
//! reason for its position; `const _` below rejects a table without).
//! BP (`prepare`) steps run on the control CPU before the AP exists;
//! `starting` steps run on the AP with interrupts off and may not fail;
//! `online` steps run on the AP with interrupts on.

use super::callbacks::*;
use hotplug::Step;

/// Slots for states registered at run time, just before `online`.
pub const DYNAMIC_SLOTS: usize = 8;

pub static STATES: &[Step] = &[
    Step::OFFLINE,
    // --- BP, before the AP runs ---
    Step::prepare("cpu:prepare", Some(cpu_prepare), None)
        .why("first: allocates the per-CPU area, stacks and GDT/TSS the kick hands to the AP"),
    Step::prepare("threads:prepare", Some(threads_prepare), Some(threads_dead))
        .tear_down_no_fail()
        .why("before cpu:kick: the AP's idle loop adopts idle/N the moment it runs"),
    // The teardowns from here to cpu:bringup run once the AP is dead: after
    // a clean offline they find nothing left, after a CPU was forced down
    // (it missed a deadline) they do what its own teardowns could not.
    Step::prepare("workqueue:prepare", None, Some(workqueue_dead))
        .no_fail()
        .why("below cpu:kick: once the AP is dead, work still queued there moves away"),
    Step::prepare("sched:prepare", None, Some(sched_dead))
        .no_fail()
        .why("below cpu:kick: once the AP is dead, its unbound threads move away"),
    Step::prepare("timers:prepare", Some(timers_prepare), Some(timers_dead))
        .why("below cpu:kick: its teardown runs once the AP has parked, for late timers"),
    Step::prepare("irq:prepare", None, Some(irq_dead))
        .no_fail()
        .why("just below cpu:kick: once the AP is dead, device interrupts aimed at it move first"),
    // The kick in two halves (Linux 6.5's CPUHP_BP_KICK_AP and
    // CPUHP_BRINGUP_CPU): a set of CPUs can be kicked together and then
    // waited for one by one. A CPU rests at neither.
    Step::prepare("cpu:kick", Some(cpu_kick), Some(cpu_cancel_kick))
        .cant_stop()
        .tear_down_no_fail()
        .why("after all the AP needs exists: INIT-SIPI, no wait; down: park one never waited for"),
    Step::prepare("cpu:bringup", Some(cpu_bringup), Some(cpu_wait_parked))
        .starts_ap()
        .tear_down_no_fail()
        .why("last BP step, right after cpu:kick: waits until alive; down: waits until parked"),
    // --- AP, interrupts off ---
    Step::starting("apic:starting", Some(apic_starting), Some(apic_dying))
        .why("first on the AP: the LAPIC vectors and timer LVT come before any interrupt"),
    Step::starting("irq:affinity", None, Some(irq_move_off))
        .why("after apic:starting: going down, device interrupts leave while the LAPIC takes them"),
    Step::starting("timers:starting", Some(timers_starting), Some(timers_dying))
        .why("after apic:starting: calibrating the LAPIC timer needs its LVT set up"),
    Step::starting("cpu:active", Some(cpu_set_active), Some(cpu_clear_active))
        .why("after timers:starting: a CPU chosen for work must have a live timer queue"),
    // --- AP, interrupts on ---
    Step::online("sched:active", Some(sched_active), Some(sched_inactive))
        .why("after cpu:active: only an active CPU with timers may take unbound threads"),
    Step::online(
        "threads:online",
        Some(threads_online),
        Some(threads_offline),
    )
    .why("after sched:active: kworker/N and cpuhp/N need a CPU that schedules"),
    Step::online("smp:online", Some(smp_online), Some(smp_offline))
        .why("after threads:online: cross-CPU requests need kworker/N running; down: first"),
    // Dynamic states registered at run time land here, before `online`.
    Step::ONLINE,
];

// A malformed table (order, sections, names, marks) does not build.
const _: () = hotplug::assert_valid(STATES, "online", DYNAMIC_SLOTS);
