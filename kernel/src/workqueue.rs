//! Deferred work: one queue and one worker thread (`kworker/N`) per CPU,
//! like Linux's ksoftirqd/kworker.
//!
//! A closed queue (its worker parked for hotplug) takes nothing: new items
//! go to an open CPU, and the items left when it closed are moved there,
//! so no work item is lost to an offline CPU.

use crate::cpus;
use crate::sched::{self, Thread};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hotplug::CpuId;
use spin::{Mutex, Once};

/// A unit of deferred work.
pub type WorkFn = fn(usize);

struct WorkQueue {
    items: VecDeque<(WorkFn, usize)>,
    open: bool,
    worker: Option<Arc<Thread>>,
}

const QUEUE_CAPACITY: usize = 256;

static QUEUES: Once<Vec<Mutex<WorkQueue>>> = Once::new();

fn with_queue<R>(cpu: CpuId, f: impl FnOnce(&mut WorkQueue) -> R) -> R {
    let q = &QUEUES.get().expect("workqueue::init not called")[cpu.index()];
    arch::cpu::without_interrupts(|| f(&mut q.lock()))
}

pub fn init() {
    QUEUES.call_once(|| {
        (0..cpus::all().len())
            .map(|_| {
                Mutex::new(WorkQueue {
                    items: VecDeque::with_capacity(QUEUE_CAPACITY),
                    open: false,
                    worker: None,
                })
            })
            .collect()
    });
}

/// Records `cpu`'s worker thread.
pub fn set_worker(cpu: CpuId, worker: Arc<Thread>) {
    with_queue(cpu, |q| q.worker = Some(worker));
}

/// Opens `cpu`'s queue (its worker runs).
pub fn open(cpu: CpuId) {
    with_queue(cpu, |q| q.open = true);
}

fn first_open(except: CpuId) -> CpuId {
    (0..cpus::all().len() as u32)
        .map(CpuId)
        .find(|&c| c != except && with_queue(c, |q| q.open))
        .unwrap_or(CpuId::BOOT)
}

/// Queues `work(arg)` on `cpu`'s worker, or on an open CPU's if `cpu` is
/// closed.
pub fn queue(cpu: CpuId, work: WorkFn, arg: usize) {
    let mut target = cpu;
    loop {
        let worker = with_queue(target, |q| {
            if q.open {
                q.items.push_back((work, arg));
                Some(q.worker.clone())
            } else {
                None
            }
        });
        match worker {
            Some(worker) => {
                if let Some(worker) = worker {
                    sched::wake(&worker);
                }
                return;
            }
            None => target = first_open(target),
        }
    }
}

/// Closes `cpu`'s queue and moves what is left to an open CPU. Returns how
/// many items moved.
pub fn close_and_migrate(cpu: CpuId) -> usize {
    let left: Vec<(WorkFn, usize)> = with_queue(cpu, |q| {
        q.open = false;
        q.items.drain(..).collect()
    });
    let n = left.len();
    for (work, arg) in left {
        queue(first_open(cpu), work, arg);
    }
    n
}

/// Items waiting on `cpu`.
pub fn pending(cpu: CpuId) -> usize {
    with_queue(cpu, |q| q.items.len())
}

/// `kworker/N`: run items one at a time; between items, park if asked.
pub fn worker_body(cpu: usize) {
    let cpu = CpuId(cpu as u32);
    let me = sched::current();
    loop {
        sched::park_point();
        match with_queue(cpu, |q| q.items.pop_front()) {
            Some((work, arg)) => work(arg),
            None => sched::sleep_unless(|| {
                me.park_requested() || with_queue(cpu, |q| !q.items.is_empty())
            }),
        }
    }
}
