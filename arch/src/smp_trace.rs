//! The trace hook of AP start and stop: the kernel's tracer hears of each
//! INIT and SIPI sent, each AP alive and each AP parked, without `arch`
//! knowing the kernel.
//!
//! Owns only the hook slot and the event type. It never records anything
//! itself; a hook must be short, must not block and must not allocate (it
//! runs with interrupts off on a CPU in the middle of starting or parking),
//! and must be safe to run on many CPUs at once: APs started together each
//! report `Alive` from their own CPU while the kicker reports the next
//! kick's INIT and SIPI (the kernel's tracer writes only the running CPU's
//! own ring, with a `try_lock`).

use spin::Once;

/// What happened to a CPU's start or stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmpTraceKind {
    /// An INIT IPI was sent to the CPU (kick, park or force down).
    Init,
    /// A startup IPI was sent to the CPU.
    Sipi,
    /// The AP itself: it is alive in the kernel.
    Alive,
    /// The AP itself: it is about to halt for good, parked.
    Parked,
}

/// One [`SmpTraceKind`] about the CPU whose logical index is `cpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmpTraceEvent {
    /// What happened.
    pub kind: SmpTraceKind,
    /// The logical index of the CPU it happened to.
    pub cpu: usize,
}

/// Read lock-free (`Once::get` is one atomic load), like the interrupt hooks.
static HOOK: Once<fn(SmpTraceEvent)> = Once::new();

/// Routes every [`SmpTraceEvent`] to `hook`. Set once: the first call wins,
/// later ones are ignored.
pub fn set_trace_hook(hook: fn(SmpTraceEvent)) {
    HOOK.call_once(|| hook);
}

/// Tells the hook, if one is set.
pub(crate) fn emit(kind: SmpTraceKind, cpu: usize) {
    if let Some(hook) = HOOK.get() {
        hook(SmpTraceEvent { kind, cpu });
    }
}
