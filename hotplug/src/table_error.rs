//! Why a state table was rejected: one variant per rule in `check`.
//!
//! Owns only the vocabulary and its text (usable in `const fn`s, so the
//! compile-time check can name the rule); it checks nothing itself.

/// Why a table was rejected. The `&'static str` is the offending step's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// A table needs at least `offline` and `online`.
    TooShort,
    /// The first step must be named `offline`.
    FirstNotOffline,
    /// The last step must be named `online`.
    LastNotOnline,
    /// `offline` and `online` mark the ends and run nothing.
    MarkerHasCallbacks(&'static str),
    /// Every step needs a name: the console and the log use it.
    EmptyName,
    /// Two steps share a name, so the console could not tell them apart.
    DuplicateName(&'static str),
    /// This step's section comes before the previous step's.
    SectionOrder(&'static str),
    /// `Prepare` steps run before the AP does, so they are BP steps.
    PrepareOnAp(&'static str),
    /// `Starting` steps run on the AP with interrupts off.
    StartingOnBp(&'static str),
    /// `Starting` steps may not fail.
    StartingMayFail(&'static str),
    /// The dynamic range is placed before a step that does not exist.
    UnknownDynamicAnchor,
    /// Dynamic states are AP `Online` steps: the range must sit right before
    /// an `Online`-section step other than `offline`.
    DynamicAnchorNotOnline(&'static str),
    /// More states than a `StateId` can number.
    TooManyStates,
    /// No step is marked [`crate::Step::starts_ap`]: nothing would start the AP.
    NoApStartup,
    /// A second step is marked [`crate::Step::starts_ap`].
    TwoApStartups(&'static str),
    /// The AP start-up step must sit directly before the first AP step: the
    /// AP runs from there on, and parks once it is below it.
    ApStartupMisplaced(&'static str),
    /// The AP start-up step must be marked [`crate::Step::cant_stop`]: going up the
    /// AP already runs there, going down it is already parked.
    ApStartupCanStop(&'static str),
    /// `offline` and `online` are where CPUs rest: they cannot be `cant_stop`.
    EndCantStop(&'static str),
    /// A built-in step with callbacks needs a reason for its position
    /// ([`crate::Step::why`]).
    MissingReason(&'static str),
}

impl TableError {
    /// What is wrong, without the step's name (see [`TableError::step`]).
    pub const fn what(&self) -> &'static str {
        match self {
            TableError::TooShort => "a table needs offline and online",
            TableError::FirstNotOffline => "the first state must be offline",
            TableError::LastNotOnline => "the last state must be online",
            TableError::MarkerHasCallbacks(_) => "must have no callbacks",
            TableError::EmptyName => "a state has an empty name",
            TableError::DuplicateName(_) => "duplicate name",
            TableError::SectionOrder(_) => "section out of order",
            TableError::PrepareOnAp(_) => "prepare steps run on the bp",
            TableError::StartingOnBp(_) => "starting steps run on the ap",
            TableError::StartingMayFail(_) => "starting steps may not fail",
            TableError::UnknownDynamicAnchor => "dynamic range anchor not found",
            TableError::DynamicAnchorNotOnline(_) => {
                "dynamic range must precede an online-section step"
            }
            TableError::TooManyStates => "too many states",
            TableError::NoApStartup => "no step is marked as the AP start-up step",
            TableError::TwoApStartups(_) => "a second AP start-up step",
            TableError::ApStartupMisplaced(_) => {
                "the AP start-up step must directly precede the first AP step"
            }
            TableError::ApStartupCanStop(_) => "the AP start-up step must be cant-stop",
            TableError::EndCantStop(_) => "offline and online must be states a CPU can rest at",
            TableError::MissingReason(_) => "a step with callbacks needs a reason (why)",
        }
    }

    /// The step the error is about, if it names one.
    pub const fn step(&self) -> Option<&'static str> {
        match *self {
            TableError::MarkerHasCallbacks(n)
            | TableError::DuplicateName(n)
            | TableError::SectionOrder(n)
            | TableError::PrepareOnAp(n)
            | TableError::StartingOnBp(n)
            | TableError::StartingMayFail(n)
            | TableError::DynamicAnchorNotOnline(n)
            | TableError::TwoApStartups(n)
            | TableError::ApStartupMisplaced(n)
            | TableError::ApStartupCanStop(n)
            | TableError::EndCantStop(n)
            | TableError::MissingReason(n) => Some(n),
            TableError::TooShort
            | TableError::FirstNotOffline
            | TableError::LastNotOnline
            | TableError::EmptyName
            | TableError::UnknownDynamicAnchor
            | TableError::TooManyStates
            | TableError::NoApStartup => None,
        }
    }
}

impl core::fmt::Display for TableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.step() {
            Some(name) => write!(f, "{name}: {}", self.what()),
            None => f.write_str(self.what()),
        }
    }
}
