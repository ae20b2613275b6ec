//! The ordered table of hotplug states: the built-in steps fixed at compile
//! time plus a reserved range of dynamic slots filled at run time.
//!
//! Owns the index space (`StateId`) and the paths a walk takes through it.
//! It never runs a callback and keeps no per-CPU state.
//!
//! The rules a table must obey live in `check` (as `const fn`s, so a kernel
//! can check its table at compile time); [`Table::new`] runs them again.

use alloc::vec;
use alloc::vec::Vec;

use crate::check::check_layout;
use crate::ids::StateId;
use crate::step::{Section, Side, Step};
use crate::table_error::TableError;

/// One state passed on a walk: whose callback runs, and where the CPU sits
/// once it has run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hop {
    pub state: StateId,
    pub side: Side,
    pub section: Section,
    pub after: StateId,
}

/// The hotplug table. Top to bottom is bring-up order.
#[derive(Debug)]
pub struct Table {
    builtin: &'static [Step],
    /// Index of the first dynamic slot in the combined numbering.
    dyn_at: usize,
    slots: Vec<Option<Step>>,
}

impl Table {
    /// Builds a table from the built-in steps with `slots` dynamic slots
    /// placed just before the step named `dynamic_before` (Linux puts
    /// CPUHP_AP_ONLINE_DYN just before `online`).
    pub fn new(
        steps: &'static [Step],
        dynamic_before: &str,
        slots: usize,
    ) -> Result<Table, TableError> {
        let dyn_at = check_layout(steps, dynamic_before, slots)?;
        Ok(Table {
            builtin: steps,
            dyn_at,
            slots: vec![None; slots],
        })
    }

    /// A table without dynamic slots.
    pub fn fixed(steps: &'static [Step]) -> Result<Table, TableError> {
        Table::new(steps, "online", 0)
    }

    /// Number of indices, empty dynamic slots included.
    pub fn state_count(&self) -> usize {
        self.builtin.len() + self.slots.len()
    }

    /// The last state.
    pub fn online(&self) -> StateId {
        StateId((self.state_count() - 1) as u16)
    }

    /// The step at `id`; `None` past the end or for an empty dynamic slot.
    pub fn get(&self, id: StateId) -> Option<&Step> {
        let i = id.index();
        if i < self.dyn_at {
            self.builtin.get(i)
        } else if i < self.dyn_at + self.slots.len() {
            self.slots[i - self.dyn_at].as_ref()
        } else {
            self.builtin.get(i - self.slots.len())
        }
    }

    /// The state named `name`, if defined.
    pub fn lookup(&self, name: &str) -> Option<StateId> {
        self.iter().find(|(_, s)| s.name == name).map(|(id, _)| id)
    }

    /// Whether `id` is in the dynamic range (empty or not).
    pub fn is_dynamic(&self, id: StateId) -> bool {
        (self.dyn_at..self.dyn_at + self.slots.len()).contains(&id.index())
    }

    /// Every defined state in bring-up order; empty slots are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (StateId, &Step)> + '_ {
        (0..self.state_count()).filter_map(|i| {
            let id = StateId(i as u16);
            self.get(id).map(|s| (id, s))
        })
    }

    /// The highest defined state below `id`.
    pub(crate) fn prev_defined(&self, id: StateId) -> Option<StateId> {
        (0..id.0)
            .rev()
            .map(StateId)
            .find(|&s| self.get(s).is_some())
    }

    /// The lowest AP state: a CPU below it has no AP work left and parks.
    pub(crate) fn first_ap(&self) -> Option<StateId> {
        self.iter()
            .find(|(_, s)| s.side == Side::Ap)
            .map(|(id, _)| id)
    }

    /// The kick point: the highest defined state below the step that starts
    /// the AP. A set operation brings every member this far before it
    /// starts any AP's wait (see `set`).
    pub(crate) fn kick_point(&self) -> Option<StateId> {
        let (starts_ap, _) = self.iter().find(|(_, s)| s.starts_ap)?;
        self.prev_defined(starts_ap)
    }

    /// The states a walk from `from` to `to` passes, in order: going up, each
    /// defined state in `(from, to]` ascending; going down, each in
    /// `(to, from]` descending.
    pub(crate) fn hops(&self, from: StateId, to: StateId) -> Vec<Hop> {
        let mut hops = Vec::new();
        if from < to {
            for (id, step) in self.iter().filter(|(id, _)| *id > from && *id <= to) {
                hops.push(Hop {
                    state: id,
                    side: step.side,
                    section: step.section,
                    after: id,
                });
            }
        } else {
            let mut cur = from;
            while cur > to {
                let step = self.get(cur);
                let below = self.prev_defined(cur).unwrap_or(StateId::OFFLINE);
                if let Some(step) = step {
                    hops.push(Hop {
                        state: cur,
                        side: step.side,
                        section: step.section,
                        after: below,
                    });
                }
                cur = below;
            }
        }
        hops
    }

    /// The lowest empty dynamic slot.
    pub(crate) fn free_slot(&self) -> Option<StateId> {
        let i = self.slots.iter().position(Option::is_none)?;
        Some(StateId((self.dyn_at + i) as u16))
    }

    /// Fills or empties a dynamic slot. `id` must be in the dynamic range.
    pub(crate) fn set_slot(&mut self, id: StateId, step: Option<Step>) {
        self.slots[id.index() - self.dyn_at] = step;
    }
}
