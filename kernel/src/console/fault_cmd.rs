//! `fail <cpus> <state|none>` and `hang <cpus> <state|none>`: arm (or
//! disarm) a one-shot fault or hang on each CPU of a list.
//!
//! A list is all or nothing: every member is armed, or, if the engine
//! refuses any (the next pass of the state differs per CPU, so one CPU may
//! refuse what another takes), each refusal gets a line, the members
//! already armed get back what they had, and the status line is `error:`.
//! It owns no fault logic: arming and its refusals are the engine's.

use super::cpu_list::{self, Members, Named, Scope};
use super::hotplug_cmd::{report_unknown, resolve_state};
use crate::cpuhp;
use alloc::vec::Vec;
use hotplug::{CpuId, HotplugError, StateId};
use shell::{CpuList, StateArg};

/// Arms (or disarms) on one CPU.
type Arm = fn(CpuId, Option<StateId>) -> Result<(), HotplugError>;
/// What is armed on one CPU now.
type Armed = fn(CpuId) -> Option<StateId>;

/// `hang all`: every present CPU but the boot CPU, which runs the
/// deadline and cannot hang.
const PRESENT_APS: Scope = Scope {
    includes: |entry| cpu_list::is_present(entry) && entry.cpu != CpuId::BOOT,
    what: "present CPU but the boot CPU",
};

/// Arms a one-shot failure of `state`'s callback on each CPU of `cpus`
/// (`all`: every present CPU); `None` disarms.
pub fn fail(cpus: CpuList, state: Option<StateArg>) {
    let arm: Arm = |cpu, id| cpuhp::engine().arm_fault(cpu, id);
    let armed: Armed = |cpu| cpuhp::engine().armed_fault(cpu).ok().flatten();
    arm_members(cpus, state, &cpu_list::PRESENT, arm, armed);
}

/// Arms (or with `None` disarms) a hang of an AP state's callback on each
/// CPU of `cpus`: the next operation that runs it there times out and
/// forces the CPU offline.
pub fn hang(cpus: CpuList, state: Option<StateArg>) {
    let arm: Arm = |cpu, id| cpuhp::engine().arm_hang(cpu, id);
    let armed: Armed = |cpu| cpuhp::engine().status(cpu).ok().and_then(|s| s.armed_hang);
    arm_members(cpus, state, &PRESENT_APS, arm, armed);
}

fn arm_members(cpus: CpuList, state: Option<StateArg>, all: &Scope, arm: Arm, armed: Armed) {
    let members = match cpu_list::resolve(cpus, all) {
        Ok(members) => members,
        Err(refusal) => return println!("error: {refusal}"),
    };
    let id = match state.map(resolve_state).transpose() {
        Ok(id) => id,
        Err(e) => return report(state, e),
    };
    match members {
        Members::One(cpu) => match arm(cpu, id) {
            Ok(()) => println!("ok"),
            Err(e) => report(state, e),
        },
        Members::Many(set) => {
            let before: Vec<(CpuId, Option<StateId>)> = (cpu_list::ids(&set).into_iter())
                .map(|cpu| (cpu, armed(cpu)))
                .collect();
            let refused: Vec<(CpuId, HotplugError)> = (before.iter())
                .filter_map(|&(cpu, _)| arm(cpu, id).err().map(|e| (cpu, e)))
                .collect();
            let verb = if id.is_some() { "armed" } else { "disarmed" };
            if refused.is_empty() {
                return println!("ok: {} {verb}", Named(&set));
            }
            for &(cpu, prior) in &before {
                // Was accepted in this very state a moment ago; a refusal
                // now (the CPU moved meanwhile) leaves it disarmed.
                if arm(cpu, prior).is_err() {
                    let _ = arm(cpu, None);
                }
            }
            for (cpu, e) in &refused {
                println!("{}", about(*cpu, e));
            }
            let names: shell::CpuSet = refused.iter().map(|(cpu, _)| cpu.0).collect();
            println!("error: {} refused; nothing {verb}", Named(&names));
        }
    }
}

fn report(state: Option<StateArg>, error: HotplugError) {
    match state {
        Some(state) => report_unknown(state, error),
        None => println!("error: {error}"),
    }
}

/// `cpuN: <error>`, unless the error already starts by naming the CPU.
fn about(cpu: CpuId, error: &HotplugError) -> alloc::string::String {
    let text = alloc::format!("{error}");
    let named = alloc::format!("{cpu}:");
    match text.starts_with(&named) {
        true => text,
        false => alloc::format!("{named} {text}"),
    }
}
