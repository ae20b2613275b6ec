//! Small CPU primitives: halting and the interrupt flag. CPUID lives in
//! `cpuid`, the interrupts-off guard in `percpu` (it is counted per CPU);
//! both are re-exported here, where the kernel looks for them.

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
pub fn enable_interrupts_and_halt() {
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
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    interrupts::without_interrupts(f)
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
pub fn enable_interrupts() {
    interrupts::enable();
}

/// Executes `ud2`: a deliberate invalid-opcode exception, for the `crash`
/// debug command that proves crash reports work.
pub fn raise_invalid_opcode() -> ! {
    // SAFETY: `ud2` only raises #UD, whose handler reports and exits.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}
