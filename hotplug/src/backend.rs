//! The seam between the engine and the kernel: what the kernel implements
//! (`Backend` on the control CPU, `ApEnv` on an AP) and what it is handed
//! (requests, outcomes, log events).
//!
//! Owns only these interface types. Nothing here touches hardware; the
//! kernel's implementations do.
//!
//! How the kernel wires the lock-step protocol:
//! 1. The engine (on the BP) stores an [`ApRequest`] in the AP's per-CPU
//!    hotplug state, then calls [`Backend::run_on_ap`].
//! 2. The backend wakes the AP (IPI, mailbox, ...) and waits, with the given
//!    deadline, until the AP has returned from [`Engine::ap_run`]
//!    ([`Engine::ap_answered`] can be polled for that). On the deadline it
//!    returns `Err(StepError::Timeout)`; the engine then gives up on the
//!    request, calls [`Backend::force_down`] (INIT: the AP stops whatever it
//!    was doing) and runs the BP teardowns down to `offline`, which clean
//!    up what the AP could not (Linux's `*_dead` callbacks run on the
//!    control CPU for the same reason). If `cpu` is the calling CPU, the
//!    backend calls `ap_run` inline instead.
//! 3. On the AP, the kernel calls [`Engine::ap_run`], which runs the steps and
//!    records the answer. If it returns `ApOutcome::Answered { park: true }`
//!    the AP has torn down every AP step and must park (halt with interrupts
//!    off until the next INIT-SIPI); the BP's `cpu:kick` teardown waits for
//!    that. `Abandoned` means the BP timed out on this request: park too.
//!
//! [`Engine::ap_run`]: crate::Engine::ap_run
//! [`Engine::ap_answered`]: crate::Engine::ap_answered

use core::time::Duration;

use crate::direction::Direction;
use crate::error::StepError;
use crate::ids::{CpuId, StateId};

/// The work one request hands an AP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApWork {
    /// Run AP steps one by one from the current state to `to`. During a
    /// rollback, errors are logged and the walk goes on.
    Walk {
        /// Where the AP's walk ends.
        to: StateId,
        /// The walk undoes a failed operation: errors do not stop it.
        rollback: bool,
    },
    /// Run one callback without moving the CPU (dynamic registration).
    Single {
        /// The dynamic state whose callback runs.
        state: StateId,
        /// Which of its two callbacks.
        direction: Direction,
    },
}

/// A request to an AP. `id` tells a late answer from the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApRequest {
    /// Numbers the requests to one CPU, rising; the AP answers with it.
    pub id: u64,
    /// What the AP is to do.
    pub work: ApWork,
}

/// What [`crate::Engine::ap_run`] did, for the AP's idle loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApOutcome {
    /// The request ran and its answer is recorded. With `park`, the CPU is
    /// below every AP state and must park.
    Answered {
        /// The id of the request answered.
        request: u64,
        /// The CPU is below every AP state: park it.
        park: bool,
    },
    /// Nothing was pending: a spurious wake-up.
    NoRequest,
    /// The BP gave up on this request (deadline passed) before it finished;
    /// nothing more was recorded. The AP should park.
    Abandoned {
        /// The id of the request given up on.
        request: u64,
    },
}

/// What happened, for the kernel's log. Formats as `cpu3: timers:starting
/// bring-up failed: ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// The CPU being brought up or down.
    pub cpu: CpuId,
    /// The state whose callback the event is about.
    pub state: StateId,
    /// That state's name.
    pub name: &'static str,
    /// Bring-up or teardown.
    pub direction: Direction,
    /// What happened.
    pub kind: LogKind,
}

/// What a [`LogEvent`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// The failure that aborts the operation and starts a rollback.
    Failed(StepError),
    /// A callback failed during a rollback; the rollback went on.
    RollbackFailed(StepError),
    /// A step that may not fail returned an error; it was ignored.
    IgnoredFailure(StepError),
    /// The AP stopped answering here: the control CPU forced it down and
    /// takes it to `offline`.
    ForcedOffline(StepError),
}

impl core::fmt::Display for LogEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (cpu, name, dir) = (self.cpu, self.name, self.direction);
        match self.kind {
            LogKind::Failed(e) => write!(f, "{cpu}: {name} {dir} failed: {e}"),
            LogKind::RollbackFailed(e) => {
                write!(f, "{cpu}: {name} {dir} failed during rollback: {e}")
            }
            LogKind::IgnoredFailure(e) => {
                write!(f, "{cpu}: {name} {dir} failed (may not fail, ignored): {e}")
            }
            LogKind::ForcedOffline(e) => {
                write!(f, "{cpu}: {name} {dir} failed: {e}; forcing {cpu} offline")
            }
        }
    }
}

/// Implemented by the kernel for the control CPU.
pub trait Backend {
    /// Asks `cpu` to call [`crate::Engine::ap_run`] on itself and waits until
    /// it has returned, at most `timeout`. Returns `Err(StepError::Timeout)`
    /// on the deadline. If `cpu` is the calling CPU, run `ap_run` inline.
    fn run_on_ap(&self, cpu: CpuId, request: ApRequest, timeout: Duration)
        -> Result<(), StepError>;

    /// Stops `cpu` for good, whatever it is doing (x86: INIT), after it
    /// missed a deadline. Afterwards nothing runs there until its next
    /// start, and the engine runs the BP teardowns down to `offline` to
    /// clean up after it. `Err` if it could not be stopped.
    fn force_down(&self, cpu: CpuId) -> Result<(), StepError>;

    /// Called for each failure on the control CPU.
    fn log(&self, _event: &LogEvent) {}

    /// A monotonic clock in nanoseconds, for step timings
    /// ([`crate::StepEvent`]); the default (no clock) turns them off.
    fn now_ns(&self) -> Option<u64> {
        None
    }
}

/// Implemented by the kernel for code running on an AP inside `ap_run`.
pub trait ApEnv {
    /// Runs `f` with interrupts disabled on this CPU, restoring them after.
    /// The engine runs each stretch of consecutive `Starting`-section steps
    /// inside one call, so interrupts stay off from the first to the last.
    fn with_irqs_off(&self, f: &mut dyn FnMut());

    /// Stops answering for good, as an armed hang asks
    /// ([`crate::Engine::arm_hang`]): the CPU spins or halts with
    /// interrupts off until the control CPU forces it down.
    fn hang(&self) -> !;

    /// Called for each failure on the AP.
    fn log(&self, _event: &LogEvent) {}

    /// As [`Backend::now_ns`], on the AP.
    fn now_ns(&self) -> Option<u64> {
        None
    }
}
