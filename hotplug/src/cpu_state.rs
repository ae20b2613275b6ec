//! The hotplug state of one CPU: where it is, where it is going, its armed
//! fault, its last error, and the mailbox of the BP/AP lock-step protocol.
//!
//! Owns the per-CPU record and its snapshot for the console. Each record sits
//! behind its own short-held lock; nobody holds it across a callback or a
//! backend call, so callbacks may query it.

use crate::backend::ApRequest;
use crate::direction::Direction;
use crate::error::{Failure, StepError};
use crate::ids::{CpuId, StateId};

/// A failed step as the AP reports it; the BP adds names and the rollback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepFailure {
    pub state: StateId,
    pub direction: Direction,
    pub error: StepError,
}

/// The AP's answer to one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApAnswer {
    pub id: u64,
    /// The failure that ended the request; the AP has already undone its own
    /// steps of this request.
    pub result: Result<(), StepFailure>,
    /// Callbacks that failed while the AP undid its steps.
    pub rollback_errors: u32,
}

#[derive(Debug)]
pub(crate) struct PerCpu {
    pub present: bool,
    pub state: StateId,
    pub target: StateId,
    pub fault: Option<StateId>,
    /// The state whose callback stops answering the next time it runs here.
    pub hang: Option<StateId>,
    pub last_error: Option<Failure>,
    /// Written by the BP, taken by the AP.
    pub request: Option<ApRequest>,
    /// The request the AP may still act on. The BP clears it when it gives
    /// up, so a late AP records nothing.
    pub live: Option<u64>,
    /// Written by the AP, taken by the BP.
    pub answer: Option<ApAnswer>,
    pub last_request_id: u64,
}

impl PerCpu {
    pub fn new(present: bool, state: StateId) -> PerCpu {
        PerCpu {
            present,
            state,
            target: state,
            fault: None,
            hang: None,
            last_error: None,
            request: None,
            live: None,
            answer: None,
            last_request_id: 0,
        }
    }
}

/// A snapshot of one CPU's hotplug state, for the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuStatus {
    /// The CPU this is about.
    pub cpu: CpuId,
    /// Found in the firmware tables, so it may be brought up.
    pub present: bool,
    /// Where the CPU sits in the table.
    pub state: StateId,
    /// That state's name.
    pub state_name: &'static str,
    /// Equal to `state` except during an operation.
    pub target: StateId,
    /// The state whose next pass on this CPU fails (see `Engine::arm_fault`).
    pub armed_fault: Option<StateId>,
    /// The state whose callback hangs the next time it runs on this CPU
    /// (see `Engine::arm_hang`).
    pub armed_hang: Option<StateId>,
    /// The last failed operation on this CPU, kept until the next failure.
    pub last_error: Option<Failure>,
}
