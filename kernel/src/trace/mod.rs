//! The hotplug trace: every state callback, hotplug request and answer,
//! INIT, SIPI, AP alive, AP parked and forced-down, recorded per CPU for
//! `trace dump` and the host's timeline tools (`make trace`).
//!
//! Owns the per-CPU rings and whether they record. Recording never
//! allocates, never prints and never waits: each CPU writes only its own
//! ring, allocated once at boot, with interrupts off; if the console is
//! reading that ring right then, the event is dropped and counted instead.
//! It records from boot until the first prompt, so boot bring-up is always
//! in the buffer, then only between `trace on` and `trace off`.

mod buffer;
mod command;
mod event;
mod ring;

pub use command::run as command;

use arch::smp_trace::{SmpTraceEvent, SmpTraceKind};
use buffer::{record, record_now};
use event::Kind;
use hotplug::{CpuId, StepEvent};

/// Hears of every hotplug callback, on either side.
static STEP_RECORDER: fn(&StepEvent) = record_step;

/// Allocates the rings (after `cpus::init`) and starts listening to the
/// engine and to `arch`'s AP start and stop.
pub fn init() -> Result<(), hotplug::ObserversFull> {
    buffer::allocate();
    arch::smp_trace::set_trace_hook(record_smp);
    crate::cpuhp::engine()
        .add_observer(&STEP_RECORDER)
        .map(|_| ())
}

/// The console is up: boot bring-up is over, stop recording until
/// `trace on`.
pub fn boot_done() {
    buffer::set_recording(false);
}

fn record_step(event: &StepEvent) {
    let kind = Kind::Step {
        state: event.name,
        direction: event.direction,
        result: event.outcome.into(),
    };
    record(event.cpu, kind, event.start_ns, event.end_ns);
}

fn record_smp(event: SmpTraceEvent) {
    let kind = match event.kind {
        SmpTraceKind::Init => Kind::Init,
        SmpTraceKind::Sipi => Kind::Sipi,
        SmpTraceKind::Alive => Kind::Alive,
        SmpTraceKind::Parked => Kind::Parked,
    };
    record_now(CpuId(event.cpu as u32), kind);
}

/// The control CPU sends hotplug request `id` to `cpu`.
pub fn request_sent(cpu: CpuId, id: u64) {
    record_now(cpu, Kind::Request(id));
}

/// This CPU answered hotplug request `id`.
pub fn request_answered(cpu: CpuId, id: u64) {
    record_now(cpu, Kind::Answer(id));
}

/// `cpu` missed a deadline and was stopped with INIT.
pub fn forced_down(cpu: CpuId) {
    record_now(cpu, Kind::ForcedDown);
}
