//! The AP side of an operation: what runs on the CPU being brought up or
//! down when the BP's request arrives.
//!
//! Owns `ap_run`. It runs only AP steps, one by one, on the calling CPU,
//! commits each state as it is reached, and undoes its own steps of a request
//! that fails before answering. Every commit checks that the BP still waits
//! for this request, so an AP that answers too late changes nothing.

use crate::backend::{ApEnv, ApOutcome, ApWork, LogEvent, LogKind};
use crate::cpu_state::{ApAnswer, StepFailure};
use crate::engine::Engine;
use crate::error::{Direction, StepError};
use crate::invoke::Runner;
use crate::step::{Side, StateId};
use crate::table::Hop;
use crate::CpuId;

/// The BP withdrew the request: stop, record nothing.
struct Abandoned;

impl Engine {
    /// The AP's entry point: the kernel calls it ON `cpu` when the BP's
    /// request arrives (see [`crate::Backend`] for the protocol). Runs the
    /// requested steps, `Starting` ones through `env.with_irqs_off`, and
    /// records the answer for the BP.
    pub fn ap_run(&self, cpu: CpuId, env: &dyn ApEnv) -> ApOutcome {
        let Some(percpu) = self.cpus.get(cpu.index()) else {
            return ApOutcome::NoRequest;
        };
        let (request, from) = {
            let mut p = percpu.lock();
            match p.request.take() {
                Some(request) => (request, p.state),
                None => return ApOutcome::NoRequest,
            }
        };
        let log = |event: &LogEvent| env.log(event);
        let mut ap = ApWalk {
            runner: Runner {
                engine: self,
                cpu,
                log: &log,
                env: Some(env),
            },
            id: request.id,
            rollback_errors: 0,
        };
        let result = match request.work {
            ApWork::Walk { to, rollback } => ap.walk(from, to, rollback),
            ApWork::Single { state, direction } => Ok(ap.single(state, direction)),
        };
        let abandoned = ApOutcome::Abandoned {
            request: request.id,
        };
        let Ok(result) = result else {
            return abandoned;
        };
        let first_ap = self.table.read().first_ap();
        let mut p = percpu.lock();
        if p.live != Some(request.id) {
            return abandoned;
        }
        p.live = None;
        p.answer = Some(ApAnswer {
            id: request.id,
            result,
            rollback_errors: ap.rollback_errors,
        });
        ApOutcome::Answered {
            request: request.id,
            park: first_ap.is_some_and(|first| p.state < first),
        }
    }
}

struct ApWalk<'a> {
    runner: Runner<'a>,
    id: u64,
    rollback_errors: u32,
}

impl ApWalk<'_> {
    /// Runs the AP steps from `from` to `to`. On a failure (not in rollback
    /// mode) walks back to `from` before reporting it.
    fn walk(
        &mut self,
        from: StateId,
        to: StateId,
        rollback: bool,
    ) -> Result<Result<(), StepFailure>, Abandoned> {
        let dir = if to >= from {
            Direction::Up
        } else {
            Direction::Down
        };
        let hops = self.runner.engine.table.read().hops(from, to);
        for hop in &hops {
            let result = if hop.side == Side::Ap {
                self.runner.invoke(hop.state, dir, !rollback)
            } else {
                Err(StepError::Protocol("a BP step in an AP request"))
            };
            match result {
                Ok(()) => self.commit(hop.after)?,
                Err(error) if rollback => {
                    self.runner
                        .event(hop.state, dir, LogKind::RollbackFailed(error));
                    self.rollback_errors += 1;
                    self.commit(hop.after)?;
                }
                Err(error) => {
                    self.runner.event(hop.state, dir, LogKind::Failed(error));
                    self.undo(from)?;
                    return Ok(Err(StepFailure {
                        state: hop.state,
                        direction: dir,
                        error,
                    }));
                }
            }
        }
        Ok(Ok(()))
    }

    /// Walks back to `to` after a failure, logging and counting errors.
    fn undo(&mut self, to: StateId) -> Result<(), Abandoned> {
        let here = self.runner.engine.cpus[self.runner.cpu.index()]
            .lock()
            .state;
        let dir = if to >= here {
            Direction::Up
        } else {
            Direction::Down
        };
        let hops: alloc::vec::Vec<Hop> = self.runner.engine.table.read().hops(here, to);
        for hop in hops {
            if let Err(error) = self.runner.invoke(hop.state, dir, false) {
                self.runner
                    .event(hop.state, dir, LogKind::RollbackFailed(error));
                self.rollback_errors += 1;
            }
            self.commit(hop.after)?;
        }
        Ok(())
    }

    /// One callback for a dynamic state; the CPU's state does not move.
    /// The BP logs the failure: only it knows whether this is a rollback.
    fn single(&mut self, state: StateId, direction: Direction) -> Result<(), StepFailure> {
        (self.runner.invoke(state, direction, false)).map_err(|error| StepFailure {
            state,
            direction,
            error,
        })
    }

    fn commit(&self, state: StateId) -> Result<(), Abandoned> {
        let mut p = self.runner.engine.cpus[self.runner.cpu.index()].lock();
        if p.live != Some(self.id) {
            return Err(Abandoned);
        }
        p.state = state;
        Ok(())
    }
}
