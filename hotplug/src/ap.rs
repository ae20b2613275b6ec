//! The AP side of an operation: what runs on the CPU being brought up or
//! down when the BP's request arrives.
//!
//! Owns `ap_run`. It runs only AP steps, one by one, on the calling CPU,
//! commits each state as it is reached, and undoes its own steps of a request
//! that fails before answering. Every commit checks that the BP still waits
//! for this request, so an AP that answers too late changes nothing.

use crate::backend::{ApEnv, ApOutcome, ApWork, LogEvent, LogKind};
use crate::cpu_state::{ApAnswer, StepFailure};
use crate::direction::Direction;
use crate::engine::Engine;
use crate::error::StepError;
use crate::ids::{CpuId, StateId};
use crate::invoke::Runner;
use crate::step::{Section, Side};
use crate::table::Hop;

/// The BP withdrew the request: stop, record nothing.
struct Abandoned;

impl Engine {
    /// The AP's entry point: the kernel calls it ON `cpu` when the BP's
    /// request arrives (see [`crate::Backend`] for the protocol). Runs the
    /// requested steps (each stretch of `Starting` steps inside one
    /// `env.with_irqs_off` window) and records the answer for the BP.
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
        let now = || env.now_ns();
        let mut ap = ApWalk {
            runner: Runner {
                engine: self,
                cpu,
                log: &log,
                now: &now,
            },
            env,
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
    env: &'a dyn ApEnv,
    id: u64,
    rollback_errors: u32,
}

/// The step that stopped a walk, and why.
type Stop = (StateId, StepError);

impl ApWalk<'_> {
    /// Runs the AP steps from `from` to `to`. On a failure (not in rollback
    /// mode) walks back to `from` before reporting it.
    fn walk(
        &mut self,
        from: StateId,
        to: StateId,
        rollback: bool,
    ) -> Result<Result<(), StepFailure>, Abandoned> {
        let dir = direction(from, to);
        let hops = self.runner.engine.table.read().hops(from, to);
        let Err((state, error)) = self.run_hops(&hops, dir, rollback)? else {
            return Ok(Ok(()));
        };
        self.runner.event(state, dir, LogKind::Failed(error));
        let here = self.runner.engine.cpus[self.runner.cpu.index()]
            .lock()
            .state;
        let back = self.runner.engine.table.read().hops(here, from);
        let _ = self.run_hops(&back, dir.reverse(), true)?;
        Ok(Err(StepFailure {
            state,
            direction: dir,
            error,
        }))
    }

    /// Runs `hops` in order, each stretch of `Starting` steps inside one
    /// interrupts-off window (as Linux runs its STARTING section). Stops at
    /// the first failure, unless `rollback`, where failures are logged and
    /// counted and the walk goes on.
    fn run_hops(
        &mut self,
        hops: &[Hop],
        dir: Direction,
        rollback: bool,
    ) -> Result<Result<(), Stop>, Abandoned> {
        let env = self.env;
        let mut rest = hops;
        while let Some(first) = rest.first() {
            let starting = first.section == Section::Starting;
            let len = match starting {
                true => rest
                    .iter()
                    .take_while(|h| h.section == first.section)
                    .count(),
                false => 1,
            };
            let (stretch, tail) = rest.split_at(len);
            rest = tail;
            let outcome = if starting {
                let mut outcome = Ok(Ok(()));
                env.with_irqs_off(&mut || outcome = self.run_stretch(stretch, dir, rollback));
                outcome
            } else {
                self.run_stretch(stretch, dir, rollback)
            };
            if let Err(stop) = outcome? {
                return Ok(Err(stop));
            }
        }
        Ok(Ok(()))
    }

    fn run_stretch(
        &mut self,
        hops: &[Hop],
        dir: Direction,
        rollback: bool,
    ) -> Result<Result<(), Stop>, Abandoned> {
        for hop in hops {
            let result = match hop.side {
                Side::Ap => {
                    self.hang_if_armed(hop.state, dir);
                    self.runner.invoke(hop.state, dir, !rollback)
                }
                Side::Bp => Err(StepError::Protocol("a BP step in an AP request")),
            };
            match result {
                Ok(()) => {}
                Err(error) if rollback => {
                    self.runner
                        .event(hop.state, dir, LogKind::RollbackFailed(error));
                    self.rollback_errors += 1;
                }
                Err(error) => return Ok(Err((hop.state, error))),
            }
            self.commit(hop.after)?;
        }
        Ok(Ok(()))
    }

    /// One callback for a dynamic state; the CPU's state does not move.
    /// The BP logs a failure: only it knows whether this is a rollback.
    fn single(&mut self, state: StateId, direction: Direction) -> Result<(), StepFailure> {
        self.hang_if_armed(state, direction);
        (self.runner.invoke(state, direction, false)).map_err(|error| StepFailure {
            state,
            direction,
            error,
        })
    }

    /// A hang armed on `state` fires here, where its callback would run:
    /// the AP stops answering for good (`ApEnv::hang`).
    fn hang_if_armed(&self, state: StateId, direction: Direction) {
        let engine = self.runner.engine;
        let has_callback = (engine.step(state)).is_some_and(|s| s.callback(direction).is_some());
        if has_callback && engine.take_hang(self.runner.cpu, state) {
            self.env.hang();
        }
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

fn direction(from: StateId, to: StateId) -> Direction {
    if to >= from {
        Direction::Up
    } else {
        Direction::Down
    }
}
