//! Moving a set of CPUs to one state in one operation, so that their APs
//! start in parallel (Linux 6.5's `cpuhp_bringup_mask`).
//!
//! Why: bringing APs up one at a time costs, per AP, the whole wait from
//! INIT-SIPI-SIPI until the AP is alive, most of it the AP's own start-up
//! (real mode, long mode, its tables). Here every member going up first
//! walks to the kick point, the state just below the step that starts the
//! AP (once the table splits the kick, that is the BP step that sends
//! INIT-SIPI-SIPI and returns at once), so all APs start together; only
//! then does each member walk the rest of the way, and the waits overlap.
//!
//! Owns `set_target_many`, its refusals for the set as a whole and the order
//! of its walks. Each member's walk and rollback is `walk`'s, the one
//! `set_target` runs: a member that fails is rolled back alone, to where it
//! started, and the others go on. It never runs two members' callbacks at
//! once: one control CPU, one step at a time; what overlaps is the APs'
//! own start-up between their kick and their wait.

use alloc::vec::Vec;

use crate::backend::Backend;
use crate::engine::Engine;
use crate::error::{Failure, HotplugError};
use crate::ids::{CpuId, StateId};

/// What [`Engine::set_target_many`] did to the members of its set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetOutcome {
    /// One per member that did not reach the target, in CPU order; each was
    /// rolled back to where it started (or forced offline, see
    /// [`Failure::forced_offline`]) and its failure is its last error.
    pub failures: Vec<Failure>,
    /// The members that reached the target without a failure (those
    /// already there included), in CPU order. A member forced offline on
    /// its way down is a failure, not here, even if the target was
    /// `offline`.
    pub reached: Vec<CpuId>,
}

impl SetOutcome {
    /// Whether every member reached the target.
    pub fn all_reached(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failure of `cpu`, if it was a member that failed.
    pub fn failure_of(&self, cpu: CpuId) -> Option<&Failure> {
        self.failures.iter().find(|f| f.cpu == cpu)
    }
}

/// One member of the set: which CPU and where its operation started.
#[derive(Clone, Copy)]
struct Member {
    cpu: CpuId,
    start: StateId,
}

impl Engine {
    /// Moves every CPU of `cpus` to `target` in one operation (one hold of
    /// the operation lock). Refused as a whole, with nothing moved, if the
    /// set is empty, names a CPU twice, or any member would be refused by
    /// [`Engine::set_target`]; taking every online CPU below `online`
    /// together is refused too.
    ///
    /// Members going down go first, each walked all the way on its own.
    /// Then the members going up, in two phases: each in CPU order walks to
    /// the kick point (the state just below the step that starts the AP,
    /// or the target if lower), where it rests even if no CPU may rest
    /// there alone; then each in CPU order walks the rest of the way. A
    /// member that fails, in either phase, is rolled back alone to where it
    /// started (an AP that stops answering is forced offline, as by
    /// `set_target`) and listed in the outcome; the others go on. Members
    /// already at `target` do nothing.
    pub fn set_target_many(
        &self,
        backend: &dyn Backend,
        cpus: &[CpuId],
        target: StateId,
    ) -> Result<SetOutcome, HotplugError> {
        let _op = self.op.lock();
        let members = self.check_set(cpus, target)?;
        let (down, up): (Vec<Member>, Vec<Member>) = (members.iter())
            .filter(|m| m.start != target)
            .partition(|m| target < m.start);
        for m in down.iter().chain(&up) {
            self.begin_move(m.cpu, target);
        }
        let mut failures = Vec::new();
        for m in &down {
            failures.extend(self.walk_member(backend, m.cpu, m.start, target).err());
            self.end_move(m.cpu);
        }
        let kick_point = self.table.read().kick_point().unwrap_or(target);
        let mut kicked = Vec::new();
        for m in &up {
            let to = kick_point.min(target).max(m.start);
            match self.walk_member(backend, m.cpu, m.start, to) {
                Ok(()) => kicked.push(*m),
                Err(failure) => {
                    failures.push(failure);
                    self.end_move(m.cpu);
                }
            }
        }
        for m in &kicked {
            failures.extend(self.walk_member(backend, m.cpu, m.start, target).err());
            self.end_move(m.cpu);
        }
        failures.sort_by_key(|f| f.cpu);
        let reached = (members.iter())
            .filter(|m| !failures.iter().any(|f| f.cpu == m.cpu))
            .map(|m| m.cpu)
            .collect();
        Ok(SetOutcome { failures, reached })
    }

    /// The set's refusals, which change nothing: empty, a CPU named twice,
    /// then each member's own (in CPU order, the first refusal wins), none
    /// of the members counting as staying online. Returns the members in
    /// CPU order with their current states.
    fn check_set(&self, cpus: &[CpuId], target: StateId) -> Result<Vec<Member>, HotplugError> {
        if cpus.is_empty() {
            return Err(HotplugError::EmptySet);
        }
        let mut sorted = cpus.to_vec();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(HotplugError::DuplicateCpu(pair[0]));
        }
        (sorted.iter())
            .map(|&cpu| {
                let start = self.check_target(cpu, target, &sorted)?;
                Ok(Member { cpu, start })
            })
            .collect()
    }
}
