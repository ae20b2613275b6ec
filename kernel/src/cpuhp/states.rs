//! The hotplug state table: top to bottom is bring-up order, bottom to top
//! is teardown order (Linux's `cpuhp_hp_states[]`).
//!
//! A new state is one entry here plus its two functions. BP (`prepare`)
//! steps run on the control CPU before the AP exists; `starting` steps run
//! on the AP with interrupts off and may not fail; `online` steps run on
//! the AP with interrupts on.

use super::callbacks::*;
use hotplug::Step;

/// Slots for states registered at run time, just before `online`.
pub const DYNAMIC_SLOTS: usize = 8;

pub static STATES: &[Step] = &[
    Step::OFFLINE,
    // --- BP, before the AP runs ---
    Step::prepare("cpu:prepare", Some(cpu_prepare), None),
    Step::prepare("threads:prepare", Some(threads_prepare), None),
    Step::prepare("timers:prepare", Some(timers_prepare), Some(timers_dead)),
    Step::prepare("cpu:kick", Some(cpu_kick), Some(cpu_wait_parked)).tear_down_no_fail(),
    // --- AP, interrupts off ---
    Step::starting("apic:starting", Some(apic_starting), Some(apic_dying)),
    Step::starting("timers:starting", Some(timers_starting), Some(timers_dying)),
    Step::starting("cpu:active", Some(cpu_set_active), Some(cpu_clear_active)),
    // --- AP, interrupts on ---
    Step::online("sched:active", Some(sched_active), Some(sched_inactive)),
    Step::online(
        "threads:online",
        Some(threads_online),
        Some(threads_offline),
    ),
    Step::online("smp:online", Some(smp_online), Some(smp_offline)),
    // Dynamic states registered at run time land here, before `online`.
    Step::ONLINE,
];

// A malformed table (order, sections, names, marks) does not build.
const _: () = hotplug::assert_valid(STATES, "online", DYNAMIC_SLOTS);
