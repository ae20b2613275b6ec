//! Read-only views for the console: each CPU's state, the table, armed
//! faults and last errors.
//!
//! Owns nothing and changes nothing; every answer is a snapshot copied out
//! under a short lock.

use alloc::vec::Vec;

use crate::cpu_state::CpuStatus;
use crate::direction::Direction;
use crate::engine::Engine;
use crate::error::{Failure, HotplugError};
use crate::ids::{CpuId, StateId};
use crate::step::{Section, Side};

/// One line of the table listing (the console's `states`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateRow {
    /// The state's index.
    pub id: StateId,
    /// The state's name.
    pub name: &'static str,
    /// Which CPU runs its callbacks.
    pub side: Side,
    /// Whether an error aborts and rolls back in some direction (and a fault
    /// may be armed on it).
    pub may_fail: bool,
    /// The phase of bring-up it belongs to.
    pub section: Section,
    /// A registered dynamic state.
    pub dynamic: bool,
    /// Whether it has a bring-up that may fail: a fault armed here can fire
    /// going up.
    pub up_may_fail: bool,
    /// Whether it has a teardown that may fail: a fault armed here can fire
    /// going down.
    pub down_may_fail: bool,
    /// Whether a CPU may rest here (be sent here with `set_target`); false
    /// for states marked [`crate::Step::cant_stop`].
    pub can_rest: bool,
    /// Why the state sits where it does; empty for dynamic states.
    pub reason: &'static str,
}

impl StateRow {
    /// The column names of [`StateRow`]'s `Display`, for a header line.
    pub const HEADER: &'static str = "INDEX NAME SIDE FAIL SECTION UP DOWN REST WHY";
}

impl StateRow {
    /// Every column but the last (`WHY`): index, name, side, may-fail,
    /// section, up, down, rest. A kernel that adds columns of its own (the
    /// demo states' call counts) prints them between these and [`Self::why`].
    pub fn fixed_columns(&self) -> impl core::fmt::Display + '_ {
        FixedColumns(self)
    }

    /// The `WHY` column: the reason the state sits where it does, or `-`.
    pub fn why(&self) -> &'static str {
        if self.reason.is_empty() {
            "-"
        } else {
            self.reason
        }
    }
}

struct FixedColumns<'a>(&'a StateRow);

impl core::fmt::Display for FixedColumns<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let row = self.0;
        let fail = |may_fail: bool| if may_fail { "may-fail" } else { "no-fail" };
        let rest = if row.can_rest {
            "can-rest"
        } else {
            "cant-rest"
        };
        write!(
            f,
            "{} {} {} {} {} {} {} {}",
            row.id,
            row.name,
            row.side,
            fail(row.may_fail),
            row.section,
            fail(row.up_may_fail),
            fail(row.down_may_fail),
            rest,
        )
    }
}

impl core::fmt::Display for StateRow {
    /// `9 threads:online ap may-fail online may-fail may-fail can-rest after
    /// sched:active: ...`: the first five columns are the original format,
    /// the reason (or `-`) is the rest of the line.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.fixed_columns(), self.why())
    }
}

impl Engine {
    /// How many CPUs the engine numbers (present or not).
    pub fn possible_cpus(&self) -> usize {
        self.cpus.len()
    }

    /// The state named `name`, if defined.
    pub fn lookup(&self, name: &str) -> Option<StateId> {
        self.table.read().lookup(name)
    }

    /// The name of a defined state.
    pub fn state_name(&self, id: StateId) -> Option<&'static str> {
        self.step(id).map(|s| s.name)
    }

    /// The last state, `online`.
    pub fn online_state(&self) -> StateId {
        self.table.read().online()
    }

    /// Where `cpu` sits in the table.
    pub fn state_of(&self, cpu: CpuId) -> Result<StateId, HotplugError> {
        Ok(self.percpu(cpu)?.lock().state)
    }

    /// A snapshot of `cpu`'s hotplug state.
    pub fn status(&self, cpu: CpuId) -> Result<CpuStatus, HotplugError> {
        let p = self.percpu(cpu)?.lock();
        let (present, state, target) = (p.present, p.state, p.target);
        let (armed_fault, armed_hang, last_error) = (p.fault, p.hang, p.last_error);
        drop(p);
        Ok(CpuStatus {
            cpu,
            present,
            state,
            state_name: self.name_of(state),
            target,
            armed_fault,
            armed_hang,
            last_error,
        })
    }

    /// Like [`Engine::status`], but `None` instead of waiting if the CPU's
    /// record is locked: for crash reports, which must never block.
    pub fn try_status(&self, cpu: CpuId) -> Option<CpuStatus> {
        let p = self.cpus.get(cpu.index())?.try_lock()?;
        let (present, state, target) = (p.present, p.state, p.target);
        let (armed_fault, armed_hang, last_error) = (p.fault, p.hang, p.last_error);
        drop(p);
        let table = self.table.try_read()?;
        let state_name = table.get(state).map_or("?", |s| s.name);
        Some(CpuStatus {
            cpu,
            present,
            state,
            state_name,
            target,
            armed_fault,
            armed_hang,
            last_error,
        })
    }

    /// Every CPU's status, by CPU number.
    pub fn cpu_statuses(&self) -> Vec<CpuStatus> {
        (0..self.cpus.len() as u32)
            .filter_map(|i| self.status(CpuId(i)).ok())
            .collect()
    }

    /// The fault armed on `cpu`, if any.
    pub fn armed_fault(&self, cpu: CpuId) -> Result<Option<StateId>, HotplugError> {
        Ok(self.percpu(cpu)?.lock().fault)
    }

    /// The last failed operation on `cpu`, if any.
    pub fn last_error(&self, cpu: CpuId) -> Result<Option<Failure>, HotplugError> {
        Ok(self.percpu(cpu)?.lock().last_error)
    }

    /// The defined states in bring-up order (empty slots left out).
    pub fn table_rows(&self) -> Vec<StateRow> {
        let table = self.table.read();
        (table.iter())
            .map(|(id, step)| StateRow {
                id,
                name: step.name,
                side: step.side,
                may_fail: step.can_fail(),
                section: step.section,
                dynamic: table.is_dynamic(id),
                up_may_fail: step.fault_fires_in(Direction::Up),
                down_may_fail: step.fault_fires_in(Direction::Down),
                can_rest: !step.cant_stop,
                reason: step.why,
            })
            .collect()
    }
}
