//! The per-CPU rings and whether they record: the recording side (never
//! allocates, never prints, never waits) and the console's reading side.

use super::event::{Event, Kind};
use super::ring::Ring;
use crate::cpus;
use crate::percpu::{current_cpu, disable_irqs};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use hotplug::CpuId;
use spin::{Mutex, Once};

/// Events the control CPU's ring holds: it records every BP-side callback
/// and every request, for every CPU (boot bring-up of 16 CPUs is ~1,500).
const CONTROL_RING_EVENTS: usize = 4096;
/// Events each other CPU's ring holds: its own AP-side callbacks and
/// answers (one online and offline is ~40).
const AP_RING_EVENTS: usize = 512;

/// On from boot until the first prompt.
static RECORDING: AtomicBool = AtomicBool::new(true);
/// One ring per possible CPU, by logical number.
static RINGS: Once<Vec<Mutex<Ring>>> = Once::new();
/// Events lost because their ring was being read, or missing.
static LOST: AtomicU64 = AtomicU64::new(0);

/// Allocates the rings, once, after `cpus::init`. A CPU whose ring does
/// not fit in the heap records nothing (its events are counted as lost).
pub fn allocate() {
    RINGS.call_once(|| {
        (0..cpus::all().len())
            .map(|cpu| {
                let capacity = if cpu == CpuId::BOOT.index() {
                    CONTROL_RING_EVENTS
                } else {
                    AP_RING_EVENTS
                };
                Mutex::new(Ring::with_capacity(capacity).unwrap_or_else(|| {
                    Ring::with_capacity(0).expect("an empty ring allocates nothing")
                }))
            })
            .collect()
    });
}

/// Records `kind` about `cpu` on the running CPU's ring.
pub fn record(cpu: CpuId, kind: Kind, start_ns: u64, end_ns: u64) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let Some(rings) = RINGS.get() else {
        return;
    };
    push(
        |ran_on| rings.get(ran_on.index()),
        cpu,
        kind,
        start_ns,
        end_ns,
    );
}

/// The recording path proper, shared with [`cost_ns`]: interrupts off,
/// the running CPU's ring tried (never waited for), one copy.
fn push<'a>(
    ring_of: impl FnOnce(CpuId) -> Option<&'a Mutex<Ring>>,
    cpu: CpuId,
    kind: Kind,
    start_ns: u64,
    end_ns: u64,
) {
    let guard = disable_irqs();
    let ran_on = current_cpu(&guard);
    let event = Event {
        start_ns,
        end_ns,
        ran_on,
        cpu,
        kind,
    };
    match ring_of(ran_on).map(|ring| ring.try_lock()) {
        Some(Some(mut ring)) => ring.push(event),
        _ => {
            LOST.fetch_add(1, Ordering::Relaxed);
        }
    }
    drop(guard);
}

/// What one recorded event costs, in ns: `n` events pushed through the
/// recording path into a scratch ring of the control CPU's size (so the
/// trace itself is untouched), timestamps taken as `record_now` takes
/// them. `None` if the scratch ring does not fit in the heap.
pub fn cost_ns(n: u32) -> Option<u64> {
    let scratch = Mutex::new(Ring::with_capacity(CONTROL_RING_EVENTS)?);
    let start = arch::time::now_ns();
    for _ in 0..n {
        let now = arch::time::now_ns();
        push(|_| Some(&scratch), CpuId::BOOT, Kind::Mark, now, now);
    }
    Some((arch::time::now_ns() - start) / u64::from(n.max(1)))
}

/// Records an instant event, now.
pub fn record_now(cpu: CpuId, kind: Kind) {
    if RECORDING.load(Ordering::Relaxed) {
        let now = arch::time::now_ns();
        record(cpu, kind, now, now);
    }
}

/// Whether events are being recorded.
pub fn recording() -> bool {
    RECORDING.load(Ordering::Acquire)
}

/// Starts or stops recording.
pub fn set_recording(on: bool) {
    RECORDING.store(on, Ordering::Release);
}

fn rings() -> &'static [Mutex<Ring>] {
    RINGS.get().map(Vec::as_slice).unwrap_or(&[])
}

/// How often the console tries a ring its CPU is writing. A writer holds
/// it for one copy, so a few tries always win, unless that CPU was
/// stopped with INIT in the middle of a write, which would leave it held
/// for ever: then the console gives up on that ring instead of hanging.
const READ_TRIES: u32 = 10_000;

/// Runs `f` on `ring`, or `None` if it stays held (see [`READ_TRIES`]).
fn with_ring<R>(ring: &Mutex<Ring>, f: impl FnOnce(&mut Ring) -> R) -> Option<R> {
    arch::cpu::without_interrupts(|| {
        for _ in 0..READ_TRIES {
            if let Some(mut ring) = ring.try_lock() {
                return Some(f(&mut ring));
            }
            core::hint::spin_loop();
        }
        None
    })
}

/// What the console read of the rings.
pub struct Counts {
    /// Events held.
    pub held: usize,
    /// Events pushed out of full rings, or lost while a ring was read.
    pub dropped: u64,
    /// CPUs whose ring could not be read (held by a stopped CPU).
    pub unreadable: Vec<CpuId>,
}

/// Events held and events dropped over every ring.
pub fn counts() -> Counts {
    let mut counts = Counts {
        held: 0,
        dropped: LOST.load(Ordering::Relaxed),
        unreadable: Vec::new(),
    };
    for (cpu, ring) in rings().iter().enumerate() {
        match with_ring(ring, |ring| (ring.len(), ring.dropped())) {
            Some((held, dropped)) => {
                counts.held += held;
                counts.dropped += dropped;
            }
            None => counts.unreadable.push(CpuId(cpu as u32)),
        }
    }
    counts
}

/// Empties every ring (but one held by a stopped CPU).
pub fn clear() {
    for ring in rings() {
        with_ring(ring, Ring::clear);
    }
    LOST.store(0, Ordering::Relaxed);
}

/// Every held event, copied out, in time order (ties: by CPU).
pub fn snapshot() -> Vec<Event> {
    let mut events = Vec::new();
    for ring in rings() {
        let copy: Vec<Event> =
            with_ring(ring, |ring| ring.iter().copied().collect()).unwrap_or_default();
        events.extend(copy);
    }
    events.sort_by_key(|e| (e.start_ns, e.ran_on.0));
    events
}
