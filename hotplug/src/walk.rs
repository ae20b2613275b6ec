//! The BP side of an operation: moving one CPU to a target state, and
//! rolling back when a step fails.
//!
//! Owns `set_target` and the walk of one CPU with its rollback, which `set`
//! runs for each member of a set (the refusals are `refusal`'s). BP steps run here,
//! on the calling CPU; each run of consecutive AP steps goes to the AP as
//! one request (see `ap`). It never runs an AP step itself.

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
        let start = self.check_target(cpu, target, &[cpu])?;
        if start == target {
            return Ok(());
        }
        self.begin_move(cpu, target);
        let result = self.walk_member(backend, cpu, start, target);
        self.end_move(cpu);
        result.map_err(HotplugError::StepFailed)
    }

    /// Marks `cpu` as on its way to `target` (its status shows it until
    /// the operation is done with it).
    pub(crate) fn begin_move(&self, cpu: CpuId, target: StateId) {
        self.cpus[cpu.index()].lock().target = target;
    }

    /// Ends `cpu`'s part in an operation: its target is where it sits.
    pub(crate) fn end_move(&self, cpu: CpuId) {
        let mut percpu = self.cpus[cpu.index()].lock();
        percpu.target = percpu.state;
    }

    /// Walks `cpu` from where it sits to `to`. On a failure rolls it back to
    /// `start` (where its operation began, which may differ from where this
    /// walk began), or forces it offline if its AP stopped answering, and
    /// records the failure as its last error. The caller holds the
    /// operation lock.
    pub(crate) fn walk_member(
        &self,
        backend: &dyn Backend,
        cpu: CpuId,
        start: StateId,
        to: StateId,
    ) -> Result<(), Failure> {
        let log = |event: &LogEvent| backend.log(event);
        let now = || backend.now_ns();
        let mut walk = Walk::new(self, backend, cpu, &log, &now);
        walk.run(to, false).map_err(|failed| {
            if !walk.ap_lost {
                // Logs and counts errors; reaches `start` unless the AP
                // stops answering on the way.
                let _ = walk.run(start, true);
            }
            if walk.ap_lost {
                walk.force_offline();
            }
            let settled = walk.state();
            let failure = Failure {
                cpu,
                state: failed.state,
                name: self.name_of(failed.state),
                direction: failed.direction,
                error: failed.error,
                settled,
                settled_name: self.name_of(settled),
                rollback_errors: walk.rollback_errors,
                forced_offline: walk.ap_lost,
            };
            self.cpus[cpu.index()].lock().last_error = Some(failure);
            failure
        })
    }

    /// Stops `cpu`, which missed a deadline outside `set_target` (a
    /// registration's request), and takes it to `offline` as
    /// [`Engine::set_target`] does for a lost AP. Returns how many BP
    /// teardowns failed on the way. The caller holds the operation lock.
    pub(crate) fn force_offline(&self, backend: &dyn Backend, cpu: CpuId) -> u32 {
        let log = |event: &LogEvent| backend.log(event);
        let now = || backend.now_ns();
        let mut walk = Walk::new(self, backend, cpu, &log, &now);
        walk.force_offline();
        self.end_move(cpu);
        walk.rollback_errors
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
}

/// One operation on one CPU, as seen from the BP.
struct Walk<'a> {
    engine: &'a Engine,
    backend: &'a dyn Backend,
    runner: Runner<'a>,
    /// The AP stopped answering and is (being) forced down: its steps are
    /// passed over, not run, since nothing runs on it any more.
    ap_lost: bool,
    rollback_errors: u32,
}

impl<'a> Walk<'a> {
    fn new(
        engine: &'a Engine,
        backend: &'a dyn Backend,
        cpu: CpuId,
        log: &'a dyn Fn(&LogEvent),
        now: &'a dyn Fn() -> Option<u64>,
    ) -> Walk<'a> {
        Walk {
            engine,
            backend,
            runner: Runner {
                engine,
                cpu,
                log,
                now,
            },
            ap_lost: false,
            rollback_errors: 0,
        }
    }

    /// The AP missed a deadline: stop it for good (INIT) and walk the CPU
    /// down to `offline`. Its AP steps are passed over; the BP teardowns
    /// run, in rollback mode, and they are what cleans up after the AP
    /// (moving its timers, threads and work away, as Linux's `*_dead`
    /// callbacks do on the control CPU).
    fn force_offline(&mut self) {
        self.ap_lost = true;
        if let Err(error) = self.backend.force_down(self.runner.cpu) {
            let here = self.state();
            self.runner
                .event(here, Direction::Down, LogKind::RollbackFailed(error));
            self.rollback_errors += 1;
        }
        let _ = self.run(StateId::OFFLINE, true);
    }

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

    /// Hands a run of AP steps to the AP as one request. If the AP does not
    /// answer in time it is lost: the error names the first step it did
    /// not finish, and the caller forces it offline.
    fn run_ap(&mut self, batch: &[Hop], dir: Direction, rollback: bool) -> Result<(), StepFailure> {
        let to = batch[batch.len() - 1].after;
        if self.ap_lost {
            self.set_state(to);
            return Ok(());
        }
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
                // The AP got to `reached`: name the first step past it that
                // had work to do, not a marker.
                let reached = self.state();
                let stuck = (batch.iter())
                    .filter(|h| match dir {
                        Direction::Up => h.state > reached,
                        Direction::Down => h.state <= reached,
                    })
                    .find(|h| self.has_callback(h.state, dir))
                    .map_or(batch[0].state, |h| h.state);
                self.runner.event(stuck, dir, LogKind::ForcedOffline(error));
                if rollback {
                    self.rollback_errors += 1;
                }
                Err(StepFailure {
                    state: stuck,
                    direction: dir,
                    error,
                })
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
