//! Kernel-thread contexts and the switch between them.
//!
//! A [`Context`] is one thread of execution as this crate sees it: a saved
//! stack pointer, the stack it owns (if any), and a state word that says
//! whether it may be resumed. A switched-out context's registers are all on
//! its own stack: the callee-saved registers and RFLAGS (so IF travels with
//! the context), topped by the return address. This is the only place the
//! kernel changes stacks.
//!
//! The API is safe because this module, not its caller, enforces the rules
//! a switch needs:
//! - each CPU knows which context it runs (a per-CPU slot holding a strong
//!   reference), so a switch always saves into the right one;
//! - [`switch_to`] claims the next context (saved -> running) before it
//!   resumes it, so no context ever runs on two CPUs, and a context that
//!   is still being switched out on another CPU is waited for until its
//!   registers are saved;
//! - a context's stack is released only by [`Context::retire`], which
//!   refuses while the context runs or may still be resumed by someone.
//!
//! It never decides what runs next: that is the scheduler's.

use crate::cpu::IrqGuard;
use crate::memory::vm::GuardedStack;
use crate::percpu::{self, MAX_CPUS};
use alloc::sync::Arc;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};
use spin::Mutex;
use x86_64::VirtAddr;

core::arch::global_asm!(
    r#"
    .text
    .global hp_switch_context
hp_switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    pushfq
    mov [rdi], rsp
    mov rsp, rsi
    popfq
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    .global hp_thread_start
hp_thread_start:
    and rsp, -16
    call {first_run}
    ud2
    "#,
    first_run = sym first_run,
);

extern "C" {
    fn hp_switch_context(save_rsp: *mut u64, next_rsp: u64);
    fn hp_thread_start();
}

/// RFLAGS for a new context: interrupts off (bit 9 clear), reserved bit 1
/// set. The thread's entry enables interrupts once the switch is finished.
const INITIAL_RFLAGS: u64 = 0x2;

/// The context holds registers saved by a switch (or a fresh first frame)
/// and may be resumed.
const SAVED: u8 = 0;
/// The context runs on some CPU (or is being switched out of it).
const RUNNING: u8 = 1;
/// Nothing to resume: a boot context not adopted yet, or one whose CPU
/// stopped running it without saving it (parked, or forced down).
const VACANT: u8 = 2;
/// Its stack was given back; it never runs again.
const RETIRED: u8 = 3;

/// What a new context runs first: `entry(arg)`.
type Entry = (fn(usize) -> !, usize);

/// One thread of execution: its saved registers and the stack it owns.
pub struct Context {
    /// The saved stack pointer; meaningful only in state `SAVED`. Written
    /// by the CPU switching away from the context (while it is `RUNNING`),
    /// read by the CPU that claimed it, ordered by `state`.
    rsp: AtomicU64,
    state: AtomicU8,
    /// The stack the context runs on, until [`Context::retire`].
    stack: Mutex<Option<GuardedStack>>,
    /// Guard page of `stack`, kept outside the lock for crash reports.
    guard: Option<VirtAddr>,
    /// What the first switch to a new context calls.
    entry: Option<Entry>,
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("state", &self.state.load(Ordering::Relaxed))
            .field("guard", &self.guard)
            .finish()
    }
}

impl Context {
    /// A new context that, once switched to, runs `entry(arg)` on `stack`
    /// with interrupts off. `entry` must never return (a thread ends by
    /// switching away for good).
    pub fn new(stack: GuardedStack, entry: fn(usize) -> !, arg: usize) -> Context {
        // Layout from the top: alignment slot, return address
        // (`hp_thread_start`), rbp, rbx, r12, r13, r14, r15, RFLAGS.
        let frame: [u64; 9] = [
            INITIAL_RFLAGS,
            0, // r15
            0, // r14
            0, // r13
            0, // r12
            0, // rbx
            0, // rbp
            hp_thread_start as *const () as u64,
            0, // alignment slot
        ];
        let rsp = stack.top().as_u64() - (frame.len() * 8) as u64;
        // SAFETY: (1) `GuardedStack` guarantees at least one mapped page
        // below its page-aligned top, and these 72 bytes lie in it; (2) we
        // own the stack by value and nothing runs on it, so nothing else
        // reads or writes those bytes.
        unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), rsp as *mut u64, frame.len()) };
        Context {
            rsp: AtomicU64::new(rsp),
            state: AtomicU8::new(SAVED),
            guard: Some(stack.guard()),
            stack: Mutex::new(Some(stack)),
            entry: Some((entry, arg)),
        }
    }

    /// A context for code that already runs on a stack it does not own (a
    /// CPU's boot context, which becomes its idle thread): nothing to
    /// resume until a CPU [`adopt`]s it.
    pub fn vacant() -> Context {
        Context {
            rsp: AtomicU64::new(0),
            state: AtomicU8::new(VACANT),
            stack: Mutex::new(None),
            guard: None,
            entry: None,
        }
    }

    /// The unmapped page below the context's own stack, if it has one.
    pub fn stack_guard(&self) -> Option<VirtAddr> {
        self.guard
    }

    /// Ends the context for good and hands back its stack, for another
    /// context to use. `None` (and nothing changes) while the context runs
    /// on some CPU; a context without a stack of its own retires and
    /// returns `None`.
    pub fn retire(&self) -> Option<GuardedStack> {
        let retired = [SAVED, VACANT].into_iter().any(|from| {
            self.state
                .compare_exchange(from, RETIRED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        if !retired {
            return None;
        }
        // The state is RETIRED for ever, so nothing resumes the context and
        // nothing runs on the stack any more.
        crate::cpu::without_interrupts(|| self.stack.lock().take())
    }
}

/// Why [`switch_to`] did not switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchError {
    /// This CPU has adopted no context, so there is nowhere to save the
    /// running code.
    NoCurrentContext,
    /// The next context has nothing to resume (vacant or retired).
    NotResumable,
    /// Other [`IrqGuard`]s than the one passed in are alive on this CPU:
    /// what they proved about "this CPU" would not hold after the switch.
    GuardsHeld(u32),
}

impl core::fmt::Display for SwitchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SwitchError::NoCurrentContext => write!(f, "this CPU runs no adopted context"),
            SwitchError::NotResumable => write!(f, "the next context has nothing to resume"),
            SwitchError::GuardsHeld(n) => {
                write!(
                    f,
                    "{n} interrupts-off guards held across a switch (1 allowed)"
                )
            }
        }
    }
}

/// Why [`adopt`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdoptError {
    /// This CPU already runs an adopted context.
    CpuBusy,
    /// The context runs on some CPU (or is being switched out of one).
    Running,
    /// The context was retired.
    Retired,
}

impl core::fmt::Display for AdoptError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AdoptError::CpuBusy => write!(f, "this CPU already runs a context"),
            AdoptError::Running => write!(f, "the context runs on a CPU"),
            AdoptError::Retired => write!(f, "the context was retired"),
        }
    }
}

/// Per CPU: the context it runs, and the one it just switched away from
/// (until the switch is finished). Each holds a strong reference made with
/// `Arc::into_raw`, or is null. Only the CPU itself touches its slots, with
/// interrupts off, except [`forget_cpu_contexts`], which runs on that CPU
/// too.
struct CpuSlots {
    running: AtomicPtr<Context>,
    previous: AtomicPtr<Context>,
}

static SLOTS: [CpuSlots; MAX_CPUS] = [const {
    CpuSlots {
        running: AtomicPtr::new(null_mut()),
        previous: AtomicPtr::new(null_mut()),
    }
}; MAX_CPUS];

fn slots_here(guard: &IrqGuard) -> &'static CpuSlots {
    &SLOTS[percpu::current_index(guard)]
}

/// Makes `context` the one the running code is saved into when this CPU
/// next switches away: how a CPU's boot context becomes a thread. Whatever
/// the context had saved is discarded (it never resumes from there).
pub fn adopt(context: Arc<Context>, guard: &IrqGuard) -> Result<(), AdoptError> {
    let slots = slots_here(guard);
    if !slots.running.load(Ordering::Relaxed).is_null() {
        return Err(AdoptError::CpuBusy);
    }
    claim(&context, &[VACANT, SAVED]).map_err(|state| match state {
        RETIRED => AdoptError::Retired,
        _ => AdoptError::Running,
    })?;
    slots
        .running
        .store(Arc::into_raw(context).cast_mut(), Ordering::Relaxed);
    Ok(())
}

/// Moves `context` from one of `from` to `RUNNING`; on failure, the state
/// it was in.
fn claim(context: &Context, from: &[u8]) -> Result<(), u8> {
    let mut state = context.state.load(Ordering::Relaxed);
    loop {
        if !from.contains(&state) {
            return Err(state);
        }
        match context
            .state
            .compare_exchange(state, RUNNING, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return Ok(()),
            Err(now) => state = now,
        }
    }
}

/// Saves the running context and resumes `next`; returns when something
/// switches back to the saved one, possibly on another CPU. Interrupts
/// stay off throughout, which `guard` proves; the `&mut` means no borrow
/// from it survives the call, and the switch is refused while any other
/// guard is held on this CPU, so no borrow from those survives either.
///
/// If `next` is still being switched out on another CPU (it was woken
/// mid-switch), this waits the few instructions until its registers are
/// saved. Switching to the running context is a no-op.
pub fn switch_to(next: Arc<Context>, guard: &mut IrqGuard) -> Result<(), SwitchError> {
    let slots = slots_here(guard);
    let prev = slots.running.load(Ordering::Relaxed);
    if prev.is_null() {
        return Err(SwitchError::NoCurrentContext);
    }
    if core::ptr::eq(prev, Arc::as_ptr(&next)) {
        return Ok(());
    }
    let held = percpu::current().irq_guards();
    if held != 1 {
        return Err(SwitchError::GuardsHeld(held));
    }
    loop {
        match claim(&next, &[SAVED]) {
            Ok(()) => break,
            // Another CPU is between choosing something else and saving
            // `next`'s registers, with interrupts off: a few instructions.
            Err(RUNNING) => core::hint::spin_loop(),
            Err(_) => return Err(SwitchError::NotResumable),
        }
    }
    let next_rsp = next.rsp.load(Ordering::Relaxed);
    // Both strong references now live in this CPU's slots, not in this
    // frame: a context that never resumes (an exiting thread) leaks nothing.
    slots
        .running
        .store(Arc::into_raw(next).cast_mut(), Ordering::Relaxed);
    slots.previous.store(prev, Ordering::Relaxed);
    // SAFETY: (1) interrupts are off (`guard`); (2) `prev` is this CPU's
    // running context, kept alive by the strong reference now in
    // `previous` until `finish_switch` marks it saved, so nobody else
    // resumes it or writes its `rsp` before then; (3) `next_rsp` was saved
    // by a switch away from `next` (or laid out by `Context::new`) and we
    // claimed `next`, so nothing else runs it; its stack is alive because
    // the context owns it and cannot retire while running; (4) the
    // assembly saves and restores every callee-saved register and RFLAGS,
    // as the C ABI requires.
    unsafe { hp_switch_context((*prev).rsp.as_ptr(), next_rsp) };
    finish_switch();
    Ok(())
}

/// Runs on the context just resumed, before anything else: the previous
/// context's registers are now saved, so it may be resumed (here or on
/// another CPU).
fn finish_switch() {
    let guard = crate::cpu::disable_irqs();
    let prev = slots_here(&guard)
        .previous
        .swap(null_mut(), Ordering::Relaxed);
    if !prev.is_null() {
        // SAFETY: `previous` holds a strong reference made by
        // `Arc::into_raw` in `switch_to`; swapping it out makes it ours.
        let prev = unsafe { Arc::from_raw(prev) };
        prev.state.store(SAVED, Ordering::Release);
    }
}

/// Where a new context starts (called by `hp_thread_start`).
extern "C" fn first_run() -> ! {
    finish_switch();
    let entry = {
        let guard = crate::cpu::disable_irqs();
        let running = slots_here(&guard).running.load(Ordering::Relaxed);
        // SAFETY: the slot holds a strong reference to the context running
        // here, which is this one, for as long as it runs.
        unsafe { (*running).entry }
    };
    // The guard that switched here stays with the context that left; this
    // one starts holding none.
    percpu::current().clear_irq_guards();
    match entry {
        Some((entry, arg)) => entry(arg),
        None => unreachable!("a context without an entry was started"),
    }
}

/// Forgets whatever the running CPU's previous incarnation was running:
/// called on a fresh start of this CPU (after INIT), when nothing of that
/// incarnation can run any more. Its contexts become vacant (never resumed
/// from where they were cut off), their own stacks are leaked, and the
/// strong references are dropped.
pub(crate) fn forget_cpu_contexts(guard: &IrqGuard) {
    let slots = slots_here(guard);
    for slot in [&slots.running, &slots.previous] {
        let ptr = slot.swap(null_mut(), Ordering::Relaxed);
        if !ptr.is_null() {
            // SAFETY: the slot held a strong reference made by
            // `Arc::into_raw`; swapping it out makes it ours.
            let context = unsafe { Arc::from_raw(ptr) };
            // Only a context this CPU claimed is in its slots; if it is no
            // longer running, it is none of ours to change.
            let abandoned = context
                .state
                .compare_exchange(RUNNING, VACANT, Ordering::Release, Ordering::Relaxed)
                .is_ok();
            if abandoned {
                // Its frames were cut off mid-flight, and something on
                // another CPU may still point into them: its stack is
                // leaked rather than ever handed out again. Nobody holds
                // the lock: `retire` takes it only after winning the state
                // from SAVED or VACANT, and the state was RUNNING.
                let _leaked = context.stack.lock().take();
            }
        }
    }
}
