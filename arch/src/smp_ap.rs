//! The AP's half of starting and stopping: where the trampoline lands in
//! Rust, and where a parked AP halts for good.
//!
//! Owns the path from the trampoline to the kernel's continuation: switch
//! to the kernel's page table, install the per-CPU area, enable the LAPIC,
//! report alive. Many APs run it at once, so it touches no shared mutable
//! state but atomics and its own CPU's: its own area and its own slot in
//! `ap_slots` (both found from what the trampoline looked up by its APIC
//! id), the shared IDT (only loaded), the xAPIC base (a `Once` the boot
//! CPU filled long before) and the trace hook (each CPU records into its
//! own ring, never waiting). It never decides whether an AP should run.

use crate::ap_failure::ApFailure;
use crate::ap_slots::{self, ApSlot};
use crate::install::{self, InstallError};
use crate::percpu::{self, ArchStage, PerCpu};
use crate::smp_trace::{emit, SmpTraceKind};
use crate::{apic, cpu, vector, ApicId};
use core::sync::atomic::{fence, AtomicU64, Ordering};
use spin::Once;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

/// The kernel's PML4, which every AP switches to first.
static KERNEL_CR3: AtomicU64 = AtomicU64::new(0);
/// The kernel's per-AP continuation, reached once the AP is alive.
static AP_MAIN: Once<fn(&'static PerCpu) -> !> = Once::new();

/// Records what [`ap_entry`] needs, before the trampoline is installed.
pub(crate) fn init(kernel_cr3: PhysAddr, ap_main: fn(&'static PerCpu) -> !) {
    KERNEL_CR3.store(kernel_cr3.as_u64(), Ordering::Relaxed);
    AP_MAIN.call_once(|| ap_main);
}

/// Wakes `dest` if it is halted in `halt_until`.
pub fn wake(dest: ApicId) {
    apic::send_ipi(dest, vector::WAKE);
}

/// Makes this CPU's earlier stores visible before an IPI that tells
/// another CPU to read them: in x2APIC mode the ICR write (WRMSR) is not
/// serializing, so they may still be buffered when the IPI goes out (SDM
/// Vol. 3A 11.12.3). MFENCE drains the stores, LFENCE keeps the WRMSR from
/// starting before the MFENCE completes (Linux's `weak_wrmsr_fence`).
pub(crate) fn fence_before_ipi() {
    fence(Ordering::SeqCst);
    // SAFETY: LFENCE only orders this CPU's instruction stream; it changes
    // no memory, register or flag.
    unsafe { core::arch::asm!("lfence", options(nostack, preserves_flags)) };
}

/// Wakes whoever waits for this AP, as its slot names them now. The fence
/// also pairs with the waiter's (it names itself, fences, then checks the
/// stage): either it sees our new stage or we see its name.
fn wake_waiter(slot: &ApSlot) {
    fence_before_ipi();
    wake(slot.waiter());
}

/// Parks the current AP for good: it can only leave by INIT.
///
/// The caller must have finished all of the CPU's teardown; the control CPU
/// sees [`ArchStage::Down`] and may then kick it again.
pub fn park_current() -> ! {
    cpu::disable_interrupts();
    apic::stop_timer();
    let area = percpu::current();
    emit(SmpTraceKind::Parked, area.index());
    area.set_stage(ArchStage::Down);
    wake_waiter(ap_slots::slot(area.index()));
    cpu::halt_forever()
}

/// The AP's first Rust code, called by the trampoline on the stack it found
/// in its slot, with the `arg` it found there.
pub(crate) extern "C" fn ap_entry(arg: u64) -> ! {
    let cr3 = PhysAddr::new(KERNEL_CR3.load(Ordering::Relaxed));
    // SAFETY: (1) the kernel PML4 maps everything the trampoline's table
    // maps above the identity page, including this code and our stack;
    // (2) the flags match what the BP runs with.
    unsafe { Cr3::write(PhysFrame::containing_address(cr3), Cr3Flags::empty()) };
    // SAFETY: the trampoline passes the `arg` of the slot armed for this
    // CPU's APIC id, which `smp::kick_start` set to the address of the
    // area it kicked: a leaked, never-freed `PerCpu` (it takes
    // `&'static PerCpu`).
    let area: &'static PerCpu = unsafe { &*(arg as *const PerCpu) };
    // The slot the trampoline found: the one of this area's index.
    let slot = ap_slots::slot(area.index());
    if let Err(e) = install::install_ap(area) {
        // The install checked the APIC id against the area's, the one
        // kicked: reported like the LAPIC check below.
        let error = match e {
            InstallError::WrongCpu { found, .. } => ApFailure::WrongApicId { found },
            other => ApFailure::Install(other),
        };
        // Without a per-CPU area there is no LAPIC to wake the waiter
        // with; its deadline will.
        give_up(slot, error, false);
    }
    if apic::init_current().is_err() {
        give_up(slot, ApFailure::ApicInit, false);
    }
    let found = apic::current_id();
    if found != area.apic_id() {
        give_up(slot, ApFailure::WrongApicId { found }, true);
    }
    emit(SmpTraceKind::Alive, area.index());
    area.set_stage(ArchStage::Alive);
    wake_waiter(slot);
    let main = AP_MAIN.get().expect("smp::init ran before any kick");
    main(area)
}

/// The AP cannot come up: say why in its slot (which ends the waiter's
/// wait, at once if we can wake it) and halt until INIT. The stage stays
/// `Kicked`: the waiter puts the CPU down, after disarming the slot.
fn give_up(slot: &ApSlot, failure: ApFailure, can_wake: bool) -> ! {
    slot.set_failure(failure.encode());
    if can_wake {
        wake_waiter(slot);
    }
    cpu::halt_forever()
}
