//! One entry of the hotplug table: what a step is called, who runs it, in
//! which section, its two callbacks, and its marks (whether each direction
//! may fail, whether it starts the AP, whether a CPU can rest there, and why
//! it sits where it does).
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
/// (`bring_up`) and leave it (`tear_down`), and the marks the table rules
/// and the console read. Build one with a constructor ([`Step::prepare`],
/// [`Step::starting`], [`Step::online`], [`Step::bp_online`]) and the
/// builders ([`Step::why`], [`Step::starts_ap`], [`Step::no_fail`], ...).
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The state's name, unique in the table (`cpu:kick`).
    pub name: &'static str,
    /// Which CPU runs the callbacks.
    pub side: Side,
    /// The phase of bring-up the step belongs to.
    pub section: Section,
    /// Run when a CPU enters this state going up.
    pub bring_up: Option<Callback>,
    /// Run when a CPU leaves this state going down.
    pub tear_down: Option<Callback>,
    /// Whether a `bring_up` error aborts the operation and rolls it back.
    /// Errors of a callback that may not fail are logged and ignored, as
    /// Linux WARNs.
    pub bring_up_may_fail: bool,
    /// Whether a `tear_down` error aborts the operation and rolls it forward.
    /// False for a step whose teardown leaves nothing to roll forward to,
    /// such as waiting for a parked AP.
    pub tear_down_may_fail: bool,
    /// The AP start-up step (`cpu:kick`): its bring-up starts the AP, its
    /// teardown waits until the AP has parked. Exactly one per table,
    /// directly before the first AP step.
    pub starts_ap: bool,
    /// No CPU may rest at this state (Linux's `cant_stop`): `set_target`
    /// refuses it as a target, walks only pass through it.
    pub cant_stop: bool,
    /// One line on why the step sits where it does in the table; required
    /// for built-in steps with callbacks, empty for dynamic states.
    pub why: &'static str,
}

impl Step {
    /// The first state: no callbacks, every CPU starts here.
    pub const OFFLINE: Step = Step::marker("offline", Side::Bp, Section::Prepare)
        .why("first: every CPU that is not running rests here, parked");
    /// The last state: no callbacks, the CPU is fully up.
    pub const ONLINE: Step = Step::marker("online", Side::Ap, Section::Online)
        .why("last: the CPU has passed every step and is fully up");

    /// A step without callbacks, marking a point in the sequence.
    pub const fn marker(name: &'static str, side: Side, section: Section) -> Step {
        Step::new(name, side, section, None, None).no_fail()
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
            bring_up_may_fail: true,
            tear_down_may_fail: true,
            starts_ap: false,
            cant_stop: false,
            why: "",
        }
    }

    /// The same step with the reason for its position in the table.
    pub const fn why(self, why: &'static str) -> Step {
        Step { why, ..self }
    }

    /// The same step, marked as the AP start-up step; no CPU may rest there
    /// (going up the AP is already running, going down it is parked).
    pub const fn starts_ap(self) -> Step {
        Step {
            starts_ap: true,
            cant_stop: true,
            ..self
        }
    }

    /// The same step, marked as a state no CPU may rest at.
    pub const fn cant_stop(self) -> Step {
        Step {
            cant_stop: true,
            ..self
        }
    }

    /// The same step, marked as never failing in either direction.
    pub const fn no_fail(self) -> Step {
        Step {
            bring_up_may_fail: false,
            tear_down_may_fail: false,
            ..self
        }
    }

    /// The same step, with a bring-up that never fails.
    pub const fn bring_up_no_fail(self) -> Step {
        Step {
            bring_up_may_fail: false,
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
    /// rolls back the operation. `Starting` steps never fail, whatever their
    /// flags say (the table rules reject such flags for built-in steps).
    pub const fn can_fail_in(&self, direction: Direction) -> bool {
        let may_fail = match direction {
            Direction::Up => self.bring_up_may_fail,
            Direction::Down => self.tear_down_may_fail,
        };
        may_fail && !matches!(self.section, Section::Starting)
    }

    /// Whether an armed fault could ever fire in `direction`: there is a
    /// callback to replace and its error would abort the operation.
    pub const fn fault_fires_in(&self, direction: Direction) -> bool {
        self.callback(direction).is_some() && self.can_fail_in(direction)
    }

    /// The callback run when passing this state in `direction`.
    pub const fn callback(&self, direction: Direction) -> Option<Callback> {
        match direction {
            Direction::Up => self.bring_up,
            Direction::Down => self.tear_down,
        }
    }

    /// Whether an error of this step aborts the operation in at least one
    /// direction (whether or not it has a callback there).
    pub const fn can_fail(&self) -> bool {
        self.can_fail_in(Direction::Up) || self.can_fail_in(Direction::Down)
    }

    /// Whether the step runs anything in either direction.
    pub const fn has_callbacks(&self) -> bool {
        self.bring_up.is_some() || self.tear_down.is_some()
    }
}
