//! The commands that move CPUs: online, offline, target, fail, hang,
//! register, unregister. Each prints exactly one status line.

use crate::cpuhp::{self, Kernel};
use hotplug::{CpuId, HotplugError, StateId};
use shell::StateArg;

fn resolve(state: StateArg) -> Result<StateId, HotplugError> {
    let engine = cpuhp::engine();
    match state {
        StateArg::Index(i) => {
            let id = StateId(i);
            engine
                .state_name(id)
                .map(|_| id)
                .ok_or(HotplugError::NoSuchState(id))
        }
        StateArg::Name(name) => engine.lookup(name).ok_or(HotplugError::UnknownStateName),
    }
}

fn report_unknown(state: StateArg, error: HotplugError) {
    match (state, error) {
        (StateArg::Name(name), HotplugError::UnknownStateName) => {
            println!("error: unknown state '{name}' (see 'states')")
        }
        (_, error) => println!("error: {error}"),
    }
}

/// Runs one full move of `cpu` and prints `ok: cpuN <verb> in <us> us`.
fn timed_move(cpu: u32, verb: &str, target: StateId) {
    let cpu = CpuId(cpu);
    let start = arch::time::now_ns();
    match cpuhp::engine().set_target(&Kernel, cpu, target) {
        Ok(()) => {
            let us = (arch::time::now_ns() - start) / 1000;
            println!("ok: {cpu} {verb} in {us} us");
        }
        Err(e) => println!("error: {e}"),
    }
}

pub fn online(cpu: u32) {
    if let Some(why) = crate::smt::refuse_online(CpuId(cpu)) {
        return println!("error: {why}");
    }
    timed_move(cpu, "online", cpuhp::engine().online_state());
}

pub fn offline(cpu: u32) {
    timed_move(cpu, "offline", StateId::OFFLINE);
}

pub fn target(cpu: u32, state: StateArg) {
    let smt_refusal = |id| crate::smt::refuse_up(CpuId(cpu), id);
    if let Some(why) = resolve(state).ok().and_then(smt_refusal) {
        return println!("error: {why}");
    }
    let result = resolve(state).and_then(|id| cpuhp::engine().set_target(&Kernel, CpuId(cpu), id));
    match result {
        Ok(()) => println!("ok"),
        Err(e) => report_unknown(state, e),
    }
}

pub fn fail(cpu: u32, state: Option<StateArg>) {
    let result = match state {
        None => cpuhp::engine().arm_fault(CpuId(cpu), None),
        Some(state) => {
            resolve(state).and_then(|id| cpuhp::engine().arm_fault(CpuId(cpu), Some(id)))
        }
    };
    match (result, state) {
        (Ok(()), _) => println!("ok"),
        (Err(e), Some(state)) => report_unknown(state, e),
        (Err(e), None) => println!("error: {e}"),
    }
}

/// Arms (or with `None` disarms) a hang of an AP state's callback: the
/// next operation that runs it times out and forces the CPU offline.
pub fn hang(cpu: u32, state: Option<StateArg>) {
    let engine = cpuhp::engine();
    let result = match state {
        None => engine.arm_hang(CpuId(cpu), None),
        Some(state) => resolve(state).and_then(|id| engine.arm_hang(CpuId(cpu), Some(id))),
    };
    match (result, state) {
        (Ok(()), _) => println!("ok"),
        (Err(e), Some(state)) => report_unknown(state, e),
        (Err(e), None) => println!("error: {e}"),
    }
}

pub fn register(name: &str) {
    match cpuhp::register_demo(name) {
        Ok(id) => println!("ok: {name} registered as state {id}"),
        Err(e) => println!("error: {e}"),
    }
}

pub fn unregister(name: &str) {
    match cpuhp::unregister_demo(name) {
        Ok(()) => println!("ok"),
        Err(HotplugError::UnknownStateName) => println!("error: unknown state '{name}'"),
        Err(e) => println!("error: {e}"),
    }
}
