//! The refusals of an operation that moves CPUs: the checks made before
//! anything moves, so that a refused request changes nothing.
//!
//! Owns `check_target`, shared by `set_target` (a set of one) and
//! `set_target_many` (each member, the whole set counted at once). It only
//! reads states; it never moves a CPU.

use crate::engine::Engine;
use crate::error::HotplugError;
use crate::ids::{CpuId, StateId};

impl Engine {
    /// The refusals, which change nothing. Returns the current state.
    /// `cpu` is one of `members`, the CPUs the operation moves to `target`
    /// together: none of them counts as staying online.
    pub(crate) fn check_target(
        &self,
        cpu: CpuId,
        target: StateId,
        members: &[CpuId],
    ) -> Result<StateId, HotplugError> {
        let (present, state) = {
            let percpu = self.percpu(cpu)?.lock();
            (percpu.present, percpu.state)
        };
        if !present {
            return Err(HotplugError::CpuNotPresent(cpu));
        }
        let (online, target_step) = {
            let table = self.table.read();
            let step = table.get(target).ok_or(HotplugError::NoSuchState(target))?;
            (table.online(), *step)
        };
        if target == state {
            return Ok(state);
        }
        if target < online && state == online {
            let others_online = (self.cpus.iter().enumerate())
                .filter(|&(i, _)| !members.iter().any(|m| m.index() == i))
                .any(|(_, p)| p.lock().state == online);
            match others_online {
                true => {}
                false if members.len() > 1 => return Err(HotplugError::NoCpuLeftOnline),
                false => return Err(HotplugError::LastOnlineCpu(cpu)),
            }
        }
        if cpu == CpuId::BOOT && target < online {
            return Err(HotplugError::BootCpu(cpu));
        }
        if target_step.cant_stop {
            return Err(HotplugError::TargetNotStoppable {
                state: target,
                name: target_step.name,
            });
        }
        Ok(state)
    }
}
