//! Observers of step events: code that wants to see every callback the
//! engine runs (benchmarks, tracing) registers here instead of being called
//! by the kernel's transport.
//!
//! Owns [`StepEvent`], [`StepOutcome`], the [`StepObserver`] trait and the
//! engine's fixed set of observer slots. It never allocates and never holds
//! its lock while an observer runs, so an observer may query the engine (but,
//! like a callback, must not start a hotplug operation).

use spin::RwLock;

use crate::direction::Direction;
use crate::error::StepError;
use crate::ids::{CpuId, StateId};
use crate::step::Side;

/// How many observers an engine holds at once.
pub const MAX_OBSERVERS: usize = 4;

/// What one step's callback did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// The callback returned `Ok`.
    Done,
    /// The callback failed and the operation is rolled back (or, during a
    /// rollback, the error was counted and the rollback went on).
    Failed(StepError),
    /// The callback failed but may not fail in this direction: the engine
    /// logged the error and carried on.
    Ignored(StepError),
    /// An armed fault fired: the callback did not run (`start_ns == end_ns`).
    Injected,
}

/// One callback run (or replaced by an injected fault), on either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepEvent {
    /// The CPU being brought up or down.
    pub cpu: CpuId,
    /// The state whose callback ran.
    pub state: StateId,
    /// That state's name.
    pub name: &'static str,
    /// Who ran it: the control CPU (`Bp`) or `cpu` itself (`Ap`).
    pub side: Side,
    /// Bring-up or teardown.
    pub direction: Direction,
    /// The clock ([`crate::Backend::now_ns`] or [`crate::ApEnv::now_ns`])
    /// just before the callback; 0 when the kernel gives no clock.
    pub start_ns: u64,
    /// The clock just after the callback; 0 when the kernel gives no clock.
    pub end_ns: u64,
    /// What the callback did.
    pub outcome: StepOutcome,
}

/// Code told about every [`StepEvent`]. Called on the CPU that ran the
/// callback, right after it, possibly with interrupts off (`Starting`
/// steps): keep it short and never block. Any `Fn(&StepEvent) + Sync` is one.
pub trait StepObserver: Sync {
    /// One callback has run (or was replaced by an injected fault).
    fn step_ran(&self, event: &StepEvent);
}

impl<F: Fn(&StepEvent) + Sync> StepObserver for F {
    fn step_ran(&self, event: &StepEvent) {
        self(event)
    }
}

/// [`crate::Engine::add_observer`] was refused: every slot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObserversFull;

impl core::fmt::Display for ObserversFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "all {MAX_OBSERVERS} step observer slots are taken")
    }
}

/// Names one registration, for [`crate::Engine::remove_observer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObserverId {
    slot: usize,
    /// Which registration of that slot: an id kept after its removal never
    /// removes a later observer in the same slot.
    generation: u64,
}

#[derive(Clone, Copy)]
struct Slot {
    generation: u64,
    observer: Option<&'static dyn StepObserver>,
}

type Slots = [Slot; MAX_OBSERVERS];

/// The engine's observer slots.
pub(crate) struct Observers {
    slots: RwLock<Slots>,
}

impl core::fmt::Debug for Observers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let count = self
            .slots
            .read()
            .iter()
            .filter(|s| s.observer.is_some())
            .count();
        write!(f, "Observers({count})")
    }
}

impl Observers {
    pub const fn new() -> Observers {
        let empty = Slot {
            generation: 0,
            observer: None,
        };
        Observers {
            slots: RwLock::new([empty; MAX_OBSERVERS]),
        }
    }

    pub fn add(&self, observer: &'static dyn StepObserver) -> Result<ObserverId, ObserversFull> {
        let mut slots = self.slots.write();
        let (slot, free) = (slots.iter_mut().enumerate())
            .find(|(_, s)| s.observer.is_none())
            .ok_or(ObserversFull)?;
        free.generation += 1;
        free.observer = Some(observer);
        Ok(ObserverId {
            slot,
            generation: free.generation,
        })
    }

    /// Removes the registration `id`; false if it was already removed.
    pub fn remove(&self, id: ObserverId) -> bool {
        let mut slots = self.slots.write();
        match slots.get_mut(id.slot) {
            Some(slot) if slot.generation == id.generation && slot.observer.is_some() => {
                slot.observer = None;
                true
            }
            _ => false,
        }
    }

    /// Tells every observer, from a copy of the slots: the lock is released
    /// before any observer runs.
    pub fn notify(&self, event: &StepEvent) {
        let slots: Slots = *self.slots.read();
        for observer in slots.iter().filter_map(|s| s.observer) {
            observer.step_ran(event);
        }
    }
}
