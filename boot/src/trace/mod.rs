//! The kernel's hotplug trace on the host: `trace dump` lines parsed into
//! events ([`dump`]) and written as a Chrome Trace Event file ([`chrome`])
//! that ui.perfetto.dev and chrome://tracing open.
//!
//! Owns the host's copy of the dump format (the kernel's is
//! `kernel/src/trace/event.rs`; the two must agree, and the round-trip
//! test keeps this side honest). It never talks to a guest: `bin/trace.rs`
//! does that.

pub mod chrome;
pub mod dump;
pub mod panels;
#[cfg(test)]
mod sample;
pub mod scenario;
pub mod svg;

use std::fmt;

/// Bring-up or teardown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `up`.
    Up,
    /// `down`.
    Down,
}

impl Direction {
    /// The dump's word.
    pub fn word(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// What a callback did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// `ok`.
    Ok,
    /// `failed`: the operation rolls back (or, in a rollback, goes on).
    Failed,
    /// `ignored`: failed where it may not, logged and ignored.
    Ignored,
    /// `injected`: an armed fault stood in for the callback.
    Injected,
}

impl StepResult {
    /// The dump's word.
    pub fn word(self) -> &'static str {
        match self {
            StepResult::Ok => "ok",
            StepResult::Failed => "failed",
            StepResult::Ignored => "ignored",
            StepResult::Injected => "injected",
        }
    }
}

/// What an event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A state callback ran.
    Step {
        /// The state's name.
        state: String,
        /// Bring-up or teardown.
        direction: Direction,
        /// What it did.
        result: StepResult,
    },
    /// The control CPU sent hotplug request `id`.
    Request(u64),
    /// The AP answered hotplug request `id`.
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

impl Kind {
    /// The dump's word for the kind.
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Step { .. } => "step",
            Kind::Request(_) => "request",
            Kind::Answer(_) => "answer",
            Kind::Init => "init",
            Kind::Sipi => "sipi",
            Kind::Alive => "alive",
            Kind::Parked => "parked",
            Kind::ForcedDown => "forced-down",
            Kind::Mark => "mark",
        }
    }
}

/// One event of the dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it began, in guest nanoseconds.
    pub start_ns: u64,
    /// When it ended (`start_ns` for instants).
    pub end_ns: u64,
    /// The CPU that recorded it (ran the callback, sent the IPI).
    pub ran_on: u32,
    /// The CPU being moved.
    pub cpu: u32,
    /// What happened.
    pub kind: Kind,
}

impl fmt::Display for Event {
    /// The dump line, exactly as the kernel prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Event {
            start_ns,
            end_ns,
            ran_on,
            cpu,
            kind,
        } = self;
        write!(
            f,
            "trace: {start_ns} {end_ns} cpu{ran_on} {} cpu{cpu}",
            kind.word()
        )?;
        match kind {
            Kind::Step {
                state,
                direction,
                result,
            } => write!(f, " {state} {} {}", direction.word(), result.word()),
            Kind::Request(id) | Kind::Answer(id) => write!(f, " {id}"),
            _ => Ok(()),
        }
    }
}
