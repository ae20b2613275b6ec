//! Read-only views for the console: each CPU's state, the table, armed
//! faults and last errors.
//!
//! Owns nothing and changes nothing; every answer is a snapshot copied out
//! under a short lock.

use alloc::vec::Vec;

use crate::cpu_state::CpuStatus;
use crate::engine::Engine;
use crate::error::{Failure, HotplugError};
use crate::ids::{CpuId, StateId};
use crate::step::{Section, Side};

/// One line of the table listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateRow {
    pub id: StateId,
    pub name: &'static str,
    pub side: Side,
    /// Whether an error aborts and rolls back (and a fault may be armed).
    pub may_fail: bool,
    pub section: Section,
    /// A registered dynamic state.
    pub dynamic: bool,
    /// Whether a CPU may be sent here with `set_target`.
    pub stoppable: bool,
}

impl core::fmt::Display for StateRow {
    /// `12 workqueue:online ap may-fail online`
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let fail = if self.may_fail { "may-fail" } else { "no-fail" };
        write!(
            f,
            "{} {} {} {} {}",
            self.id, self.name, self.side, fail, self.section
        )
    }
}

impl Engine {
    pub fn possible_cpus(&self) -> usize {
        self.cpus.len()
    }

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

    pub fn state_of(&self, cpu: CpuId) -> Result<StateId, HotplugError> {
        Ok(self.percpu(cpu)?.lock().state)
    }

    pub fn status(&self, cpu: CpuId) -> Result<CpuStatus, HotplugError> {
        let p = self.percpu(cpu)?.lock();
        let (present, state, target) = (p.present, p.state, p.target);
        let (armed_fault, last_error) = (p.fault, p.last_error);
        drop(p);
        Ok(CpuStatus {
            cpu,
            present,
            state,
            state_name: self.name_of(state),
            target,
            armed_fault,
            last_error,
        })
    }

    /// Like [`Engine::status`], but `None` instead of waiting if the CPU's
    /// record is locked: for crash reports, which must never block.
    pub fn try_status(&self, cpu: CpuId) -> Option<CpuStatus> {
        let p = self.cpus.get(cpu.index())?.try_lock()?;
        let (present, state, target) = (p.present, p.state, p.target);
        let (armed_fault, last_error) = (p.fault, p.last_error);
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
            last_error,
        })
    }

    /// Every CPU's status, by CPU number.
    pub fn cpu_statuses(&self) -> Vec<CpuStatus> {
        (0..self.cpus.len() as u32)
            .filter_map(|i| self.status(CpuId(i)).ok())
            .collect()
    }

    pub fn armed_fault(&self, cpu: CpuId) -> Result<Option<StateId>, HotplugError> {
        Ok(self.percpu(cpu)?.lock().fault)
    }

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
                stoppable: !step.cant_stop,
            })
            .collect()
    }
}
