//! One entry of the hotplug table: what a step is called, who runs it, in
//! which section, and its two callbacks.
//!
//! Owns only the description of a step. It never runs a callback itself; the
//! engine decides when and where (see `invoke`).

use crate::direction::Direction;
use crate::error::StepError;
use crate::ids::{CpuId, StateId};

/// A step's callback. The `StateId` lets one function serve several states
/// (dynamic states registered at run time in particular).
pub type Callback = fn(CpuId, StateId) -> Result<(), StepError>;

/// Which CPU runs a step's callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The control CPU, on behalf of the CPU being brought up or down.
    Bp,
    /// The CPU being brought up or down, on itself.
    Ap,
}

impl core::fmt::Display for Side {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Side::Bp => "bp",
            Side::Ap => "ap",
        })
    }
}

/// The phase of bring-up a step belongs to, in bring-up order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// BP side, before the AP runs: allocate what the AP will need.
    Prepare,
    /// AP side with interrupts off; may not fail (Linux's STARTING section).
    Starting,
    /// Interrupts on. AP steps mostly; BP steps may be interleaved.
    Online,
}

impl core::fmt::Display for Section {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Section::Prepare => "prepare",
            Section::Starting => "starting",
            Section::Online => "online",
        })
    }
}

/// One hotplug step: a named state with the callbacks that enter it
/// (`bring_up`) and leave it (`tear_down`).
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub name: &'static str,
    pub side: Side,
    pub section: Section,
    pub bring_up: Option<Callback>,
    pub tear_down: Option<Callback>,
    /// Whether a callback error aborts the operation and rolls it back. Errors
    /// of a step that may not fail are logged and ignored, as Linux WARNs.
    pub may_fail: bool,
    /// Whether `tear_down` may fail (only consulted when `may_fail`). False
    /// for a step whose teardown leaves nothing to roll forward to, such as
    /// waiting for a parked AP: a fault armed there fires only going up.
    pub tear_down_may_fail: bool,
}

impl Step {
    /// The first state: no callbacks, every CPU starts here.
    pub const OFFLINE: Step = Step::marker("offline", Side::Bp, Section::Prepare);
    /// The last state: no callbacks, the CPU is fully up.
    pub const ONLINE: Step = Step::marker("online", Side::Ap, Section::Online);

    /// A step without callbacks, marking a point in the sequence.
    pub const fn marker(name: &'static str, side: Side, section: Section) -> Step {
        Step {
            name,
            side,
            section,
            bring_up: None,
            tear_down: None,
            may_fail: false,
            tear_down_may_fail: false,
        }
    }

    /// A BP step of the `Prepare` section; may fail.
    pub const fn prepare(
        name: &'static str,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Step {
        Step::new(name, Side::Bp, Section::Prepare, bring_up, tear_down)
    }

    /// An AP step of the `Starting` section (interrupts off); never fails.
    pub const fn starting(
        name: &'static str,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Step {
        Step::new(name, Side::Ap, Section::Starting, bring_up, tear_down).no_fail()
    }

    /// An AP step of the `Online` section; may fail.
    pub const fn online(
        name: &'static str,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Step {
        Step::new(name, Side::Ap, Section::Online, bring_up, tear_down)
    }

    /// A BP step of the `Online` section, run between AP steps; may fail.
    pub const fn bp_online(
        name: &'static str,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Step {
        Step::new(name, Side::Bp, Section::Online, bring_up, tear_down)
    }

    const fn new(
        name: &'static str,
        side: Side,
        section: Section,
        bring_up: Option<Callback>,
        tear_down: Option<Callback>,
    ) -> Step {
        Step {
            name,
            side,
            section,
            bring_up,
            tear_down,
            may_fail: true,
            tear_down_may_fail: true,
        }
    }

    /// The same step, marked as never failing.
    pub const fn no_fail(self) -> Step {
        Step {
            may_fail: false,
            ..self
        }
    }

    /// The same step, with a teardown that never fails.
    pub const fn tear_down_no_fail(self) -> Step {
        Step {
            tear_down_may_fail: false,
            ..self
        }
    }

    /// Whether an error of this step's callback in `direction` aborts and
    /// rolls back the operation (and so whether an armed fault fires).
    pub fn can_fail_in(&self, direction: Direction) -> bool {
        self.can_fail() && (direction == Direction::Up || self.tear_down_may_fail)
    }

    /// The callback run when passing this state in `direction`.
    pub fn callback(&self, direction: Direction) -> Option<Callback> {
        match direction {
            Direction::Up => self.bring_up,
            Direction::Down => self.tear_down,
        }
    }

    /// Whether an error of this step aborts and rolls back the operation
    /// (and so whether a fault may be armed on it).
    pub fn can_fail(&self) -> bool {
        self.may_fail && self.section != Section::Starting
    }

    /// Whether the step runs anything in either direction.
    pub const fn has_callbacks(&self) -> bool {
        self.bring_up.is_some() || self.tear_down.is_some()
    }
}
