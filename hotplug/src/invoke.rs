//! Runs one step's callback on the CPU this code runs on, with the rules
//! every call obeys: armed faults fire here, errors of steps that may not
//! fail are logged and dropped, and the engine's observers hear of each
//! run. (Interrupts are the AP walk's business: it runs each stretch of
//! `Starting` steps in one interrupts-off window.)
//!
//! Owns nothing but that rule set; it never moves a CPU's state.

use crate::backend::{LogEvent, LogKind};
use crate::direction::Direction;
use crate::engine::Engine;
use crate::error::StepError;
use crate::ids::{CpuId, StateId};
use crate::observer::{StepEvent, StepOutcome};

/// Calls callbacks for one CPU, on the CPU running this code.
pub(crate) struct Runner<'a> {
    pub engine: &'a Engine,
    pub cpu: CpuId,
    pub log: &'a dyn Fn(&LogEvent),
    /// The kernel's clock, if it wants step timings.
    pub now: &'a dyn Fn() -> Option<u64>,
}

impl Runner<'_> {
    /// Runs the callback of `state` for `direction`. An empty slot or a
    /// missing callback is a no-op (and consumes no fault). Returns `Err`
    /// only for a step that may fail; the caller logs it.
    pub fn invoke(
        &self,
        state: StateId,
        direction: Direction,
        fire_fault: bool,
    ) -> Result<(), StepError> {
        let Some(step) = self.engine.step(state) else {
            return Ok(());
        };
        let Some(callback) = step.callback(direction) else {
            return Ok(());
        };
        let event = |start_ns, end_ns, outcome| StepEvent {
            cpu: self.cpu,
            state,
            name: step.name,
            side: step.side,
            direction,
            start_ns,
            end_ns,
            outcome,
        };
        if fire_fault && step.can_fail_in(direction) && self.engine.take_fault(self.cpu, state) {
            let now = (self.now)().unwrap_or(0);
            let injected = event(now, now, StepOutcome::Injected);
            self.engine.observers.notify(&injected);
            return Err(StepError::Injected);
        }
        let start = (self.now)();
        let result = callback(self.cpu, state);
        let end = (self.now)();
        let may_fail = step.can_fail_in(direction);
        let outcome = match result {
            Ok(()) => StepOutcome::Done,
            Err(e) if may_fail => StepOutcome::Failed(e),
            Err(e) => StepOutcome::Ignored(e),
        };
        let ran = event(start.unwrap_or(0), end.unwrap_or(0), outcome);
        self.engine.observers.notify(&ran);
        match result {
            Err(e) if !may_fail => {
                self.event(state, direction, LogKind::IgnoredFailure(e));
                Ok(())
            }
            result => result,
        }
    }

    pub fn event(&self, state: StateId, direction: Direction, kind: LogKind) {
        (self.log)(&LogEvent {
            cpu: self.cpu,
            state,
            name: self.engine.name_of(state),
            direction,
            kind,
        });
    }
}
