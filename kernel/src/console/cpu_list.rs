//! From a CPU list as typed (`shell::CpuList`) to the CPUs a command
//! applies to, checked whole before anything is done to any of them.
//!
//! Owns what `all` means for each command (only the kernel knows which
//! CPUs are present or up) and the check that every CPU a list names
//! exists. It never runs a command: each handler takes [`Members`] and
//! keeps its single-CPU path, and its output, for [`Members::One`].

use core::fmt;

use crate::cpus::{self, CpuEntry};
use hotplug::CpuId;
use shell::{CpuList, CpuSet};

// A set must hold every CPU the kernel can have.
const _: () = assert!(shell::MAX_LIST_CPUS == arch::percpu::MAX_CPUS);

/// The CPUs a command runs on.
pub enum Members {
    /// Exactly one CPU (typed as a number, or a list or `all` that came to
    /// one): the command's single-CPU path and formats.
    One(CpuId),
    /// Two or more, each a possible CPU.
    Many(CpuSet),
}

/// What `all` stands for in a command: a filter over the CPU table, and
/// the words for "no CPU matched" (`no <what>`).
pub struct Scope {
    /// Whether `all` includes this CPU.
    pub includes: fn(&CpuEntry) -> bool,
    /// The CPUs it includes, for the error when there are none.
    pub what: &'static str,
}

/// Whether the CPU is in its slot and can be started (the `present` of
/// the `cpus` table and of the engine).
pub fn is_present(entry: &CpuEntry) -> bool {
    entry.is_present() && entry.addressable()
}

/// Every present CPU.
pub const PRESENT: Scope = Scope {
    includes: is_present,
    what: "present CPU",
};

/// Why a list was refused as a whole.
pub enum Refusal {
    /// CPUs past the possible ones.
    NoSuchCpus(CpuSet),
    /// `all` matched no CPU.
    NoneInScope(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoSuchCpus(cpus) => write!(f, "{}: no such CPU", Named(cpus)),
            Refusal::NoneInScope(what) => write!(f, "all: there is no {what}"),
        }
    }
}

/// The CPUs `list` names; `all` is every CPU `scope` includes. A number
/// is not checked here (the single-CPU path answers as it always has).
pub fn resolve(list: CpuList, scope: &Scope) -> Result<Members, Refusal> {
    let set = match list {
        CpuList::One(cpu) => return Ok(Members::One(CpuId(cpu))),
        CpuList::All => {
            let set: CpuSet = (cpus::all().iter())
                .filter(|entry| (scope.includes)(entry))
                .map(|entry| entry.cpu.0)
                .collect();
            if set.is_empty() {
                return Err(Refusal::NoneInScope(scope.what));
            }
            set
        }
        CpuList::Set(set) => {
            let possible = cpus::all().len() as u32;
            let missing: CpuSet = set.iter().filter(|cpu| *cpu >= possible).collect();
            if !missing.is_empty() {
                return Err(Refusal::NoSuchCpus(missing));
            }
            set
        }
    };
    match set.len() {
        1 => Ok(Members::One(CpuId(set.iter().next().unwrap_or(0)))),
        _ => Ok(Members::Many(set)),
    }
}

/// The CPUs of `set` as status lines name them: `cpu3` for one, `cpus
/// 1-3,5` for more.
pub struct Named<'a>(pub &'a CpuSet);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => write!(f, "cpu{}", self.0),
            _ => write!(f, "cpus {}", self.0),
        }
    }
}

/// The members of `set` as engine CPU ids, in order.
pub fn ids(set: &CpuSet) -> alloc::vec::Vec<CpuId> {
    set.iter().map(CpuId).collect()
}
