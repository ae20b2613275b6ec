//! Small CPU primitives: halting, interrupt flag, CPUID feature bits.

use core::arch::x86_64::__cpuid;
use x86_64::instructions::interrupts;

/// A local APIC id as firmware assigned it.
///
/// Sparse (topology leaves gaps) and 32 bits wide: x2APIC ids go past 255.
/// Deliberately not interchangeable with the dense logical CPU index that
/// the rest of this crate takes as a plain `usize` (the kernel's own CPU
/// number: 0 for the boot CPU, then the other possible CPUs in MADT order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApicId(pub u32);

impl core::fmt::Display for ApicId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

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

/// Proof that interrupts are off on this CPU: while one is held, the running
/// thread can be neither preempted nor moved to another CPU, so whatever it
/// learnt about "the current CPU" stays true. Dropping it restores the
/// interrupt flag as it was. Not `Send`: it speaks for one CPU.
///
/// A context switch breaks the promise (the thread may resume elsewhere),
/// so [`crate::context::switch_to`] takes the guard by `&mut`: nothing
/// borrowed from it can be held across the switch. Calling a scheduler
/// that takes its own guard while holding one breaks it just the same.
pub struct IrqGuard {
    was_enabled: bool,
    _not_send: core::marker::PhantomData<*const ()>,
}

/// Disables interrupts until the returned guard is dropped.
pub fn disable_irqs() -> IrqGuard {
    let was_enabled = interrupts::are_enabled();
    interrupts::disable();
    IrqGuard {
        was_enabled,
        _not_send: core::marker::PhantomData,
    }
}

impl Drop for IrqGuard {
    fn drop(&mut self) {
        if self.was_enabled {
            interrupts::enable();
        }
    }
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

/// CPUID leaf `leaf`, sub-leaf `sub`.
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    // `__cpuid_count` is safe to call on every x86_64 CPU.
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// The highest basic CPUID leaf.
pub fn max_cpuid_leaf() -> u32 {
    __cpuid(0).eax
}

/// Whether the CPU has an x2APIC (CPUID.01H:ECX bit 21, SDM Vol. 2A, Table 3-10).
pub fn has_x2apic() -> bool {
    cpuid(1, 0).2 & (1 << 21) != 0
}

/// Whether the LAPIC timer has TSC-deadline mode (CPUID.01H:ECX bit 24,
/// SDM Vol. 3A 11.5.4.1).
pub fn has_tsc_deadline() -> bool {
    cpuid(1, 0).2 & (1 << 24) != 0
}

/// This CPU's APIC id as CPUID reports it: the 32-bit x2APIC id from leaf
/// 0x0B where present (SDM Vol. 3A 9.4.4), else the 8-bit initial APIC id
/// from leaf 1 EBX bits 31:24.
pub fn initial_apic_id() -> ApicId {
    if max_cpuid_leaf() >= 0x0b {
        let (_, ebx, _, edx) = cpuid(0x0b, 0);
        if ebx != 0 {
            return ApicId(edx);
        }
    }
    ApicId(cpuid(1, 0).1 >> 24)
}

/// Executes `ud2`: a deliberate invalid-opcode exception, for the `crash`
/// debug command that proves crash reports work.
pub fn raise_invalid_opcode() -> ! {
    // SAFETY: `ud2` only raises #UD, whose handler reports and exits.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}
