//! Each CPU's own threads: `kworker/N` (deferred work) and `cpuhp/N`, which
//! runs the CPU's hotplug steps once the CPU is up (like Linux's cpuhp/N).
//!
//! Created parked the first time a CPU is prepared and reused on every
//! later online. The boot CPU has a worker but no hotplug thread: it never
//! goes down, and its (dynamic-state) steps run inline.

use crate::sched::{self, Thread, ThreadState};
use crate::{cpuhp, cpus, workqueue};
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
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

static THREADS: Once<Vec<Mutex<Option<PerCpuThreads>>>> = Once::new();

fn slot(cpu: CpuId) -> &'static Mutex<Option<PerCpuThreads>> {
    &THREADS.call_once(|| (0..cpus::all().len()).map(|_| Mutex::new(None)).collect())[cpu.index()]
}

fn get(cpu: CpuId) -> Option<PerCpuThreads> {
    arch::cpu::without_interrupts(|| slot(cpu).lock().clone())
}

/// Why the threads could not be created.
#[derive(Debug)]
pub struct CreateError;

/// Creates `cpu`'s idle record, worker and hotplug thread, parked; a no-op
/// if they exist.
pub fn create(cpu: CpuId) -> Result<(), CreateError> {
    if get(cpu).is_some() {
        return Ok(());
    }
    sched::create_idle(cpu);
    let worker = sched::spawn(
        format!("kworker/{}", cpu.0),
        Some(cpu),
        workqueue::worker_body,
        cpu.index(),
    )
    .map_err(|_| CreateError)?;
    workqueue::set_worker(cpu, worker.clone());
    let hotplug = if cpu == CpuId::BOOT {
        None
    } else {
        let t = sched::spawn(
            format!("cpuhp/{}", cpu.0),
            Some(cpu),
            cpuhp::hotplug_thread_body,
            cpu.index(),
        )
        .map_err(|_| CreateError)?;
        Some(t)
    };
    arch::cpu::without_interrupts(|| *slot(cpu).lock() = Some(PerCpuThreads { worker, hotplug }));
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
pub fn park_all(cpu: CpuId) -> Result<(), &'static str> {
    let Some(threads) = get(cpu) else {
        return Ok(());
    };
    sched::request_park(&threads.worker);
    sched::wake(&threads.worker);
    let deadline = Deadline::after_us(PARK_TIMEOUT_US);
    while threads.worker.state() != ThreadState::Parked {
        if deadline.expired() {
            sched::unpark(&threads.worker);
            return Err("kworker did not park in time");
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
