//! Every error the hotplug engine returns or logs.
//!
//! Owns the typed vocabulary only. Text is produced by the `Display` impls,
//! which the console calls; the engine itself never formats an error.

use crate::cause::Cause;
use crate::direction::Direction;
use crate::ids::{CpuId, StateId};

/// Why one callback failed. Returned by callbacks and by the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// The callback failed for the reason given, formatted where it failed.
    Failed(Cause),
    /// An armed fault fired instead of the callback.
    Injected,
    /// The other CPU did not answer before the deadline.
    Timeout,
    /// A resource is in use; the operation may work later.
    Busy,
    /// An allocation the step needs failed.
    OutOfMemory,
    /// The BP and the AP disagree about a request: an engine or backend bug.
    Protocol(&'static str),
}

impl StepError {
    /// `Failed` with the text given (usable in `const` items).
    pub const fn failed(why: &str) -> StepError {
        StepError::Failed(Cause::new(why))
    }

    /// `Failed` with `error`'s `Display` text: how a callback passes on an
    /// arch or kernel error with its detail.
    pub fn because(error: &dyn core::fmt::Display) -> StepError {
        StepError::Failed(Cause::display(error))
    }
}

impl From<Cause> for StepError {
    fn from(cause: Cause) -> StepError {
        StepError::Failed(cause)
    }
}

impl core::fmt::Display for StepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StepError::Failed(why) => write!(f, "{why}"),
            StepError::Injected => f.write_str("injected fault"),
            StepError::Timeout => f.write_str("timed out waiting for the CPU"),
            StepError::Busy => f.write_str("busy"),
            StepError::OutOfMemory => f.write_str("out of memory"),
            StepError::Protocol(why) => write!(f, "protocol error: {why}"),
        }
    }
}

/// A failed step and what the engine did about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The CPU the operation moved.
    pub cpu: CpuId,
    /// The state whose callback failed.
    pub state: StateId,
    /// That state's name.
    pub name: &'static str,
    /// Whether the failed callback was a bring-up or a teardown.
    pub direction: Direction,
    /// Why it failed.
    pub error: StepError,
    /// Where the CPU sits now, after the rollback.
    pub settled: StateId,
    /// That state's name.
    pub settled_name: &'static str,
    /// Callbacks that failed during the rollback; each one was logged.
    pub rollback_errors: u32,
    /// The AP stopped answering, so the control CPU forced it down (INIT)
    /// and ran the BP teardowns, which clean up after it: the CPU is
    /// `offline` (`settled`), whatever the operation's start or target.
    pub forced_offline: bool,
}

impl Failure {
    /// `cpu3: threads:online teardown timed out` or `cpu3: sched:active
    /// bring-up failed: <error>`: the CPU, the step and what went wrong.
    fn what(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (cpu, name, dir) = (self.cpu, self.name, self.direction);
        match self.error {
            StepError::Timeout if self.forced_offline => write!(f, "{cpu}: {name} {dir} timed out"),
            e => write!(f, "{cpu}: {name} {dir} failed: {e}"),
        }
    }

    /// `; cpu3 forced offline`, when it was, and the rollback errors.
    fn aftermath(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.forced_offline {
            write!(f, "; {} forced offline", self.cpu)?;
        }
        if self.rollback_errors > 0 {
            write!(f, " with {} rollback errors", self.rollback_errors)?;
        }
        Ok(())
    }
}

impl core::fmt::Display for Failure {
    /// `cpu3: sched:active bring-up failed: injected fault; rolled back to
    /// offline`, or, for a CPU that stopped answering, `cpu3: threads:online
    /// teardown timed out; cpu3 forced offline`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.what(f)?;
        if !self.forced_offline {
            write!(f, "; rolled back to {}", self.settled_name)?;
        }
        self.aftermath(f)
    }
}

/// Why a hang cannot be armed (see [`HotplugError::CannotHang`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangRefusal {
    /// The step runs on the control CPU: hanging it would hang the machine.
    ControlCpuStep,
    /// The CPU is the control CPU, which runs its own (registered) states'
    /// callbacks inline: nobody would be left to force it down.
    ControlCpu,
    /// The step's next pass on the CPU is in this direction, where it has
    /// no callback to hang in.
    NoCallback(Direction),
}

/// Why a hotplug request was refused or failed. Refusals change nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HotplugError {
    /// No such CPU: the number is beyond the possible CPUs.
    CpuOutOfRange(CpuId),
    /// The CPU exists in the numbering but is not present.
    CpuNotPresent(CpuId),
    /// No state has the name given (the caller has the name).
    UnknownStateName,
    /// The index is beyond the table, or an empty dynamic slot.
    NoSuchState(StateId),
    /// The boot CPU stops running below `online`, so it must stay there.
    BootCpu(CpuId),
    /// Taking this CPU below `online` would leave no CPU online.
    LastOnlineCpu(CpuId),
    /// Taking this set of CPUs below `online` together would leave no CPU
    /// online (see `Engine::set_target_many`).
    NoCpuLeftOnline,
    /// A set operation was given no CPUs.
    EmptySet,
    /// A set operation named this CPU more than once.
    DuplicateCpu(CpuId),
    /// The CPU cannot rest at this state: it is marked [`crate::Step::cant_stop`]
    /// (the AP start-up step is: going up the AP already runs there, going
    /// down it is already parked).
    TargetNotStoppable {
        /// The target refused.
        state: StateId,
        /// Its name.
        name: &'static str,
    },
    /// A fault cannot be armed here: the step may not fail or has no callbacks.
    CannotFail {
        /// The state named in the `fail` request.
        state: StateId,
        /// Its name.
        name: &'static str,
    },
    /// A fault armed here would never fire: the next pass of `state` on
    /// `cpu` is in `direction` (a bring-up above the CPU's current state, a
    /// teardown at or below it), and there the step has no callback
    /// (`no_callback`) or one that may not fail.
    FaultNeverFires {
        /// The CPU the fault was for.
        cpu: CpuId,
        /// The state named in the `fail` request.
        state: StateId,
        /// Its name.
        name: &'static str,
        /// The direction of the next pass of `state` on `cpu`.
        direction: Direction,
        /// True if the step has no callback in `direction`; false if it has
        /// one that may not fail.
        no_callback: bool,
    },
    /// A hang cannot be armed on `state` for `cpu` (see `Engine::arm_hang`).
    CannotHang {
        /// The CPU the hang was for.
        cpu: CpuId,
        /// The state named in the `hang` request.
        state: StateId,
        /// Its name.
        name: &'static str,
        /// Why not.
        why: HangRefusal,
    },
    /// A state with this name already exists.
    DuplicateName(&'static str),
    /// Every dynamic slot is taken.
    NoFreeSlot,
    /// Only registered dynamic states can be unregistered.
    NotDynamic(StateId),
    /// A set_target operation failed and was rolled back.
    StepFailed(Failure),
    /// A registration failed on one CPU and was undone on every CPU.
    RegisterFailed(Failure),
}

impl core::fmt::Display for HotplugError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HotplugError::CpuOutOfRange(cpu) => write!(f, "{cpu}: no such CPU"),
            HotplugError::CpuNotPresent(cpu) => write!(f, "{cpu} is not present"),
            HotplugError::UnknownStateName => f.write_str("unknown state name"),
            HotplugError::NoSuchState(id) => write!(f, "state {id}: no such state"),
            HotplugError::BootCpu(cpu) => {
                write!(f, "{cpu}: the boot CPU must stay online")
            }
            HotplugError::LastOnlineCpu(cpu) => {
                write!(f, "{cpu}: refusing to offline the last online CPU")
            }
            HotplugError::NoCpuLeftOnline => {
                f.write_str("refusing to offline every online CPU at once")
            }
            HotplugError::EmptySet => f.write_str("no CPUs given"),
            HotplugError::DuplicateCpu(cpu) => write!(f, "{cpu} given more than once"),
            HotplugError::TargetNotStoppable { name, .. } => {
                write!(f, "{name}: a CPU cannot stop at this state")
            }
            HotplugError::CannotFail { name, .. } => {
                write!(f, "{name}: this state may not fail")
            }
            HotplugError::FaultNeverFires {
                cpu,
                name,
                direction,
                no_callback,
                ..
            } => {
                let why = match no_callback {
                    true => "it has no callback there",
                    false => "that callback may not fail",
                };
                write!(
                    f,
                    "{cpu}: {name}: a fault would never fire: its next pass is a {direction} and {why}"
                )
            }
            HotplugError::CannotHang { cpu, name, why, .. } => match why {
                HangRefusal::ControlCpuStep => write!(
                    f,
                    "{name}: runs on the control CPU, only AP states can hang"
                ),
                HangRefusal::ControlCpu => write!(
                    f,
                    "{cpu}: the control CPU cannot hang, nobody could force it down"
                ),
                HangRefusal::NoCallback(direction) => write!(
                    f,
                    "{cpu}: {name}: a hang would never fire: its next pass is a {direction} and it has no callback there"
                ),
            },
            HotplugError::DuplicateName(name) => write!(f, "{name}: name already used"),
            HotplugError::NoFreeSlot => f.write_str("no free dynamic slot"),
            HotplugError::NotDynamic(id) => write!(f, "state {id}: not a registered dynamic state"),
            HotplugError::StepFailed(failure) => write!(f, "{failure}"),
            HotplugError::RegisterFailed(failure) => {
                failure.what(f)?;
                f.write_str("; registration undone")?;
                match failure.forced_offline {
                    true => write!(f, "; {} forced offline", failure.cpu),
                    false => Ok(()),
                }
            }
        }
    }
}
