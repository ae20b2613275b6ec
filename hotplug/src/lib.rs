//! The CPU hotplug state machine: arch-free and host-tested.
//!
//! Owns the ordered table of hotplug steps and the algorithm that walks a CPU
//! through them, modelled on Linux's cpuhp (kernel/cpu.c). It never touches
//! hardware; the kernel supplies that through [`Backend`] (on the control
//! CPU) and [`ApEnv`] (on the CPU being moved).
//!
//! How a kernel wires it:
//! - Write the table as one `static` slice of [`Step`]s, top to bottom in
//!   bring-up order: `Step::OFFLINE`, the `Prepare` BP steps, then the BP step
//!   marked [`Step::starts_ap`] (`cpu:kick`; bring-up: INIT-SIPI and wait
//!   until the AP is alive; teardown: wait, with a deadline, until the AP has
//!   parked; a failure there rolls the operation back), then the AP steps
//!   (`Starting`, then `Online`), `Step::ONLINE` last. Give every step with
//!   callbacks a reason for its position ([`Step::why`]). Check it at
//!   compile time with [`assert_valid`] in a `const` item, and build it with
//!   [`Table::new`], reserving dynamic slots before `online`.
//! - Create one [`Engine`]; mark the APs found in the MADT present.
//! - Implement [`Backend::run_on_ap`]: wake the AP, wait for its answer with
//!   the deadline given.
//! - On the AP, when woken, call [`Engine::ap_run`]; if it says `park`, park.
//! - Benchmarks and tracing see every callback run through
//!   [`Engine::add_observer`].
//! - Drive it with [`Engine::set_target`] / [`Engine::cpu_up`] /
//!   [`Engine::cpu_down`], [`Engine::set_target_many`] (a set of CPUs in one
//!   operation: every member going up is walked to the state just below the
//!   AP start-up step before any goes further, so the APs start in
//!   parallel, as Linux's `cpuhp_bringup_mask`; a member that fails is
//!   rolled back alone), [`Engine::register`] / [`Engine::unregister`],
//!   [`Engine::arm_fault`] (a callback's own error text travels in
//!   [`StepError::Failed`]'s [`Cause`]), and the queries ([`Engine::cpu_statuses`],
//!   [`Engine::table_rows`], ...).
//!
//! ```
//! use core::time::Duration;
//! use hotplug::*;
//!
//! fn kick(_: CpuId, _: StateId) -> Result<(), StepError> {
//!     Ok(()) // INIT-SIPI-SIPI, then wait (with a deadline) until the AP is alive.
//! }
//! fn wait_parked(_: CpuId, _: StateId) -> Result<(), StepError> {
//!     Ok(()) // Wait (with a deadline) until the AP has parked, else Err(Timeout).
//! }
//! fn timer_on(_: CpuId, _: StateId) -> Result<(), StepError> { Ok(()) }
//! fn timer_off(_: CpuId, _: StateId) -> Result<(), StepError> { Ok(()) }
//!
//! // Top to bottom is bring-up order; bottom to top, teardown order.
//! static STEPS: &[Step] = &[
//!     Step::OFFLINE,
//!     Step::prepare("cpu:kick", Some(kick), Some(wait_parked))
//!         .starts_ap()
//!         .tear_down_no_fail()
//!         .why("last BP step: the AP runs from here on"),
//!     Step::starting("timers:starting", Some(timer_on), Some(timer_off))
//!         .why("first on the AP: interrupts are off"),
//!     Step::online("sched:online", None, None),
//!     Step::ONLINE,
//! ];
//! // A malformed table does not build.
//! const _: () = assert_valid(STEPS, "online", 8);
//!
//! struct Kernel<'a> {
//!     engine: &'a Engine,
//! }
//!
//! impl Backend for Kernel<'_> {
//!     fn run_on_ap(&self, cpu: CpuId, request: ApRequest, timeout: Duration)
//!         -> Result<(), StepError> {
//!         // A kernel sends the hotplug IPI to `cpu` and polls
//!         // `ap_answered(cpu, request.id)` until `timeout`. This example
//!         // plays the AP inline.
//!         let _ = timeout;
//!         ap_side(self.engine, cpu);
//!         match self.engine.ap_answered(cpu, request.id) {
//!             true => Ok(()),
//!             false => Err(StepError::Timeout),
//!         }
//!     }
//!     fn force_down(&self, _cpu: CpuId) -> Result<(), StepError> {
//!         Ok(()) // INIT: the AP missed its deadline and is stopped for good
//!     }
//!     fn log(&self, _event: &LogEvent) {} // serial_println!("{_event}")
//! }
//!
//! struct Cpu;
//! impl ApEnv for Cpu {
//!     fn with_irqs_off(&self, f: &mut dyn FnMut()) {
//!         f() // cli; f(); sti (or restore the previous IF)
//!     }
//!     fn hang(&self) -> ! {
//!         loop {} // cli; hlt for ever: an armed hang, until INIT
//!     }
//! }
//!
//! // On the AP, from the hotplug IPI handler or the idle loop:
//! fn ap_side(engine: &Engine, me: CpuId) {
//!     match engine.ap_run(me, &Cpu) {
//!         ApOutcome::Answered { park: true, .. } | ApOutcome::Abandoned { .. } => {
//!             // park: cli; hlt loop until the next INIT-SIPI
//!         }
//!         _ => {}
//!     }
//! }
//!
//! let table = Table::new(STEPS, "online", 8).unwrap();
//! let engine = Engine::new(table, 2, Config::new());
//! engine.mark_present(CpuId(1)).unwrap();
//! let kernel = Kernel { engine: &engine };
//! engine.cpu_up(&kernel, CpuId(1)).unwrap();
//! assert_eq!(engine.status(CpuId(1)).unwrap().state_name, "online");
//! engine.set_target_by_name(&kernel, CpuId(1), "timers:starting").unwrap();
//! engine.cpu_down(&kernel, CpuId(1)).unwrap();
//! // A set in one operation: every member gets to the state below
//! // cpu:kick before any goes on, so their APs start together.
//! let online = engine.online_state();
//! let outcome = engine.set_target_many(&kernel, &[CpuId(1)], online).unwrap();
//! assert!(outcome.failures.is_empty());
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod ap;
mod backend;
mod cause;
mod check;
mod cpu_state;
mod direction;
mod dynamic;
mod engine;
mod error;
mod ids;
mod invoke;
mod observer;
mod query;
mod refusal;
mod set;
mod step;
mod table;
mod table_error;
mod walk;

pub use backend::{ApEnv, ApOutcome, ApRequest, ApWork, Backend, LogEvent, LogKind};
pub use cause::Cause;
pub use check::{assert_valid, check, check_layout};
pub use cpu_state::CpuStatus;
pub use direction::Direction;
pub use engine::{AbsentRefusal, Config, Engine};
pub use error::{Failure, HangRefusal, HotplugError, StepError};
pub use ids::{CpuId, StateId};
pub use observer::{
    ObserverId, ObserversFull, StepEvent, StepObserver, StepOutcome, MAX_OBSERVERS,
};
pub use query::StateRow;
pub use set::SetOutcome;
pub use step::{Callback, Section, Side, Step};
pub use table::Table;
pub use table_error::TableError;
