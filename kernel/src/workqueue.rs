//! Deferred work: one queue and one worker thread (`kworker/N`) per CPU,
//! like Linux's ksoftirqd/kworker.
//!
//! A closed queue (its worker parked for hotplug) takes nothing: new items
//! go to an open CPU, and the items left when it closed are moved there,
//! so no work item is lost to an offline CPU. The ordering rules live in
//! `queues::WorkQueue`; this module adds the per-CPU locks and wake-ups.

use crate::cpus;
use crate::sched::{self, Thread};
use alloc::sync::Arc;
use hotplug::CpuId;
use queues::WorkQueue;
use spin::Mutex;

/// A unit of deferred work.
pub type WorkFn = fn(usize);

struct CpuWork {
    queue: WorkQueue<(WorkFn, usize)>,
    worker: Option<Arc<Thread>>,
}

/// Reserved per queue so that steady-state queueing never grows the heap.
const QUEUE_CAPACITY: usize = 256;

per_cpu! {
    static QUEUES: Mutex<CpuWork> = Mutex::new(CpuWork {
        queue: WorkQueue::new(),
        worker: None,
    });
}

fn with_queue<R>(cpu: CpuId, f: impl FnOnce(&mut CpuWork) -> R) -> R {
    arch::cpu::without_interrupts(|| f(&mut QUEUES.get(cpu).lock()))
}

/// Records `cpu`'s worker thread and reserves its queue.
pub fn set_worker(cpu: CpuId, worker: Arc<Thread>) {
    with_queue(cpu, |q| {
        q.queue.reserve(QUEUE_CAPACITY);
        q.worker = Some(worker);
    });
}

/// Opens `cpu`'s queue (its worker runs).
pub fn open(cpu: CpuId) {
    with_queue(cpu, |q| q.queue.open());
}

fn first_open(except: CpuId) -> CpuId {
    queues::first_other(cpus::all().len(), except, |c| {
        with_queue(c, |q| q.queue.is_open())
    })
    .unwrap_or(CpuId::BOOT)
}

/// Queues `work(arg)` on `cpu`'s worker, or on an open CPU's if `cpu` is
/// closed.
pub fn queue(cpu: CpuId, work: WorkFn, arg: usize) {
    let mut target = cpu;
    let mut item = (work, arg);
    loop {
        let queued = with_queue(target, |q| q.queue.push(item).map(|()| q.worker.clone()));
        match queued {
            Ok(worker) => {
                if let Some(worker) = worker {
                    sched::wake(&worker);
                }
                return;
            }
            Err(back) => {
                item = back;
                target = first_open(target);
            }
        }
    }
}

/// Closes `cpu`'s queue and moves what is left to an open CPU. Returns how
/// many items moved.
pub fn close_and_migrate(cpu: CpuId) -> usize {
    let left = with_queue(cpu, |q| q.queue.close());
    let n = left.len();
    for (work, arg) in left {
        queue(first_open(cpu), work, arg);
    }
    n
}

/// Items waiting on `cpu`.
pub fn pending(cpu: CpuId) -> usize {
    with_queue(cpu, |q| q.queue.len())
}

/// `kworker/N`: run items one at a time; between items, park if asked.
pub fn worker_body(cpu: usize) {
    let cpu = CpuId(cpu as u32);
    let me = sched::current();
    loop {
        sched::park_point();
        match with_queue(cpu, |q| q.queue.pop()) {
            Some((work, arg)) => work(arg),
            None => sched::sleep_unless(|| {
                me.park_requested() || with_queue(cpu, |q| !q.queue.is_empty())
            }),
        }
    }
}
