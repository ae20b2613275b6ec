//! Kernel threads: the record, the registry, and the stack pool.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use arch::context::Context;
use arch::memory::vm::GuardedStack;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use hotplug::CpuId;
use spin::Mutex;

/// Pages of a kernel thread's stack (plus one unmapped guard page).
pub const THREAD_STACK_PAGES: u64 = 8;

/// What a thread is doing. `threads` prints these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    Running = 0,
    Ready = 1,
    Sleeping = 2,
    Parked = 3,
    Dead = 4,
}

impl ThreadState {
    pub fn name(self) -> &'static str {
        match self {
            ThreadState::Running => "running",
            ThreadState::Ready => "ready",
            ThreadState::Sleeping => "sleeping",
            ThreadState::Parked => "parked",
            ThreadState::Dead => "dead",
        }
    }
}

/// What a thread runs: `body(arg)`; returning ends the thread.
pub type ThreadBody = fn(usize);

/// One kernel thread.
pub struct Thread {
    pub id: u64,
    pub name: String,
    /// Its registers and stack as `arch` keeps them; `arch` also tracks
    /// whether it runs on some CPU, so it is never resumed twice.
    pub(super) context: Arc<Context>,
    state: AtomicU8,
    /// The CPU it last ran on (or will run on).
    cpu: AtomicU32,
    /// `Some` for a per-CPU thread: it never runs elsewhere.
    pub bound: Option<CpuId>,
    pub(super) body: Option<(ThreadBody, usize)>,
    /// Asked to park at its next safe point.
    pub(super) park_requested: AtomicBool,
    /// Nesting depth of `without_preemption`.
    pub(super) preempt_disabled: AtomicU32,
    pub idle: bool,
}

impl Thread {
    pub fn state(&self) -> ThreadState {
        match self.state.load(Ordering::Acquire) {
            0 => ThreadState::Running,
            1 => ThreadState::Ready,
            2 => ThreadState::Sleeping,
            3 => ThreadState::Parked,
            _ => ThreadState::Dead,
        }
    }

    pub(super) fn set_state(&self, state: ThreadState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// The address of the unmapped page below this thread's stack.
    pub fn stack_guard(&self) -> Option<u64> {
        self.context.stack_guard().map(|g| g.as_u64())
    }

    /// Whether its registers are saved, so it can be resumed: false while
    /// it runs, and for good once INIT cut it off running.
    pub fn resumable(&self) -> bool {
        self.context.resumable()
    }

    /// Whether someone asked this thread to park.
    pub fn park_requested(&self) -> bool {
        self.park_requested.load(Ordering::Acquire)
    }

    /// Moves from `from` to `to` if the thread is in `from`; atomic.
    pub(super) fn transition(&self, from: ThreadState, to: ThreadState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub fn cpu(&self) -> CpuId {
        CpuId(self.cpu.load(Ordering::Acquire))
    }

    pub(super) fn set_cpu(&self, cpu: CpuId) {
        self.cpu.store(cpu.0, Ordering::Release);
    }

    /// A new record. Idle threads get a vacant context (they run on their
    /// CPU's boot stack).
    pub(super) fn new(
        name: String,
        cpu: CpuId,
        bound: Option<CpuId>,
        context: Arc<Context>,
        body: Option<(ThreadBody, usize)>,
        idle: bool,
        state: ThreadState,
    ) -> Thread {
        Thread {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name,
            context,
            state: AtomicU8::new(state as u8),
            cpu: AtomicU32::new(cpu.0),
            bound,
            body,
            park_requested: AtomicBool::new(false),
            preempt_disabled: AtomicU32::new(0),
            idle,
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Every live thread, sorted by id (ids only grow, so new threads append).
/// A vector with capacity reserved up front rather than a map: spawning
/// and reaping then never change the heap's size, which is what lets the
/// tests check that a workload's heap use returns to where it started.
/// Taken with interrupts off only.
static REGISTRY: Mutex<Vec<Arc<Thread>>> = Mutex::new(Vec::new());
const REGISTRY_CAPACITY: usize = 8192;

/// Freed thread stacks, reused before mapping new ones (mappings are never
/// removed). Its capacity is reserved up front so reaping never allocates.
static STACKS: Mutex<Vec<GuardedStack>> = Mutex::new(Vec::new());
const STACK_POOL_CAPACITY: usize = 4096;

pub(super) fn init_pool() {
    arch::cpu::without_interrupts(|| {
        STACKS.lock().reserve(STACK_POOL_CAPACITY);
        REGISTRY.lock().reserve(REGISTRY_CAPACITY);
    });
}

pub(super) fn take_stack() -> Result<GuardedStack, arch::memory::MemoryError> {
    match arch::cpu::without_interrupts(|| STACKS.lock().pop()) {
        Some(stack) => Ok(stack),
        None => arch::memory::vm::alloc_stack(THREAD_STACK_PAGES),
    }
}

pub(super) fn register(thread: Arc<Thread>) {
    arch::cpu::without_interrupts(|| REGISTRY.lock().push(thread));
}

fn position(registry: &[Arc<Thread>], id: u64) -> Option<usize> {
    registry.binary_search_by_key(&id, |t| t.id).ok()
}

/// Returns a stack that no thread got to the pool (or drops it, if the pool
/// is full: mappings are never removed, so it is only lost to reuse).
pub(super) fn give_back_stack(stack: GuardedStack) {
    arch::cpu::without_interrupts(|| {
        let mut pool = STACKS.lock();
        if pool.len() < pool.capacity() {
            pool.push(stack);
        }
    });
}

/// Drops a dead thread: its stack back to the pool, its record freed.
pub(super) fn reap(thread: &Thread) {
    arch::cpu::without_interrupts(|| {
        // The thread is dead and switched out, so its context retires and
        // gives its stack back (an idle thread's has none).
        if let Some(stack) = thread.context.retire() {
            let mut pool = STACKS.lock();
            if pool.len() < pool.capacity() {
                pool.push(stack);
            }
        }
        let mut registry = REGISTRY.lock();
        if let Some(at) = position(&registry, thread.id) {
            registry.remove(at);
        }
    });
}

/// The thread with this id, if it is alive.
pub fn by_id(id: u64) -> Option<Arc<Thread>> {
    arch::cpu::without_interrupts(|| {
        let registry = REGISTRY.lock();
        position(&registry, id).map(|at| registry[at].clone())
    })
}

/// A snapshot of every thread, by id.
pub fn all() -> Vec<Arc<Thread>> {
    arch::cpu::without_interrupts(|| REGISTRY.lock().clone())
}
