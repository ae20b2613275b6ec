//! The park request: the per-CPU flag that tells an AP's idle loop to stop
//! its scheduler and park.
//!
//! Its own file because both sides set it: the AP's request loop
//! (`transport`, once the AP has torn down every AP state) and `cpu:kick`'s
//! callbacks on the control CPU (cleared before a kick; set to park an AP
//! that was kicked but never brought further). Kept apart from the
//! transport so the callbacks need not import it (no import ring).

use crate::cpus;
use arch::interrupts::vector;
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::CpuId;

per_cpu! {
    /// Set once the AP is to park: its idle thread parks it.
    static DYING: AtomicBool = AtomicBool::new(false);
}

/// The CPU's park request flag.
pub(super) fn dying(cpu: CpuId) -> &'static AtomicBool {
    DYING.get(cpu)
}

/// Before a kick: the CPU starts with no park request left from its last
/// time up.
pub(super) fn clear(cpu: CpuId) {
    dying(cpu).store(false, Ordering::Release);
}

/// Asks an AP that is alive but runs no hotplug state (kicked, never
/// brought further) to park: its idle loop sees the request on the next
/// wake-up (the hotplug IPI sent here), stops its scheduler and parks;
/// `arch::smp::wait_parked` waits for that.
pub(super) fn ask(cpu: CpuId) {
    dying(cpu).store(true, Ordering::Release);
    if let Some(entry) = cpus::get(cpu) {
        arch::apic::send_ipi(entry.apic_id, vector::HOTPLUG);
    }
}
