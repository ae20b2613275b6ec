//! The commands that move CPUs: online, offline, target (one CPU or a
//! list), register, unregister. Each prints exactly one status line.
//!
//! A list moves in one set operation (`Engine::set_target_many`): checked
//! whole first (nothing moves if any member is refused), then each member
//! that fails rolls back alone, gets one line, and is named, with where it
//! ended, in the `error:` status line. One CPU keeps its own formats
//! (`ok: cpu3 online in <us> us`). Both paths ask [`refuse_member`] first,
//! the one place a console policy can keep a CPU from moving.

use super::cpu_list::{self, Members, Named, Scope};
use crate::cpuhp::{self, Kernel};
use alloc::vec::Vec;
use hotplug::{CpuId, HotplugError, StateId};
use shell::{CpuList, CpuSet, StateArg};

/// The state a command names, by index or name.
pub(super) fn resolve_state(state: StateArg) -> Result<StateId, HotplugError> {
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

/// `error: unknown state '<name>' (see 'states')` for an unknown name,
/// `error: <error>` otherwise.
pub(super) fn report_unknown(state: StateArg, error: HotplugError) {
    match (state, error) {
        (StateArg::Name(name), HotplugError::UnknownStateName) => {
            println!("error: unknown state '{name}' (see 'states')")
        }
        (_, error) => println!("error: {error}"),
    }
}

/// `offline all`: every CPU that is not offline (online, or resting part
/// way), but the boot CPU, which must stay online.
const UP_APS: Scope = Scope {
    includes: |entry| {
        entry.cpu != CpuId::BOOT
            && cpuhp::engine()
                .state_of(entry.cpu)
                .is_ok_and(|s| s != StateId::OFFLINE)
    },
    what: "CPU up but the boot CPU",
};

/// `target all <state>` below online: every present CPU but the boot CPU
/// (and, while smt is off, but its secondary threads, as for `online all`).
const PRESENT_APS: Scope = Scope {
    includes: |entry| movable_up(entry) && entry.cpu != CpuId::BOOT,
    what: "present CPU but the boot CPU",
};

/// `all` for `online` and an upward `target`: every present CPU the SMT
/// control lets up (while smt is off its secondary threads are left out,
/// as Linux's `cpuhp_bringup_mask` skips them, instead of refusing all).
const MOVABLE_UP: Scope = Scope {
    includes: movable_up,
    what: "present CPU",
};

fn movable_up(entry: &crate::cpus::CpuEntry) -> bool {
    cpu_list::is_present(entry) && crate::smt::refuse_online(entry.cpu).is_none()
}

/// Where a move goes and how its status line says it got there.
#[derive(Clone, Copy)]
enum Move {
    /// `online`: `... online in <us> us`.
    Online,
    /// `offline`: `... offline in <us> us`.
    Offline,
    /// `target`: `ok` for one CPU, `... at <state>` for a list.
    Target(StateId),
}

impl Move {
    fn state(self) -> StateId {
        match self {
            Move::Online => cpuhp::engine().online_state(),
            Move::Offline => StateId::OFFLINE,
            Move::Target(id) => id,
        }
    }

    /// What `all` means for this move.
    fn scope(self) -> &'static Scope {
        match self {
            Move::Online => &MOVABLE_UP,
            Move::Offline => &UP_APS,
            Move::Target(id) if id < cpuhp::engine().online_state() => &PRESENT_APS,
            Move::Target(_) => &MOVABLE_UP,
        }
    }

    /// `online in 812 us`, `at sched:active`.
    fn reached(self, us: u64) -> alloc::string::String {
        match self {
            Move::Online => alloc::format!("online in {us} us"),
            Move::Offline => alloc::format!("offline in {us} us"),
            Move::Target(id) => {
                let name = cpuhp::engine().state_name(id).unwrap_or("?");
                alloc::format!("at {name}")
            }
        }
    }
}

/// Why the console will not move `cpu` to `target`, if it will not: the
/// console's policies (the SMT control refuses to bring up a secondary
/// thread while smt is off), asked for every member before anything moves.
fn refuse_member(cpu: CpuId, target: StateId) -> Option<crate::smt::Refusal> {
    crate::smt::refuse_up(cpu, target)
}

/// `online <cpus>`: all the way up; `all` is every present CPU.
pub fn online(cpus: CpuList) {
    move_cpus(cpus, Move::Online);
}

/// `offline <cpus>`: all the way down; `all` is every CPU up but the boot
/// CPU.
pub fn offline(cpus: CpuList) {
    move_cpus(cpus, Move::Offline);
}

/// `target <cpus> <state>`: to the state and stop there.
pub fn target(cpus: CpuList, state: StateArg) {
    match resolve_state(state) {
        Ok(id) => move_cpus(cpus, Move::Target(id)),
        Err(e) => report_unknown(state, e),
    }
}

fn move_cpus(cpus: CpuList, how: Move) {
    match cpu_list::resolve(cpus, how.scope()) {
        Ok(Members::One(cpu)) => move_one(cpu, how),
        Ok(Members::Many(set)) => move_many(&set, how),
        Err(refusal) => println!("error: {refusal}"),
    }
}

/// One CPU, in the formats the console has always used.
fn move_one(cpu: CpuId, how: Move) {
    let target = how.state();
    if let Some(why) = refuse_member(cpu, target) {
        return println!("error: {why}");
    }
    let start = arch::time::now_ns();
    match (cpuhp::engine().set_target(&Kernel, cpu, target), how) {
        (Ok(()), Move::Target(_)) => println!("ok"),
        (Ok(()), _) => {
            let us = (arch::time::now_ns() - start) / 1000;
            println!("ok: {cpu} {}", how.reached(us));
        }
        (Err(e), _) => println!("error: {e}"),
    }
}

/// A set in one operation; the time is the whole set's.
fn move_many(set: &CpuSet, how: Move) {
    let target = how.state();
    let members = cpu_list::ids(set);
    let refused: Vec<(CpuId, crate::smt::Refusal)> = (members.iter())
        .filter_map(|&cpu| refuse_member(cpu, target).map(|why| (cpu, why)))
        .collect();
    if !refused.is_empty() {
        for (_, why) in &refused {
            println!("{why}");
        }
        let names: CpuSet = refused.iter().map(|(cpu, _)| cpu.0).collect();
        return println!("error: {} refused; nothing moved", Named(&names));
    }
    let start = arch::time::now_ns();
    let outcome = match cpuhp::engine().set_target_many(&Kernel, &members, target) {
        Ok(outcome) => outcome,
        Err(e) => return println!("error: {e}"),
    };
    let reached = how.reached((arch::time::now_ns() - start) / 1000);
    if outcome.failures.is_empty() {
        return println!("ok: {} {reached}", Named(set));
    }
    for failure in &outcome.failures {
        println!("{failure}");
    }
    let failed: CpuSet = outcome.failures.iter().map(|f| f.cpu.0).collect();
    let ends: Vec<alloc::string::String> = (outcome.failures.iter())
        .map(|f| alloc::format!("{} at {}", f.cpu, f.settled_name))
        .collect();
    let moved: CpuSet = outcome.reached.iter().map(|cpu| cpu.0).collect();
    let rest = match moved.is_empty() {
        true => alloc::string::String::new(),
        false => alloc::format!("; {} {reached}", Named(&moved)),
    };
    println!(
        "error: {} failed: {}{rest}",
        Named(&failed),
        ends.join(", ")
    );
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
