//! One trace event and its dump line.
//!
//! Owns the event type and the dump format, which the host tool
//! (`boot/src/trace`) parses: only ever add to it. One line per event:
//!
//! ```text
//! trace: <start_ns> <end_ns> <ran-on> <kind> <cpu> [<detail>...]
//! ```
//!
//! `<ran-on>` is the CPU that recorded the event, `<cpu>` the CPU being
//! moved (both as `cpuN`), times are `arch::time::now_ns`. Kinds and their
//! details: `step <state> <up|down> <ok|failed|ignored|injected>` (a
//! callback), `request <id>` (the control CPU sent request `id` to `cpu`),
//! `answer <id>` (`cpu` answered it), `init`, `sipi` (sent to `cpu`),
//! `alive`, `parked` (`cpu` itself), `forced-down` (`cpu` was stopped with
//! INIT after a missed deadline), `mark` (`trace mark` on the console:
//! an operation starts here). Events without a duration have
//! `start_ns == end_ns`.

use core::fmt;
use hotplug::{CpuId, Direction, StepOutcome};

/// What a callback did, as the dump writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// Returned `Ok`.
    Ok,
    /// Failed: the operation rolls back (or, in a rollback, goes on).
    Failed,
    /// Failed where it may not, logged and ignored.
    Ignored,
    /// An armed fault stood in for it.
    Injected,
}

impl From<StepOutcome> for StepResult {
    fn from(outcome: StepOutcome) -> StepResult {
        match outcome {
            StepOutcome::Done => StepResult::Ok,
            StepOutcome::Failed(_) => StepResult::Failed,
            StepOutcome::Ignored(_) => StepResult::Ignored,
            StepOutcome::Injected => StepResult::Injected,
        }
    }
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A state callback ran.
    Step {
        /// The state's name.
        state: &'static str,
        /// Bring-up or teardown.
        direction: Direction,
        /// What it did.
        result: StepResult,
    },
    /// The control CPU sent a hotplug request.
    Request(u64),
    /// The AP answered a hotplug request.
    Answer(u64),
    /// INIT sent.
    Init,
    /// SIPI sent.
    Sipi,
    /// The AP is alive in the kernel.
    Alive,
    /// The AP parks.
    Parked,
    /// The CPU was stopped with INIT after a missed deadline.
    ForcedDown,
    /// `trace mark`: an operation starts here.
    Mark,
}

/// One recorded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it began.
    pub start_ns: u64,
    /// When it ended (`start_ns` for instants).
    pub end_ns: u64,
    /// The CPU that recorded it.
    pub ran_on: CpuId,
    /// The CPU being moved.
    pub cpu: CpuId,
    /// What happened.
    pub kind: Kind,
}

impl fmt::Display for Event {
    /// The dump line, without a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Event {
            start_ns,
            end_ns,
            ran_on,
            cpu,
            kind,
        } = self;
        write!(f, "trace: {start_ns} {end_ns} {ran_on} ")?;
        match kind {
            Kind::Step {
                state,
                direction,
                result,
            } => {
                let direction = match direction {
                    Direction::Up => "up",
                    Direction::Down => "down",
                };
                let result = match result {
                    StepResult::Ok => "ok",
                    StepResult::Failed => "failed",
                    StepResult::Ignored => "ignored",
                    StepResult::Injected => "injected",
                };
                write!(f, "step {cpu} {state} {direction} {result}")
            }
            Kind::Request(id) => write!(f, "request {cpu} {id}"),
            Kind::Answer(id) => write!(f, "answer {cpu} {id}"),
            Kind::Init => write!(f, "init {cpu}"),
            Kind::Sipi => write!(f, "sipi {cpu}"),
            Kind::Alive => write!(f, "alive {cpu}"),
            Kind::Parked => write!(f, "parked {cpu}"),
            Kind::ForcedDown => write!(f, "forced-down {cpu}"),
            Kind::Mark => write!(f, "mark {cpu}"),
        }
    }
}
