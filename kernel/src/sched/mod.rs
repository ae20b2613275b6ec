//! The per-CPU preemptive scheduler for kernel threads.
//!
//! Each CPU has a run queue and an idle thread (its boot context) that
//! halts. Threads are bound (per-CPU) or unbound (free to migrate); the
//! LAPIC timer preempts after a slice when others are waiting. A thread
//! can sleep until a deadline, park, and be woken from any CPU by IPI.
//!
//! Invariants: only a CPU itself switches its threads, and a thread is
//! queued only once its context is saved: a waker leaves a thread that is
//! still running or switching out to the CPU it is on, which queues it
//! after saving it (`runqueue::wake`). `arch::context::switch_to` (which
//! claims a context before resuming it) still waits, with a deadline, for
//! one that is not saved; a context that cannot be resumed is reported and
//! its thread dropped, never waited on for ever. Every lock here is taken
//! with interrupts off; only crash reports, which must never wait, try a
//! run-queue lock without that.

mod dead;
mod runqueue;
mod sleep;
mod switch;
mod thread;

pub use dead::{cpu_dead, discard, park_dead};
pub use runqueue::{accept_unbound, nr_queued, push_unbound_away, stop_cpu};
pub use sleep::{
    park_point, request_park, sleep_on_timer, sleep_unless, sleep_until, sleep_until_woken, unpark,
    wake, wake_by_id,
};
pub use switch::{current, exit, idle_loop, try_current_on, yield_now};
pub use thread::{all, Thread, ThreadBody, ThreadState};

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use arch::context::Context;
use arch::memory::vm::GuardedStack;
use core::sync::atomic::Ordering;
use hotplug::CpuId;
use runqueue::with_rq;

/// Why a thread could not be created.
#[derive(Debug)]
pub enum SpawnError {
    Memory(arch::memory::MemoryError),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::Memory(e) => write!(f, "no memory for a thread stack: {e}"),
        }
    }
}

/// Sets up the boot CPU: its boot context becomes its idle thread.
pub fn init() {
    thread::init_pool();
    runqueue::reserve(CpuId::BOOT);
    let idle = Arc::new(Thread::new(
        String::from("idle/0"),
        CpuId::BOOT,
        Some(CpuId::BOOT),
        Arc::new(Context::vacant()),
        None,
        true,
        ThreadState::Running,
    ));
    thread::register(idle.clone());
    runqueue::set_idle(CpuId::BOOT, idle);
    start_cpu(CpuId::BOOT);
    accept_unbound(CpuId::BOOT, true);
    crate::timer::set_slice_handler(switch::slice_expired);
    // A WAKE IPI's hook is the timer's (`timer::init`); the scheduler
    // acts on it here, after EOI, where it may switch.
    arch::interrupts::set_after_eoi(switch::preempt_point);
}

/// Creates the idle thread record for `cpu` (its boot context), once.
pub fn create_idle(cpu: CpuId) {
    if runqueue::idle_of(cpu).is_some() {
        return;
    }
    runqueue::reserve(cpu);
    let idle = Arc::new(Thread::new(
        format!("idle/{}", cpu.0),
        cpu,
        Some(cpu),
        Arc::new(Context::vacant()),
        None,
        true,
        ThreadState::Parked,
    ));
    thread::register(idle.clone());
    runqueue::set_idle(cpu, idle);
}

/// Creates a thread. Bound threads start parked (`unpark` starts them);
/// unbound ones start ready on the least loaded CPU.
pub fn spawn(
    name: String,
    bound: Option<CpuId>,
    body: ThreadBody,
    arg: usize,
) -> Result<Arc<Thread>, SpawnError> {
    let stack = thread::take_stack().map_err(SpawnError::Memory)?;
    Ok(spawn_on(stack, name, bound, body, arg))
}

/// Stacks taken up front for a batch of threads, so that starting the
/// batch cannot run out of memory halfway: it is all or nothing. Stacks
/// left unused go back to the pool when it is dropped.
pub struct StackReserve(Vec<GuardedStack>);

/// Takes `n` thread stacks, or none if memory runs out first.
pub fn reserve_stacks(n: usize) -> Result<StackReserve, SpawnError> {
    let mut stacks = Vec::new();
    stacks
        .try_reserve_exact(n)
        .map_err(|_| SpawnError::Memory(arch::memory::MemoryError::OutOfFrames))?;
    for _ in 0..n {
        match thread::take_stack() {
            Ok(stack) => stacks.push(stack),
            Err(e) => {
                // Dropping the reserve gives the ones taken back.
                drop(StackReserve(stacks));
                return Err(SpawnError::Memory(e));
            }
        }
    }
    Ok(StackReserve(stacks))
}

impl StackReserve {
    /// Like [`spawn`], on a reserved stack; `None` once the reserve is used
    /// up.
    pub fn spawn(
        &mut self,
        name: String,
        bound: Option<CpuId>,
        body: ThreadBody,
        arg: usize,
    ) -> Option<Arc<Thread>> {
        let stack = self.0.pop()?;
        Some(spawn_on(stack, name, bound, body, arg))
    }
}

impl Drop for StackReserve {
    fn drop(&mut self) {
        for stack in self.0.drain(..) {
            thread::give_back_stack(stack);
        }
    }
}

/// Creates a thread on `stack` (see [`spawn`]).
fn spawn_on(
    stack: GuardedStack,
    name: String,
    bound: Option<CpuId>,
    body: ThreadBody,
    arg: usize,
) -> Arc<Thread> {
    let cpu = bound.unwrap_or(CpuId::BOOT);
    let state = if bound.is_some() {
        ThreadState::Parked
    } else {
        ThreadState::Ready
    };
    let context = Arc::new(Context::new(stack, thread_entry, 0));
    let thread = Arc::new(Thread::new(
        name,
        cpu,
        bound,
        context,
        Some((body, arg)),
        false,
        state,
    ));
    thread
        .park_requested
        .store(bound.is_some(), Ordering::Release);
    thread::register(thread.clone());
    if bound.is_none() {
        runqueue::enqueue(thread.clone(), None);
    }
    thread
}

/// Where every new thread starts: finish the switch that got us here, then
/// run the body with interrupts on; returning ends the thread. The body is
/// copied out first, so no reference to the record lives in this frame
/// (`exit` never returns to drop it).
fn thread_entry(_: usize) -> ! {
    runqueue::finish_switch();
    arch::cpu::enable_interrupts();
    let body = current().body;
    if let Some((body, arg)) = body {
        body(arg);
    }
    exit()
}

/// Makes the running context `cpu`'s idle thread and starts scheduling.
/// Called by a CPU on itself as it comes up.
pub fn start_cpu(cpu: CpuId) {
    let idle = runqueue::idle_of(cpu).expect("idle thread created in threads:prepare");
    let irq = arch::cpu::disable_irqs();
    // A CPU adopts only its own idle context, which no other CPU runs.
    if let Err(e) = arch::context::adopt(idle.context.clone(), &irq) {
        panic!("{cpu}: cannot adopt its idle context: {e}");
    }
    runqueue::start_cpu(cpu);
    // A fresh start voided what INIT cut off here: those stacks are free.
    dead::reap_cut_off();
}

/// Whether `cpu` runs its scheduler (it came up and has not parked), so a
/// thread bound to it would run now rather than wait queued for its next
/// online.
pub fn schedules(cpu: CpuId) -> bool {
    runqueue::is_running(cpu)
}

/// Whether `cpu` runs nothing but its idle thread and per-CPU threads.
pub fn only_bound_threads(cpu: CpuId) -> bool {
    with_rq(cpu, |rq| {
        rq.ready.iter().all(|t| t.bound.is_some())
            && rq.current.as_ref().is_none_or(|t| t.bound.is_some())
    })
}
