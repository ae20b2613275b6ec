//! Kernel-thread context switch.
//!
//! A switched-out thread's whole state is on its own stack: the callee-saved
//! registers and RFLAGS (so IF travels with the thread), topped by the
//! return address. The thread record only keeps the stack pointer. This is
//! the only place the kernel changes stacks.

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
    mov rdi, r12
    and rsp, -16
    call r13
    ud2
    "#
);

extern "C" {
    fn hp_switch_context(save_rsp: *mut u64, next_rsp: u64);
    fn hp_thread_start();
}

/// RFLAGS for a new thread: interrupts off (bit 9 clear), reserved bit 1 set.
/// The thread's entry enables interrupts once the switch is finished.
const INITIAL_RFLAGS: u64 = 0x2;

/// Lays out a fresh stack so that switching to it calls `entry(arg)`.
/// Returns the stack pointer to switch to.
///
/// Layout from the top: alignment slot, return address (`hp_thread_start`),
/// rbp, rbx, r12 = arg, r13 = entry, r14, r15, RFLAGS.
///
/// # Safety
/// `top` must be the 16-byte aligned top of a mapped, otherwise unused stack
/// of at least one page.
pub unsafe fn prepare_stack(top: VirtAddr, entry: extern "C" fn(usize) -> !, arg: usize) -> u64 {
    let frame: [u64; 9] = [
        INITIAL_RFLAGS,
        0,                     // r15
        0,                     // r14
        entry as usize as u64, // r13
        arg as u64,            // r12
        0,                     // rbx
        0,                     // rbp
        hp_thread_start as *const () as u64,
        0, // alignment slot
    ];
    let rsp = top.as_u64() - (frame.len() * 8) as u64;
    // SAFETY: per the contract the 72 bytes below `top` are mapped and unused.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), rsp as *mut u64, frame.len()) };
    rsp
}

/// Saves the running context's stack pointer into `*save` and resumes the
/// context whose stack pointer is `next`. Returns when something switches
/// back to the saved context.
///
/// # Safety
/// Interrupts must be off. `save` must stay valid until this context is
/// resumed, and `next` must be a stack pointer produced by an earlier save
/// or by [`prepare_stack`], whose context nothing else is running or will
/// resume concurrently.
pub unsafe fn switch(save: *mut u64, next: u64) {
    // SAFETY: forwarded contract; the assembly saves and restores every
    // callee-saved register and RFLAGS, as the C ABI requires.
    unsafe { hp_switch_context(save, next) }
}
