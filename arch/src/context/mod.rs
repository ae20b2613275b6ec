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
//! - a context adopted on a CPU ([`adopt`], a boot context becoming an idle
//!   thread) has its frames on that CPU's own stack, so only that CPU may
//!   resume it, and a fresh start of the CPU (after INIT) voids it;
//! - a switch needs interrupts off and exactly one `IrqGuard` held (the one
//!   passed in), so nothing proven about "this CPU" outlives a migration;
//! - a context's stack is released only by [`Context::retire`], which
//!   refuses while the context runs or may still be resumed by someone.
//!
//! Frames cut off by INIT (a CPU forced down, or parked, mid-flight) follow
//! one rule, whether they lie on a thread's own stack or on the CPU's
//! per-CPU kernel stack (its boot context, adopted as the idle thread):
//! they are void, and the memory under them may be reused. Sound because
//! nothing can use them again:
//! - nothing resumes them: a context the CPU was running (or switching
//!   out of) stays `RUNNING`, a state no claim accepts, until that CPU
//!   starts afresh, and the adopted one is bound to that CPU by its home; the
//!   fresh start makes every context still in the CPU's slots `VACANT`
//!   (`forget_cpu_contexts`) before it runs any code but its entry path,
//!   and a vacant context is never resumed (only a new `adopt` gives it
//!   frames again). Two short windows of a switch hold a claimed context
//!   in no slot (after the claim and before `running` is stored; after
//!   `previous` is cleared and before `SAVED` is stored): a context cut off
//!   there stays `RUNNING` for ever, so it is never resumed and its stack
//!   never retired (leaked, not reused);
//! - nothing points into them: the only pointer into a stack this crate
//!   keeps is a context's saved stack pointer, which `VACANT` voids (the
//!   per-CPU stack's top, given to the trampoline, is where the *next*
//!   incarnation starts), and the code above this crate has no unsafe code,
//!   so it can share data between CPUs and threads only as `'static`
//!   (statics, leaked or reference-counted heap objects), never as a borrow
//!   of a stack frame. This holds only while arch offers no scoped or
//!   borrowed cross-CPU call (a `run_on(cpu, &dyn Fn)`, a scoped spawn):
//!   adding one would turn the reuse of voided stacks into a use after
//!   free.
//!
//! So the next incarnation runs on its per-CPU kernel stack at once, and a
//! cut-off thread's stack goes back to the kernel when the kernel retires
//! the (now vacant) context. What a cut-off CPU held (a lock, a reference
//! count) stays held: that can stall others, but breaks no memory safety.
//!
//! It never decides what runs next: that is the scheduler's.

mod error;
mod word;

pub use error::{AdoptError, SwitchError};

use crate::cpu::IrqGuard;
use crate::memory::vm::GuardedStack;
use crate::percpu::{self, MAX_CPUS};
use crate::time::Deadline;
use alloc::sync::Arc;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
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

/// How long [`switch_to`] waits for another CPU to save the context it
/// wants to resume. Saving takes a few instructions; only a CPU that died
/// mid-switch takes longer, and that is far below this even on a starved
/// emulated CPU.
const SAVE_WAIT_US: u64 = 10_000_000;
/// The same bound in TSC ticks, for a switch before the TSC is calibrated
/// (when microseconds cannot be turned into ticks): at least 10 s on any
/// TSC up to 10 GHz, and longer on slower ones. The TSC always counts, so
/// this ends the wait whatever the calibration.
const SAVE_WAIT_UNCALIBRATED_TICKS: u64 = 100_000_000_000;

/// RFLAGS for a new context: interrupts off (bit 9 clear), reserved bit 1
/// set. The thread's entry enables interrupts once the switch is finished.
const INITIAL_RFLAGS: u64 = 0x2;

use word::{NO_HOME, RETIRED, RUNNING, SAVED, VACANT};

/// What a new context runs first: `entry(arg)`.
type Entry = (fn(usize) -> !, usize);

/// One thread of execution: its saved registers and the stack it owns.
pub struct Context {
    /// The saved stack pointer; meaningful only in state `SAVED`. Written
    /// by the CPU switching away from the context (while it is `RUNNING`),
    /// read by the CPU that claimed it, ordered by `word`.
    rsp: AtomicU64,
    /// State and home CPU ([`word`]).
    word: AtomicU32,
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
            .field("word", &self.word.load(Ordering::Relaxed))
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
            word: AtomicU32::new(word::make(SAVED, NO_HOME)),
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
            word: AtomicU32::new(word::make(VACANT, NO_HOME)),
            stack: Mutex::new(None),
            guard: None,
            entry: None,
        }
    }

    /// Whether the context is saved and may be resumed: false while it runs
    /// (or was cut off running by INIT and its CPU has not started afresh
    /// yet), once it is vacant or retired.
    pub fn resumable(&self) -> bool {
        word::state(self.word.load(Ordering::Acquire)) == SAVED
    }

    /// Whether some CPU runs the context, as far as this crate knows: also
    /// true for one cut off by INIT, until its CPU starts afresh and voids
    /// it. [`Context::retire`] refuses exactly these.
    pub fn runs(&self) -> bool {
        word::state(self.word.load(Ordering::Acquire)) == RUNNING
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
        let mut now = self.word.load(Ordering::Relaxed);
        loop {
            if ![SAVED, VACANT].contains(&word::state(now)) {
                return None;
            }
            let retired = word::make(RETIRED, word::home(now));
            match self
                .word
                .compare_exchange(now, retired, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(changed) => now = changed,
            }
        }
        // The state is RETIRED for ever, so nothing resumes the context and
        // nothing runs on the stack any more.
        crate::cpu::without_interrupts(|| self.stack.lock().take())
    }
}

/// Per CPU: the context it runs, the one it just switched away from (until
/// the switch is finished), and the one this incarnation of the CPU
/// adopted (whose frames are on the CPU's own stack). Each holds a strong
/// reference made with `Arc::into_raw`, or is null. Only the CPU itself
/// touches its slots, with interrupts off.
struct CpuSlots {
    running: AtomicPtr<Context>,
    previous: AtomicPtr<Context>,
    adopted: AtomicPtr<Context>,
}

static SLOTS: [CpuSlots; MAX_CPUS] = [const {
    CpuSlots {
        running: AtomicPtr::new(null_mut()),
        previous: AtomicPtr::new(null_mut()),
        adopted: AtomicPtr::new(null_mut()),
    }
}; MAX_CPUS];

fn slots_here(guard: &IrqGuard) -> &'static CpuSlots {
    &SLOTS[percpu::current_index(guard)]
}

/// Makes `context` the one the running code is saved into when this CPU
/// next switches away: how a CPU's boot context becomes a thread. Only a
/// vacant context is taken (one made by [`Context::vacant`], or one whose
/// CPU started afresh since it last ran): a saved one still has frames
/// someone may mean to resume, and is refused with
/// [`AdoptError::Resumable`]. From now on only this CPU may resume it: its
/// frames will be on this CPU's stack. Once per incarnation of the CPU.
pub fn adopt(context: Arc<Context>, guard: &IrqGuard) -> Result<(), AdoptError> {
    let index = percpu::current_index(guard);
    let slots = &SLOTS[index];
    if !slots.running.load(Ordering::Relaxed).is_null()
        || !slots.adopted.load(Ordering::Relaxed).is_null()
    {
        return Err(AdoptError::CpuBusy);
    }
    claim(&context, &[VACANT], index, true).map_err(|now| match word::state(now) {
        RETIRED => AdoptError::Retired,
        SAVED => AdoptError::Resumable,
        // Not adoptable only because another CPU is its home.
        VACANT => AdoptError::WrongCpu,
        _ => AdoptError::Running,
    })?;
    slots
        .adopted
        .store(Arc::into_raw(context.clone()).cast_mut(), Ordering::Relaxed);
    slots
        .running
        .store(Arc::into_raw(context).cast_mut(), Ordering::Relaxed);
    Ok(())
}

/// Moves `context` from one of the states `from` to `RUNNING` on CPU
/// `index`, if it has no home or `index` is its home; `make_home` makes
/// `index` its home. On failure, the word it had.
fn claim(context: &Context, from: &[u32], index: usize, make_home: bool) -> Result<(), u32> {
    let here = word::home_of(index);
    let mut now = context.word.load(Ordering::Relaxed);
    loop {
        let home = word::home(now);
        if !from.contains(&word::state(now)) || (home != NO_HOME && home != here) {
            return Err(now);
        }
        let home = if make_home { here } else { home };
        match context.word.compare_exchange(
            now,
            word::make(RUNNING, home),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => return Ok(()),
            Err(changed) => now = changed,
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
    let index = percpu::current_index(guard);
    let slots = &SLOTS[index];
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
    // The guard says so, and `cpu` turns interrupts on only with no guard
    // alive; checked anyway, since the switch below needs it and it is one
    // flag read.
    if crate::cpu::interrupts_enabled() {
        return Err(SwitchError::InterruptsEnabled);
    }
    let here = word::home_of(index);
    let mut deadline = None;
    loop {
        match claim(&next, &[SAVED], index, false) {
            Ok(()) => break,
            Err(now) if ![NO_HOME, here].contains(&word::home(now)) => {
                return Err(SwitchError::WrongCpu)
            }
            // Another CPU is between choosing something else and saving
            // `next`'s registers, with interrupts off: a few instructions,
            // unless that CPU died mid-switch.
            Err(now) if word::state(now) == RUNNING => {
                let deadline = deadline.get_or_insert_with(|| {
                    if crate::time::tsc_hz() == 0 {
                        Deadline::after_ticks(SAVE_WAIT_UNCALIBRATED_TICKS)
                    } else {
                        Deadline::after_us(SAVE_WAIT_US)
                    }
                });
                if deadline.expired() {
                    return Err(SwitchError::StillRunning);
                }
                core::hint::spin_loop();
            }
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
    // claimed `next`, so nothing else runs it; the frames it points at are
    // alive: on the context's own stack, which it keeps until it retires
    // (impossible while running), or, for an adopted context, on this
    // CPU's own stack, which lives for ever and which the context's home
    // binding and voiding on a fresh start keep for it alone; (4) the
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
        // Only the CPU running a context changes its word, so no update
        // is lost between this load and store.
        let home = word::home(prev.word.load(Ordering::Relaxed));
        prev.word.store(word::make(SAVED, home), Ordering::Release);
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
/// incarnation can run any more and this one already uses the CPU's stack.
/// The contexts it ran or adopted become vacant (never resumed from where
/// they were cut off, or from frames on this CPU's stack) and the strong
/// references are dropped. Why that is enough, for thread stacks and for
/// the CPU's own stack alike, is the module's "frames cut off by INIT" rule.
pub(crate) fn forget_cpu_contexts(guard: &IrqGuard) {
    let slots = slots_here(guard);
    for slot in [&slots.running, &slots.previous, &slots.adopted] {
        let ptr = slot.swap(null_mut(), Ordering::Relaxed);
        if ptr.is_null() {
            continue;
        }
        // SAFETY: the slot held a strong reference made by `Arc::into_raw`;
        // swapping it out makes it ours.
        let context = unsafe { Arc::from_raw(ptr) };
        // Running here when the CPU stopped (no other CPU changes a running
        // context's word), or adopted here and saved (no other CPU may
        // claim it; only `retire` may race us, and then it stays retired).
        // A context cut off mid-flight keeps its stack: once vacant it can
        // only be retired, and the stack handed out again, which the rule
        // makes sound.
        let now = context.word.load(Ordering::Relaxed);
        if [RUNNING, SAVED].contains(&word::state(now)) {
            let vacant = word::make(VACANT, word::home(now));
            let _ =
                context
                    .word
                    .compare_exchange(now, vacant, Ordering::Release, Ordering::Relaxed);
        }
    }
}
