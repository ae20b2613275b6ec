//! Demo states for `register <name>`: each counts its bring-up and
//! teardown calls per CPU, so a user can watch registration run the
//! callback on every CPU already past the slot.

use super::instance::engine;
use super::states::DYNAMIC_SLOTS;
use super::transport::Kernel;
use crate::cpus;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use hotplug::{CpuId, HotplugError, StateId, StepError};
use spin::Mutex;

per_cpu! {
    /// Per dynamic slot: how often this CPU ran the demo state's bring-up
    /// and teardown. Zeroed when the slot is freed, so a state registered
    /// into it later starts from nothing.
    static CALLS: [(AtomicU64, AtomicU64); DYNAMIC_SLOTS] =
        [const { (AtomicU64::new(0), AtomicU64::new(0)) }; DYNAMIC_SLOTS];
}

/// Names handed to the engine must be `'static`; each distinct name is
/// leaked once and reused, so repeated register/unregister does not grow.
static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock();
    if let Some(found) = names.iter().find(|n| **n == name) {
        return found;
    }
    let leaked: &'static str = Box::leak(String::from(name).into_boxed_str());
    names.push(leaked);
    leaked
}

/// The dynamic slot `state` occupies, if it is one.
fn slot(state: StateId) -> Option<usize> {
    let first = engine().online_state().index().checked_sub(DYNAMIC_SLOTS)?;
    state
        .index()
        .checked_sub(first)
        .filter(|&i| i < DYNAMIC_SLOTS)
}

fn count(cpu: CpuId, state: StateId, up: bool) -> Result<(), StepError> {
    let slot = slot(state).ok_or(StepError::failed("not a dynamic state"))?;
    let (ups, downs) = &CALLS.get(cpu)[slot];
    let counter = if up { ups } else { downs };
    counter.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn demo_up(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    count(cpu, state, true)
}

fn demo_down(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    count(cpu, state, false)
}

/// Zeroes the counters of every slot no state occupies now.
fn forget_unregistered() {
    let Some(first) = engine().online_state().index().checked_sub(DYNAMIC_SLOTS) else {
        return;
    };
    for slot in 0..DYNAMIC_SLOTS {
        if engine()
            .state_name(StateId((first + slot) as u16))
            .is_none()
        {
            for cpu in 0..cpus::all().len() as u32 {
                let (ups, downs) = &CALLS.get(CpuId(cpu))[slot];
                ups.store(0, Ordering::Relaxed);
                downs.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// Registers a demo state; its bring-up runs at once on every CPU past it.
pub fn register_demo(name: &str) -> Result<StateId, HotplugError> {
    let result = engine().register(&Kernel, intern(name), Some(demo_up), Some(demo_down));
    forget_unregistered();
    result
}

/// Removes a demo state; its teardown runs on every CPU past it.
pub fn unregister_demo(name: &str) -> Result<(), HotplugError> {
    let id = engine()
        .lookup(name)
        .ok_or(HotplugError::UnknownStateName)?;
    let result = engine().unregister(&Kernel, id);
    forget_unregistered();
    result
}

/// (bring-up, teardown) calls per CPU of a registered demo state.
pub fn demo_calls(state: StateId) -> Option<Vec<(u64, u64)>> {
    engine().state_name(state)?;
    let slot = slot(state)?;
    Some(
        (0..cpus::all().len() as u32)
            .map(|cpu| {
                let (ups, downs) = &CALLS.get(CpuId(cpu))[slot];
                (ups.load(Ordering::Relaxed), downs.load(Ordering::Relaxed))
            })
            .collect(),
    )
}
