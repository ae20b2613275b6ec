//! Each CPU's own threads: `kworker/N` (deferred work) and `cpuhp/N`, which
//! runs the CPU's hotplug steps once the CPU is up (like Linux's cpuhp/N).
//!
//! Created parked the first time a CPU is prepared and reused on every
//! later online. The boot CPU has a worker but no hotplug thread: it never
//! goes down, and its (dynamic-state) steps run inline.

use crate::sched::{self, SpawnError, Thread, ThreadBody, ThreadState};
use crate::workqueue;
use alloc::format;
use alloc::sync::Arc;
use arch::time::Deadline;
use hotplug::CpuId;
use spin::{Mutex, Once};

/// How long a per-CPU thread gets to finish its work item and park.
/// Kept well under the engine's 2 s deadline for the whole request.
const PARK_TIMEOUT_US: u64 = 500_000;

/// A CPU's threads; `None` until created (or after one was discarded,
/// until it is created again). The boot CPU never has a hotplug thread.
#[derive(Clone, Default)]
struct PerCpuThreads {
    worker: Option<Arc<Thread>>,
    hotplug: Option<Arc<Thread>>,
}

per_cpu! {
    static THREADS: Mutex<PerCpuThreads> = Mutex::new(PerCpuThreads {
        worker: None,
        hotplug: None,
    });
}

fn get(cpu: CpuId) -> PerCpuThreads {
    arch::cpu::without_interrupts(|| THREADS.get(cpu).lock().clone())
}

fn update(cpu: CpuId, f: impl FnOnce(&mut PerCpuThreads)) {
    arch::cpu::without_interrupts(|| f(&mut THREADS.get(cpu).lock()))
}

/// Why `threads:offline` could not park a CPU's threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkError {
    /// `kworker/N` was still running a work item at the deadline.
    WorkerBusy,
}

impl core::fmt::Display for ParkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParkError::WorkerBusy => write!(f, "kworker did not park in time"),
        }
    }
}

/// What `cpuhp/N` runs, registered by the hotplug transport (which owns
/// it) so that creating the threads does not depend on the hotplug code.
static HOTPLUG_BODY: Once<ThreadBody> = Once::new();

/// Registers the body of every AP's `cpuhp/N` thread; the first call wins.
pub fn set_hotplug_body(body: ThreadBody) {
    HOTPLUG_BODY.call_once(|| body);
}

/// Creates `cpu`'s idle record, worker and hotplug thread (not for the
/// boot CPU, which never goes down, nor before a body is registered), all
/// parked; each that exists is kept.
pub fn create(cpu: CpuId) -> Result<(), SpawnError> {
    sched::create_idle(cpu);
    let have = get(cpu);
    if have.worker.is_none() {
        let worker = sched::spawn(
            format!("kworker/{}", cpu.0),
            Some(cpu),
            workqueue::worker_body,
            cpu.index(),
        )?;
        workqueue::set_worker(cpu, worker.clone());
        update(cpu, |t| t.worker = Some(worker));
    }
    let body = HOTPLUG_BODY.get().filter(|_| cpu != CpuId::BOOT);
    if let (None, Some(body)) = (have.hotplug, body) {
        let hotplug = sched::spawn(format!("cpuhp/{}", cpu.0), Some(cpu), *body, cpu.index())?;
        update(cpu, |t| t.hotplug = Some(hotplug));
    }
    Ok(())
}

/// Starts `cpu`'s threads (`threads:online`).
pub fn unpark_all(cpu: CpuId) {
    let threads = get(cpu);
    if let Some(worker) = &threads.worker {
        workqueue::open(cpu);
        sched::unpark(worker);
    }
    if let Some(hotplug) = &threads.hotplug {
        sched::unpark(hotplug);
    }
}

/// Parks `cpu`'s worker once it has finished its current item, moves the
/// work still queued to another CPU, and asks the hotplug thread (which is
/// running this very teardown) to park when its request is done.
pub fn park_all(cpu: CpuId) -> Result<(), ParkError> {
    let threads = get(cpu);
    let Some(worker) = &threads.worker else {
        return Ok(());
    };
    sched::request_park(worker);
    sched::wake(worker);
    let deadline = Deadline::after_us(PARK_TIMEOUT_US);
    while worker.state() != ThreadState::Parked {
        if deadline.expired() {
            sched::unpark(worker);
            return Err(ParkError::WorkerBusy);
        }
        // The worker runs on this CPU: let it.
        sched::yield_now();
    }
    workqueue::close_and_migrate(cpu);
    if let Some(hotplug) = &threads.hotplug {
        // If it is serving this request, it parks when done; if the idle
        // thread serves it (a rollback), wake it so it reaches its park
        // point instead of sleeping unparked.
        sched::request_park(hotplug);
        sched::wake(hotplug);
    }
    Ok(())
}

/// After `cpu` died, its threads end up as a clean offline leaves them:
/// one INIT caught ready or asleep is parked where it was (a worker keeps
/// the item it was in), one cut off running (`cpuhp/N` inside the step
/// that hung) is discarded, and the next `threads:prepare` creates it
/// afresh. Returns how many were parked and discarded.
pub fn reset_cut_off(cpu: CpuId) -> (usize, usize) {
    let threads = get(cpu);
    let (mut parked, mut discarded) = (0, 0);
    if let Some(worker) = threads.worker {
        if !worker.resumable() {
            update(cpu, |t| t.worker = None);
            sched::discard(worker);
            discarded += 1;
        } else {
            parked += usize::from(sched::park_dead(&worker));
        }
    }
    if let Some(hotplug) = threads.hotplug {
        if !hotplug.resumable() {
            update(cpu, |t| t.hotplug = None);
            sched::discard(hotplug);
            discarded += 1;
        } else {
            parked += usize::from(sched::park_dead(&hotplug));
        }
    }
    (parked, discarded)
}

/// `cpu`'s hotplug thread, if it has one.
pub fn hotplug_thread(cpu: CpuId) -> Option<Arc<Thread>> {
    get(cpu).hotplug
}
