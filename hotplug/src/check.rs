//! The rules a state table must obey, as `const fn`s: a kernel asserts its
//! table in a `const` item, so a malformed table does not build, and
//! [`crate::Table::new`] runs the same code at run time.
//!
//! Owns the rules (their verdicts are [`TableError`]s). It never builds a table nor keeps
//! state: every function here reads a slice of steps and answers.
//!
//! The rules: the first step is `offline` and the last `online`, both
//! without callbacks; names are non-empty and unique; sections never go
//! back (`Prepare`, `Starting`, `Online`); `Prepare` steps are BP steps;
//! `Starting` steps are AP steps that may not fail; every step with callbacks
//! says why it sits where it does; exactly one step starts the AP, directly
//! before the first AP step, and no CPU may rest there; `offline` and
//! `online` are states a CPU can rest at; the dynamic range sits just before
//! an `Online`-section step other than `offline`.

use crate::step::{Section, Side, Step};
use crate::table_error::TableError;

/// Checks every rule that concerns the steps themselves (all but the
/// dynamic range). Usable in a `const` item.
pub const fn check(steps: &[Step]) -> Result<(), TableError> {
    if steps.len() < 2 {
        return Err(TableError::TooShort);
    }
    let (first, last) = (&steps[0], &steps[steps.len() - 1]);
    if !str_eq(first.name, "offline") {
        return Err(TableError::FirstNotOffline);
    }
    if !str_eq(last.name, "online") {
        return Err(TableError::LastNotOnline);
    }
    if first.has_callbacks() {
        return Err(TableError::MarkerHasCallbacks(first.name));
    }
    if last.has_callbacks() {
        return Err(TableError::MarkerHasCallbacks(last.name));
    }
    if first.cant_stop {
        return Err(TableError::EndCantStop(first.name));
    }
    if last.cant_stop {
        return Err(TableError::EndCantStop(last.name));
    }
    let mut section = Section::Prepare;
    let mut i = 0;
    while i < steps.len() {
        let step = &steps[i];
        if step.name.is_empty() {
            return Err(TableError::EmptyName);
        }
        if position(steps, step.name) < i {
            return Err(TableError::DuplicateName(step.name));
        }
        if (step.section as u8) < (section as u8) {
            return Err(TableError::SectionOrder(step.name));
        }
        section = step.section;
        match (step.section, step.side) {
            (Section::Prepare, Side::Ap) => return Err(TableError::PrepareOnAp(step.name)),
            (Section::Starting, Side::Bp) => return Err(TableError::StartingOnBp(step.name)),
            (Section::Starting, Side::Ap) if step.bring_up_may_fail || step.tear_down_may_fail => {
                return Err(TableError::StartingMayFail(step.name))
            }
            _ => {}
        }
        if step.has_callbacks() && step.why.is_empty() {
            return Err(TableError::MissingReason(step.name));
        }
        i += 1;
    }
    check_ap_startup(steps)
}

/// Exactly one AP start-up step, cant-stop, directly before the first AP
/// step (`online` is an AP step, so there always is one).
const fn check_ap_startup(steps: &[Step]) -> Result<(), TableError> {
    let mut startup = steps.len();
    let mut first_ap = steps.len();
    let mut i = 0;
    while i < steps.len() {
        let step = &steps[i];
        if step.starts_ap {
            if startup < steps.len() {
                return Err(TableError::TwoApStartups(step.name));
            }
            startup = i;
        }
        if matches!(step.side, Side::Ap) && first_ap == steps.len() {
            first_ap = i;
        }
        i += 1;
    }
    if startup == steps.len() {
        return Err(TableError::NoApStartup);
    }
    let name = steps[startup].name;
    if startup + 1 != first_ap {
        return Err(TableError::ApStartupMisplaced(name));
    }
    if !steps[startup].cant_stop {
        return Err(TableError::ApStartupCanStop(name));
    }
    Ok(())
}

/// [`check`], then the dynamic range: `slots` slots placed just before the
/// step named `dynamic_before`. Returns that step's index.
pub const fn check_layout(
    steps: &[Step],
    dynamic_before: &str,
    slots: usize,
) -> Result<usize, TableError> {
    if let Err(error) = check(steps) {
        return Err(error);
    }
    let anchor = position(steps, dynamic_before);
    if anchor == steps.len() {
        return Err(TableError::UnknownDynamicAnchor);
    }
    if anchor == 0 || !matches!(steps[anchor].section, Section::Online) {
        return Err(TableError::DynamicAnchorNotOnline(steps[anchor].name));
    }
    if steps.len() + slots > u16::MAX as usize {
        return Err(TableError::TooManyStates);
    }
    Ok(anchor)
}

/// Panics (at compile time, in a `const` item) unless [`check_layout`]
/// accepts the table; the message names the rule and the step:
///
/// ```compile_fail
/// use hotplug::{assert_valid, Step};
/// const BAD: &[Step] = &[Step::ONLINE, Step::OFFLINE];
/// const _: () = assert_valid(BAD, "online", 0);
/// ```
pub const fn assert_valid(steps: &[Step], dynamic_before: &str, slots: usize) {
    let Err(error) = check_layout(steps, dynamic_before, slots) else {
        return;
    };
    let mut message = Message::new();
    message.push("invalid hotplug state table: ");
    if let Some(name) = error.step() {
        message.push(name);
        message.push(": ");
    }
    message.push(error.what());
    panic!("{}", message.as_str());
}

/// A fixed buffer to assemble a panic message in a `const fn`, where
/// `format!` is not available.
struct Message {
    bytes: [u8; 160],
    len: usize,
}

impl Message {
    const fn new() -> Message {
        Message {
            bytes: [0; 160],
            len: 0,
        }
    }

    /// Appends `text`, dropping what does not fit.
    const fn push(&mut self, text: &str) {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn as_str(&self) -> &str {
        let (used, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(used) {
            Ok(text) => text,
            // Cut inside a multi-byte character of a long name.
            Err(_) => "invalid hotplug state table",
        }
    }
}

/// The index of the first step named `name`, or `steps.len()`.
const fn position(steps: &[Step], name: &str) -> usize {
    let mut i = 0;
    while i < steps.len() && !str_eq(steps[i].name, name) {
        i += 1;
    }
    i
}

/// `a == b`, which `str`'s `PartialEq` cannot do in a `const fn`.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
