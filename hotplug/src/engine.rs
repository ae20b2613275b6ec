//! The engine: the table, every CPU's hotplug state, and the lock that
//! serializes hotplug operations.
//!
//! Owns construction, presence, fault arming, the step observers and the BP
//! side of the lock-step request. The walks live in `walk` (BP) and `ap` (AP), dynamic
//! registration in `dynamic`, console queries in `query`.
//!
//! Locking: `op` is held for a whole operation (set_target, register,
//! unregister), callbacks and backend calls included, so operations never
//! interleave. A callback must therefore never start another operation. The
//! table lock and the per-CPU locks are only held for a few loads and stores,
//! never across a callback or a backend call, and never both at once.

use alloc::vec::Vec;
use core::time::Duration;

use spin::{Mutex, RwLock};

use crate::backend::{ApRequest, ApWork, Backend};
use crate::cpu_state::{ApAnswer, PerCpu};
use crate::direction::Direction;
use crate::error::{HangRefusal, HotplugError, StepError};
use crate::ids::{CpuId, StateId};
use crate::observer::{ObserverId, Observers, ObserversFull, StepObserver};
use crate::step::{Side, Step};
use crate::table::Table;

/// Tunables of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long the BP waits for an AP to answer one request (Linux: 10 s).
    pub ap_timeout: Duration,
}

impl Config {
    /// The defaults: an AP gets 10 s to answer, as in Linux.
    pub const fn new() -> Config {
        Config {
            ap_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

/// Why [`Engine::mark_absent`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbsentRefusal {
    /// The CPU number is not valid.
    Hotplug(HotplugError),
    /// The CPU is not `offline` (it sits at `state`).
    NotOffline {
        /// The CPU.
        cpu: CpuId,
        /// Where it sits.
        state: StateId,
    },
}

impl core::fmt::Display for AbsentRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AbsentRefusal::Hotplug(e) => write!(f, "{e}"),
            AbsentRefusal::NotOffline { cpu, state } => {
                write!(f, "{cpu}: not offline (at state {state})")
            }
        }
    }
}

/// The hotplug state machine.
#[derive(Debug)]
pub struct Engine {
    pub(crate) op: Mutex<()>,
    pub(crate) table: RwLock<Table>,
    pub(crate) cpus: Vec<Mutex<PerCpu>>,
    pub(crate) config: Config,
    pub(crate) observers: Observers,
}

impl Engine {
    /// An engine for CPUs `0..possible_cpus` (at least the boot CPU). The
    /// boot CPU starts present and `online`: the kernel brought it up by hand,
    /// so no callback runs for it until a dynamic state is registered. Every
    /// other CPU starts `offline` and not present.
    pub fn new(table: Table, possible_cpus: usize, config: Config) -> Engine {
        let online = table.online();
        let cpus = (0..possible_cpus.max(1))
            .map(|i| {
                let boot = i == CpuId::BOOT.index();
                let state = if boot { online } else { StateId::OFFLINE };
                Mutex::new(PerCpu::new(boot, state))
            })
            .collect();
        Engine {
            op: Mutex::new(()),
            table: RwLock::new(table),
            cpus,
            config,
            observers: Observers::new(),
        }
    }

    /// Registers `observer`, told about every callback run from now on, on
    /// either side (see [`crate::StepEvent`]). At most [`crate::MAX_OBSERVERS`]
    /// at once; the id returned removes it again.
    pub fn add_observer(
        &self,
        observer: &'static dyn StepObserver,
    ) -> Result<ObserverId, ObserversFull> {
        self.observers.add(observer)
    }

    /// Unregisters the observer added as `id`; false if it already was.
    pub fn remove_observer(&self, id: ObserverId) -> bool {
        self.observers.remove(id)
    }

    /// Marks a CPU as present (found in the firmware tables), so it may be
    /// brought up.
    pub fn mark_present(&self, cpu: CpuId) -> Result<(), HotplugError> {
        self.percpu(cpu)?.lock().present = true;
        Ok(())
    }

    /// Marks a CPU as absent (physically removed), so that no operation
    /// moves it until [`Engine::mark_present`]. Only an `offline` CPU can
    /// go: one that still runs anything must be taken down first. Takes the
    /// operation lock, so no walk of this CPU is under way while it checks.
    pub fn mark_absent(&self, cpu: CpuId) -> Result<(), AbsentRefusal> {
        let _op = self.op.lock();
        let mut percpu = self.percpu(cpu).map_err(AbsentRefusal::Hotplug)?.lock();
        if percpu.state != StateId::OFFLINE {
            return Err(AbsentRefusal::NotOffline {
                cpu,
                state: percpu.state,
            });
        }
        percpu.present = false;
        Ok(())
    }

    /// Arms a one-shot failure of `state`'s callback on `cpu`, fired by the
    /// next operation that passes `state` (never by a rollback). `None`
    /// disarms. Refused, as Linux's `fail_store` does, with
    /// [`HotplugError::CannotFail`] for a state that may fail in neither
    /// direction, and with [`HotplugError::FaultNeverFires`] when the next
    /// pass could not fire it: that pass is a bring-up if `state` is above
    /// the CPU's current state and a teardown at or below it, and it needs a
    /// callback that may fail.
    pub fn arm_fault(&self, cpu: CpuId, state: Option<StateId>) -> Result<(), HotplugError> {
        let percpu = self.percpu(cpu)?;
        let Some(state) = state else {
            percpu.lock().fault = None;
            return Ok(());
        };
        let step = self.step(state).ok_or(HotplugError::NoSuchState(state))?;
        let name = step.name;
        if !step.can_fail() || !step.has_callbacks() {
            return Err(HotplugError::CannotFail { state, name });
        }
        // One lock hold for the check and the store: the state cannot move
        // in between (an operation commits states under this lock).
        let mut percpu = percpu.lock();
        let direction = match state > percpu.state {
            true => Direction::Up,
            false => Direction::Down,
        };
        if !step.fault_fires_in(direction) {
            return Err(HotplugError::FaultNeverFires {
                cpu,
                state,
                name,
                direction,
                no_callback: step.callback(direction).is_none(),
            });
        }
        percpu.fault = Some(state);
        Ok(())
    }

    /// Arms a one-shot hang of `state`'s callback on `cpu`: the next time it
    /// runs there, in either direction and in a rollback too, the AP calls
    /// [`crate::ApEnv::hang`] instead and never answers, so the control
    /// CPU's deadline passes and it forces the CPU offline. `None` disarms.
    /// Only AP states can hang ([`HangRefusal::ControlCpuStep`] otherwise:
    /// a BP step would hang the control CPU), on an AP only
    /// ([`HangRefusal::ControlCpu`]), and only where the next pass
    /// has a callback ([`HangRefusal::NoCallback`]; the next pass is worked
    /// out as for [`Engine::arm_fault`]).
    pub fn arm_hang(&self, cpu: CpuId, state: Option<StateId>) -> Result<(), HotplugError> {
        let percpu = self.percpu(cpu)?;
        let Some(state) = state else {
            percpu.lock().hang = None;
            return Ok(());
        };
        let step = self.step(state).ok_or(HotplugError::NoSuchState(state))?;
        let refuse = |why| HotplugError::CannotHang {
            cpu,
            state,
            name: step.name,
            why,
        };
        if step.side != Side::Ap {
            return Err(refuse(HangRefusal::ControlCpuStep));
        }
        if cpu == CpuId::BOOT {
            return Err(refuse(HangRefusal::ControlCpu));
        }
        let mut percpu = percpu.lock();
        let direction = match state > percpu.state {
            true => Direction::Up,
            false => Direction::Down,
        };
        if step.callback(direction).is_none() {
            return Err(refuse(HangRefusal::NoCallback(direction)));
        }
        percpu.hang = Some(state);
        Ok(())
    }

    /// Whether `cpu` has answered request `request` (for a backend that
    /// polls rather than being told).
    pub fn ap_answered(&self, cpu: CpuId, request: u64) -> bool {
        self.cpus
            .get(cpu.index())
            .is_some_and(|p| p.lock().answer.is_some_and(|a| a.id == request))
    }

    pub(crate) fn percpu(&self, cpu: CpuId) -> Result<&Mutex<PerCpu>, HotplugError> {
        self.cpus
            .get(cpu.index())
            .ok_or(HotplugError::CpuOutOfRange(cpu))
    }

    /// A copy of the step at `id`, so no lock is held while it runs.
    pub(crate) fn step(&self, id: StateId) -> Option<Step> {
        self.table.read().get(id).copied()
    }

    pub(crate) fn name_of(&self, id: StateId) -> &'static str {
        self.step(id).map_or("?", |s| s.name)
    }

    /// Consumes the fault armed on `cpu` if it is for `state`.
    pub(crate) fn take_fault(&self, cpu: CpuId, state: StateId) -> bool {
        let Some(percpu) = self.cpus.get(cpu.index()) else {
            return false;
        };
        let mut percpu = percpu.lock();
        let hit = percpu.fault == Some(state);
        if hit {
            percpu.fault = None;
        }
        hit
    }

    /// Consumes the hang armed on `cpu` if it is for `state`.
    pub(crate) fn take_hang(&self, cpu: CpuId, state: StateId) -> bool {
        let Some(percpu) = self.cpus.get(cpu.index()) else {
            return false;
        };
        let mut percpu = percpu.lock();
        let hit = percpu.hang == Some(state);
        if hit {
            percpu.hang = None;
        }
        hit
    }

    /// Hands `work` to `cpu` and waits for its answer. On a timeout (or a
    /// backend that returns without an answer) the request is withdrawn, so
    /// whatever the AP does later is not recorded.
    pub(crate) fn request_ap(
        &self,
        backend: &dyn Backend,
        cpu: CpuId,
        work: ApWork,
    ) -> Result<ApAnswer, StepError> {
        let percpu = &self.cpus[cpu.index()];
        let request = {
            let mut p = percpu.lock();
            p.last_request_id += 1;
            let request = ApRequest {
                id: p.last_request_id,
                work,
            };
            p.request = Some(request);
            p.live = Some(request.id);
            p.answer = None;
            request
        };
        let waited = backend.run_on_ap(cpu, request, self.config.ap_timeout);
        let mut p = percpu.lock();
        if let Some(answer) = p.answer.take().filter(|a| a.id == request.id) {
            return Ok(answer);
        }
        p.request = None;
        p.live = None;
        Err(match waited {
            Err(e) => e,
            Ok(()) => StepError::Protocol("the backend returned before the AP answered"),
        })
    }
}
