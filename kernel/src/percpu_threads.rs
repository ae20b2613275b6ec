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

#[derive(Clone)]
struct PerCpuThreads {
    worker: Arc<Thread>,
    hotplug: Option<Arc<Thread>>,
}

per_cpu! {
    static THREADS: Mutex<Option<PerCpuThreads>> = Mutex::new(None);
}

fn get(cpu: CpuId) -> Option<PerCpuThreads> {
    arch::cpu::without_interrupts(|| THREADS.get(cpu).lock().clone())
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
/// parked; a no-op if they exist.
pub fn create(cpu: CpuId) -> Result<(), SpawnError> {
    if get(cpu).is_some() {
        return Ok(());
    }
    sched::create_idle(cpu);
    let worker = sched::spawn(
        format!("kworker/{}", cpu.0),
        Some(cpu),
        workqueue::worker_body,
        cpu.index(),
    )?;
    workqueue::set_worker(cpu, worker.clone());
    let body = HOTPLUG_BODY.get().filter(|_| cpu != CpuId::BOOT);
    let hotplug = match body {
        Some(body) => Some(sched::spawn(
            format!("cpuhp/{}", cpu.0),
            Some(cpu),
            *body,
            cpu.index(),
        )?),
        None => None,
    };
    arch::cpu::without_interrupts(|| {
        *THREADS.get(cpu).lock() = Some(PerCpuThreads { worker, hotplug })
    });
    Ok(())
}

/// Starts `cpu`'s threads (`threads:online`).
pub fn unpark_all(cpu: CpuId) {
    if let Some(threads) = get(cpu) {
        workqueue::open(cpu);
        sched::unpark(&threads.worker);
        if let Some(hotplug) = &threads.hotplug {
            sched::unpark(hotplug);
        }
    }
}

/// Parks `cpu`'s worker once it has finished its current item, moves the
/// work still queued to another CPU, and asks the hotplug thread (which is
/// running this very teardown) to park when its request is done.
pub fn park_all(cpu: CpuId) -> Result<(), ParkError> {
    let Some(threads) = get(cpu) else {
        return Ok(());
    };
    sched::request_park(&threads.worker);
    sched::wake(&threads.worker);
    let deadline = Deadline::after_us(PARK_TIMEOUT_US);
    while threads.worker.state() != ThreadState::Parked {
        if deadline.expired() {
            sched::unpark(&threads.worker);
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

/// `cpu`'s hotplug thread, if it has one.
pub fn hotplug_thread(cpu: CpuId) -> Option<Arc<Thread>> {
    get(cpu).and_then(|t| t.hotplug)
}
