//! Demo states for `register <name>`: each counts its bring-up and
//! teardown calls per CPU, so a user can watch registration run the
//! callback on every CPU already past the slot.

use super::instance::engine;
use super::transport::Kernel;
use crate::cpus;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use hotplug::{CpuId, HotplugError, StateId, StepError};
use spin::Mutex;

/// Per registered demo state: its id and (up, down) calls per CPU.
struct Counts {
    state: StateId,
    calls: Vec<(u64, u64)>,
}

static COUNTS: Mutex<Vec<Counts>> = Mutex::new(Vec::new());
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

fn count(cpu: CpuId, state: StateId, up: bool) -> Result<(), StepError> {
    let mut counts = COUNTS.lock();
    let index = match counts.iter().position(|c| c.state == state) {
        Some(index) => index,
        None => {
            counts.push(Counts {
                state,
                calls: alloc::vec![(0, 0); cpus::all().len()],
            });
            counts.len() - 1
        }
    };
    let slot = counts[index]
        .calls
        .get_mut(cpu.index())
        .ok_or(StepError::failed("no such CPU"))?;
    if up {
        slot.0 += 1;
    } else {
        slot.1 += 1;
    }
    Ok(())
}

fn demo_up(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    count(cpu, state, true)
}

fn demo_down(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    count(cpu, state, false)
}

/// Drops the counters of states that no longer exist.
fn forget_unregistered() {
    COUNTS
        .lock()
        .retain(|c| engine().state_name(c.state).is_some());
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
    COUNTS
        .lock()
        .iter()
        .find(|c| c.state == state)
        .map(|c| c.calls.clone())
}
