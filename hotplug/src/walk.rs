//! The BP side of an operation: moving one CPU to a target state, and
//! rolling back when a step fails.
//!
//! Owns `set_target` and its refusals. BP steps run here, on the calling CPU;
//! each run of consecutive AP steps goes to the AP as one request (see
//! `ap`). It never runs an AP step itself.

use alloc::vec::Vec;

use crate::backend::{ApWork, Backend, LogEvent, LogKind};
use crate::cpu_state::StepFailure;
use crate::direction::Direction;
use crate::engine::Engine;
use crate::error::{Failure, HotplugError};
use crate::ids::{CpuId, StateId};
use crate::invoke::Runner;
use crate::step::Side;
use crate::table::Hop;

impl Engine {
    /// Moves `cpu` to `target`, running bring-ups going up and teardowns
    /// going down. On a failure the operation is rolled back to where it
    /// started and the error names the CPU, the state and the direction.
    /// A target equal to the current state does nothing.
    pub fn set_target(
        &self,
        backend: &dyn Backend,
        cpu: CpuId,
        target: StateId,
    ) -> Result<(), HotplugError> {
        let _op = self.op.lock();
        let start = self.check_target(cpu, target)?;
        if start == target {
            return Ok(());
        }
        self.cpus[cpu.index()].lock().target = target;
        let log = |event: &LogEvent| backend.log(event);
        let now = || backend.now_ns();
        let mut walk = Walk {
            engine: self,
            backend,
            runner: Runner {
                engine: self,
                cpu,
                log: &log,
                now: &now,
            },
            ap_lost: false,
            rollback_errors: 0,
        };
        let result = walk.run(target, false).map_err(|failed| {
            // Rollback only logs and counts; it always reaches `start`.
            let _ = walk.run(start, true);
            let failure = Failure {
                cpu,
                state: failed.state,
                name: self.name_of(failed.state),
                direction: failed.direction,
                error: failed.error,
                settled: start,
                settled_name: self.name_of(start),
                rollback_errors: walk.rollback_errors,
            };
            self.cpus[cpu.index()].lock().last_error = Some(failure);
            HotplugError::StepFailed(failure)
        });
        let mut percpu = self.cpus[cpu.index()].lock();
        percpu.target = percpu.state;
        result
    }

    /// [`Engine::set_target`] with the target given by name.
    pub fn set_target_by_name(
        &self,
        backend: &dyn Backend,
        cpu: CpuId,
        name: &str,
    ) -> Result<(), HotplugError> {
        let target = self.lookup(name).ok_or(HotplugError::UnknownStateName)?;
        self.set_target(backend, cpu, target)
    }

    /// Brings `cpu` all the way to `online`.
    pub fn cpu_up(&self, backend: &dyn Backend, cpu: CpuId) -> Result<(), HotplugError> {
        let online = self.table.read().online();
        self.set_target(backend, cpu, online)
    }

    /// Takes `cpu` all the way down to `offline`.
    pub fn cpu_down(&self, backend: &dyn Backend, cpu: CpuId) -> Result<(), HotplugError> {
        self.set_target(backend, cpu, StateId::OFFLINE)
    }

    /// The refusals, which change nothing. Returns the current state.
    fn check_target(&self, cpu: CpuId, target: StateId) -> Result<StateId, HotplugError> {
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
                .any(|(i, p)| i != cpu.index() && p.lock().state == online);
            if !others_online {
                return Err(HotplugError::LastOnlineCpu(cpu));
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

/// One operation on one CPU, as seen from the BP.
struct Walk<'a> {
    engine: &'a Engine,
    backend: &'a dyn Backend,
    runner: Runner<'a>,
    /// The AP stopped answering: its later steps are skipped, not run.
    ap_lost: bool,
    rollback_errors: u32,
}

impl Walk<'_> {
    /// Walks from the CPU's current state to `to`. Normally stops at the
    /// first failure, with the CPU at the last state reached (an AP request
    /// undoes its own part first). With `rollback`, errors are counted and
    /// logged and the walk always reaches `to`.
    fn run(&mut self, to: StateId, rollback: bool) -> Result<(), StepFailure> {
        let from = self.state();
        let dir = if to >= from {
            Direction::Up
        } else {
            Direction::Down
        };
        let hops = self.engine.table.read().hops(from, to);
        let mut rest = &hops[..];
        while let Some(hop) = rest.first() {
            let batch_len = match hop.side {
                Side::Bp => 1,
                Side::Ap => rest.iter().take_while(|h| h.side == Side::Ap).count(),
            };
            let (batch, tail) = rest.split_at(batch_len);
            rest = tail;
            if hop.side == Side::Bp {
                self.run_bp(*hop, dir, rollback)?;
            } else {
                self.run_ap(batch, dir, rollback)?;
            }
        }
        Ok(())
    }

    fn run_bp(&mut self, hop: Hop, dir: Direction, rollback: bool) -> Result<(), StepFailure> {
        match self.runner.invoke(hop.state, dir, !rollback) {
            Ok(()) => {}
            Err(error) if !rollback => {
                self.runner.event(hop.state, dir, LogKind::Failed(error));
                return Err(StepFailure {
                    state: hop.state,
                    direction: dir,
                    error,
                });
            }
            Err(error) => {
                self.runner
                    .event(hop.state, dir, LogKind::RollbackFailed(error));
                self.rollback_errors += 1;
            }
        }
        self.set_state(hop.after);
        Ok(())
    }

    /// Hands a run of AP steps to the AP as one request.
    fn run_ap(&mut self, batch: &[Hop], dir: Direction, rollback: bool) -> Result<(), StepFailure> {
        let to = batch[batch.len() - 1].after;
        if self.ap_lost {
            self.skip(batch, dir);
            self.set_state(to);
            return Ok(());
        }
        let before = self.state();
        let work = ApWork::Walk { to, rollback };
        match self.engine.request_ap(self.backend, self.runner.cpu, work) {
            Ok(answer) => {
                self.rollback_errors += answer.rollback_errors;
                match answer.result {
                    Err(_) if rollback => {
                        // An AP in rollback mode does not stop; tolerate it.
                        self.rollback_errors += 1;
                        self.set_state(to);
                        Ok(())
                    }
                    result => result,
                }
            }
            Err(error) => {
                self.ap_lost = true;
                // The AP got to `reached`; what it did there is left as is.
                let reached = self.state();
                let passed = |h: &&Hop| match dir {
                    Direction::Up => h.state <= reached,
                    Direction::Down => h.state > reached,
                };
                let (done, mut undone): (Vec<Hop>, Vec<Hop>) = batch.iter().partition(passed);
                // Name the first step that had work to do, not a marker.
                undone.retain(|h| self.has_callback(h.state, dir));
                let stuck = undone.first().map_or(batch[0].state, |h| h.state);
                if rollback {
                    self.runner
                        .event(stuck, dir, LogKind::RollbackFailed(error));
                    self.rollback_errors += 1;
                    self.skip(&undone[1.min(undone.len())..], dir);
                    self.set_state(to);
                    return Ok(());
                }
                self.runner.event(stuck, dir, LogKind::Failed(error));
                let undo: Vec<Hop> = done.iter().rev().copied().collect();
                self.skip(&undo, dir.reverse());
                self.set_state(before);
                Err(StepFailure {
                    state: stuck,
                    direction: dir,
                    error,
                })
            }
        }
    }

    /// Logs and counts AP steps that cannot be run because the AP is lost.
    fn skip(&mut self, hops: &[Hop], dir: Direction) {
        for hop in hops {
            if self.has_callback(hop.state, dir) {
                self.runner.event(hop.state, dir, LogKind::Skipped);
                self.rollback_errors += 1;
            }
        }
    }

    fn has_callback(&self, state: StateId, dir: Direction) -> bool {
        (self.engine.step(state)).is_some_and(|s| s.callback(dir).is_some())
    }

    fn state(&self) -> StateId {
        self.engine.cpus[self.runner.cpu.index()].lock().state
    }

    fn set_state(&self, state: StateId) {
        self.engine.cpus[self.runner.cpu.index()].lock().state = state;
    }
}
