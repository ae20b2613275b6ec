//! Small CPU primitives: halting and the interrupt flag. CPUID lives in
//! `cpuid`, the interrupts-off guard in `percpu` (it is counted per CPU);
//! both are re-exported here, where the kernel looks for them.
//!
//! Every way this module turns interrupts on checks first that no
//! [`IrqGuard`] is alive on this CPU, and panics if one is: a guard promises
//! interrupts stay off for as long as it lives (what `context::switch_to`
//! and `percpu::current_index` rely on), so turning them on under it would
//! break that promise. The check is a flag read and one load from the
//! per-CPU area, so it runs in release builds too.

pub use crate::cpuid::{
    cpuid, has_tsc_deadline, has_x2apic, initial_apic_id, max_cpuid_leaf, ApicId,
};
pub use crate::percpu::{disable_irqs, IrqGuard};
use x86_64::instructions::interrupts;

/// Enables interrupts and halts until the next one, atomically.
///
/// `sti` delays interrupt delivery by one instruction, so an interrupt that
/// is already pending wakes the `hlt` instead of being taken before it: a
/// caller that checked its wake-up condition with interrupts off cannot miss
/// the wake-up.
///
/// Panics if an [`IrqGuard`] is alive on this CPU.
pub fn enable_interrupts_and_halt() {
    crate::percpu::assert_no_irq_guard("interrupts enabled to halt");
    interrupts::enable_and_hlt();
}

/// Halts with interrupts off until INIT, NMI or SMI. Never returns.
pub fn halt_forever() -> ! {
    interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}

/// Runs `f` with interrupts disabled, restoring the previous state after.
///
/// Panics if interrupts were on and `f` hands back (or leaves alive) an
/// [`IrqGuard`], which turning them back on would break.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was_enabled = interrupts::are_enabled();
    interrupts::disable();
    let result = f();
    if was_enabled {
        enable_interrupts();
    }
    result
}

/// Whether interrupts are currently enabled on this CPU.
pub fn interrupts_enabled() -> bool {
    interrupts::are_enabled()
}

/// Disables interrupts on this CPU.
pub fn disable_interrupts() {
    interrupts::disable();
}

/// Enables interrupts on this CPU.
///
/// Panics if an [`IrqGuard`] is alive on this CPU.
pub fn enable_interrupts() {
    crate::percpu::assert_no_irq_guard("interrupts enabled");
    interrupts::enable();
}

/// Executes `ud2`: a deliberate invalid-opcode exception, for the `crash`
/// debug command that proves crash reports work.
pub fn raise_invalid_opcode() -> ! {
    // SAFETY: `ud2` only raises #UD, whose handler reports and exits.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}
