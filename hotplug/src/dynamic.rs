//! Run-time registration of AP `Online` states into the table's dynamic
//! range (Linux's CPUHP_AP_ONLINE_DYN).
//!
//! Owns `register` and `unregister`. Both hold the hotplug lock, so they
//! never race an online/offline, and run the new state's callback on every
//! CPU already past its slot, on that CPU, through the backend request.

use alloc::vec::Vec;

use crate::backend::{ApWork, Backend, LogEvent, LogKind};
use crate::direction::Direction;
use crate::engine::Engine;
use crate::error::{Failure, HotplugError, StepError};
use crate::ids::{CpuId, StateId};
use crate::step::{Callback, Step};

impl Engine {
    /// Registers an AP `Online` state in the lowest free dynamic slot and
    /// runs its `bring_up` at once on every present CPU past the slot. If
    /// that fails on one CPU, the CPUs already done are torn down again, the
    /// slot is freed and the error names the CPU.
    pub fn register(
        &self,
        backend: &dyn Backend,
        name: &'static str,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Result<StateId, HotplugError> {
        let _op = self.op.lock();
        let slot = {
            let mut table = self.table.write();
            if table.lookup(name).is_some() {
                return Err(HotplugError::DuplicateName(name));
            }
            let slot = table.free_slot().ok_or(HotplugError::NoFreeSlot)?;
            table.set_slot(slot, Some(Step::online(name, bring_up, tear_down)));
            slot
        };
        if bring_up.is_none() {
            return Ok(slot);
        }
        let mut done = Vec::new();
        for cpu in self.cpus_from(StateId(slot.0 + 1)) {
            let Err(failed) = self.call_on(backend, cpu, slot, Direction::Up, false) else {
                done.push(cpu);
                continue;
            };
            let mut rollback_errors = failed.forced_errors;
            for &c in done.iter().rev() {
                if let Err(undo) = self.call_on(backend, c, slot, Direction::Down, true) {
                    rollback_errors += 1 + undo.forced_errors;
                }
            }
            self.table.write().set_slot(slot, None);
            let mut percpu = self.cpus[cpu.index()].lock();
            let failure = Failure {
                cpu,
                state: slot,
                name,
                direction: Direction::Up,
                error: failed.error,
                settled: percpu.state,
                settled_name: self.name_of(percpu.state),
                rollback_errors,
                forced_offline: failed.forced,
            };
            percpu.last_error = Some(failure);
            return Err(HotplugError::RegisterFailed(failure));
        }
        Ok(slot)
    }

    /// Runs the `tear_down` of dynamic state `id` on every present CPU at or
    /// past it, then frees the slot. Teardown errors are logged and ignored
    /// (the state goes away regardless). A CPU resting at `id` ends up at the
    /// state below it; a fault armed on `id` is disarmed.
    pub fn unregister(&self, backend: &dyn Backend, id: StateId) -> Result<(), HotplugError> {
        let _op = self.op.lock();
        let (step, below) = {
            let table = self.table.read();
            match table.get(id) {
                Some(step) if table.is_dynamic(id) => {
                    (*step, table.prev_defined(id).unwrap_or(StateId::OFFLINE))
                }
                _ => return Err(HotplugError::NotDynamic(id)),
            }
        };
        if step.tear_down.is_some() {
            for cpu in self.cpus_from(id) {
                // Logged; a CPU that stops answering is forced offline.
                let _ = self.call_on(backend, cpu, id, Direction::Down, false);
            }
        }
        for percpu in &self.cpus {
            let mut p = percpu.lock();
            if p.state == id {
                p.state = below;
                p.target = below;
            }
            if p.fault == Some(id) {
                p.fault = None;
            }
        }
        self.table.write().set_slot(id, None);
        Ok(())
    }

    /// Present CPUs whose state is `from` or higher.
    fn cpus_from(&self, from: StateId) -> Vec<CpuId> {
        (self.cpus.iter().enumerate())
            .filter(|(_, p)| {
                let p = p.lock();
                p.present && p.state >= from
            })
            .map(|(i, _)| CpuId(i as u32))
            .collect()
    }

    /// Runs one callback of `state` on `cpu` and logs a failure. A CPU that
    /// does not answer in time is forced offline (as in `set_target`).
    fn call_on(
        &self,
        backend: &dyn Backend,
        cpu: CpuId,
        state: StateId,
        direction: Direction,
        rollback: bool,
    ) -> Result<(), CallFailed> {
        let work = ApWork::Single { state, direction };
        let (error, lost) = match self.request_ap(backend, cpu, work) {
            Ok(answer) => match answer.result {
                Ok(()) => return Ok(()),
                Err(failed) => (failed.error, false),
            },
            Err(error) => (error, true),
        };
        let kind = match (lost, rollback) {
            (true, _) => LogKind::ForcedOffline(error),
            (false, true) => LogKind::RollbackFailed(error),
            (false, false) => LogKind::Failed(error),
        };
        backend.log(&LogEvent {
            cpu,
            state,
            name: self.name_of(state),
            direction,
            kind,
        });
        let forced_errors = match lost {
            true => self.force_offline(backend, cpu),
            false => 0,
        };
        Err(CallFailed {
            error,
            forced: lost,
            forced_errors,
        })
    }
}

/// A dynamic state's callback that failed on one CPU.
struct CallFailed {
    error: StepError,
    /// The CPU stopped answering and was forced offline.
    forced: bool,
    /// BP teardowns that failed while it was.
    forced_errors: u32,
}
