//! The `acpihp` thread: works through the CPU hotplug block's insert and
//! remove events and moves each CPU through the state machine.
//!
//! Every line it prints is one whole `event:` line (one `event!`), held
//! until the console is between commands (`crate::print::events`), so an
//! event never lands inside a command's output or after a printed prompt.
//! Engine operations take the engine's operation lock, which serialises
//! them with console commands that move CPUs. That lock spins, and this thread shares CPU 0
//! with the console, so before each operation the thread sleeps (halting
//! the CPU) while a console move is under way ([`wait_for_engine_idle`]);
//! what is left is the short window between its check and its lock.
//!
//! Insert: clear the event, mark the CPU present (table, then engine),
//! `event: cpuN added (APIC id A)`, then, with autoonline on,
//! `event: cpuN online in U us` or `event: cpuN online failed: <why>`
//! (the CPU is left present and offline, `online N` retries).
//!
//! Remove: clear the event, `event: cpuN remove requested`, take it down to
//! `offline`; then eject it, mark it absent, `event: cpuN removed`. If it
//! cannot go (the offline fails or is refused), it stays online and
//! present: `event: cpuN remove refused: <why>`, and an _OST failure
//! status for the eject request, which QEMU reports as `ACPI_DEVICE_OST`.

use super::signal::{autoonline, sci_counts, PENDING};
use crate::cpuhp::{self, Kernel};
use crate::cpus::{self, CpuEntry};
use arch::acpi::cpu_hotplug::{self, Slot};
use arch::acpi::cpu_hotplug_regs::{ost_event, ost_status};
use arch::ApicId;
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::HotplugError;

/// How often, and how long at most, the thread looks again while another
/// operation moves a CPU (a `torture` run can keep the engine busy for
/// longer: the thread then goes ahead and takes its turn at the lock).
const BUSY_POLL_NS: u64 = 1_000_000;
const BUSY_WAIT_MAX_NS: u64 = 5_000_000_000;

/// Events one scan handles at most before it gives up on the block: the
/// slots can each carry an insert and a remove, so more than this means
/// events that do not clear.
const MAX_EVENTS_PER_SCAN: u32 = 2 * arch::percpu::MAX_CPUS as u32 + 16;

/// Whether the one-time reports below were printed.
static UNKNOWN_SCI_REPORTED: AtomicBool = AtomicBool::new(false);
static STUCK_REPORTED: AtomicBool = AtomicBool::new(false);

/// The thread: scan whenever the SCI handler says so, sleep otherwise.
pub(super) fn thread_body(_: usize) {
    loop {
        if PENDING.swap(false, Ordering::AcqRel) {
            scan();
            report_unknown_scis();
        } else {
            crate::sched::sleep_unless(|| PENDING.load(Ordering::Acquire));
        }
    }
}

/// Handles every slot with an event, lowest slot first, until none is
/// left.
fn scan() {
    for _ in 0..MAX_EVENTS_PER_SCAN {
        let slot = match cpu_hotplug::next_event() {
            Ok(Some(slot)) => slot,
            Ok(None) => return,
            Err(e) => {
                event!("cpu hotplug block: {e}");
                return;
            }
        };
        if slot.status.insert_event {
            inserted(slot);
        } else if slot.status.remove_event {
            remove_requested(slot);
        }
    }
    if !STUCK_REPORTED.swap(true, Ordering::Relaxed) {
        event!("cpu hotplug block: events do not clear; stopped scanning");
    }
}

/// Sleeps while some CPU is being moved (its target differs from its state
/// only during an operation), up to [`BUSY_WAIT_MAX_NS`].
fn wait_for_engine_idle() {
    let engine = cpuhp::engine();
    let busy = || {
        cpus::all().iter().any(|e| {
            engine
                .status(e.cpu)
                .is_ok_and(|status| status.target != status.state)
        })
    };
    let give_up = arch::time::now_ns() + BUSY_WAIT_MAX_NS;
    while busy() && arch::time::now_ns() < give_up {
        crate::sched::sleep_until(arch::time::now_ns() + BUSY_POLL_NS);
    }
}

fn report_unknown_scis() {
    let (_, unknown) = sci_counts();
    if unknown > 0 && !UNKNOWN_SCI_REPORTED.swap(true, Ordering::Relaxed) {
        event!("sci without a cpu hotplug event; other acpi events silenced");
    }
}

/// The CPU table's entry for a slot.
fn entry_of(slot: &Slot) -> Option<&'static CpuEntry> {
    let apic_id = ApicId(u32::try_from(slot.apic_id).ok()?);
    cpus::by_apic_id(apic_id)
}

fn inserted(slot: Slot) {
    // Cleared first: a new event for this slot after this point is a new
    // scan's.
    if let Err(e) = cpu_hotplug::clear_insert_event(slot.slot) {
        event!("slot {}: {e}", slot.slot);
        return;
    }
    let Some(entry) = entry_of(&slot) else {
        event!(
            "slot {} (APIC id {}) added, but the MADT did not list it: ignored",
            slot.slot,
            slot.apic_id
        );
        let _ = cpu_hotplug::write_ost(slot.slot, ost_event::DEVICE_CHECK, ost_status::FAILURE);
        return;
    };
    let cpu = entry.cpu;
    entry.set_present(true);
    event!("{cpu} added (APIC id {})", entry.apic_id);
    let _ = cpu_hotplug::write_ost(slot.slot, ost_event::DEVICE_CHECK, ost_status::SUCCESS);
    if !entry.addressable() {
        // As at boot: the engine never counts it present.
        event!(
            "{cpu} online failed: APIC id {} cannot be addressed in xAPIC mode",
            entry.apic_id
        );
        return;
    }
    let engine = cpuhp::engine();
    if let Err(e) = engine.mark_present(cpu) {
        event!("{cpu} online failed: {e}");
        return;
    }
    if autoonline() {
        wait_for_engine_idle();
        let start = arch::time::now_ns();
        match crate::smt::cpu_up_unless_off(cpu) {
            Ok(()) => {
                let us = (arch::time::now_ns() - start) / 1000;
                event!("{cpu} online in {us} us");
            }
            Err(e) => event!("{cpu} online failed: {e}"),
        }
    }
}

fn remove_requested(slot: Slot) {
    if let Err(e) = cpu_hotplug::clear_remove_event(slot.slot) {
        event!("slot {}: {e}", slot.slot);
        return;
    }
    let Some(entry) = entry_of(&slot) else {
        event!(
            "slot {} (APIC id {}) remove requested, but the MADT did not list it: refused",
            slot.slot,
            slot.apic_id
        );
        refuse_ost(slot.slot, ost_status::EJECT_NOT_SUPPORTED);
        return;
    };
    let cpu = entry.cpu;
    event!("{cpu} remove requested");
    let engine = cpuhp::engine();
    // A CPU the engine never counted present (unaddressable) is offline
    // already; the engine refuses it as not present, which is no reason to
    // keep it.
    wait_for_engine_idle();
    match engine.cpu_down(&Kernel, cpu) {
        Ok(()) | Err(HotplugError::CpuNotPresent(_)) => {}
        Err(e) => {
            event!("{cpu} remove refused: {e}");
            refuse_ost(slot.slot, refusal_status(&e));
            return;
        }
    }
    // From here the CPU is offline: parked in wait-for-SIPI. Absent before
    // the eject, so that no command can start it while it goes.
    if let Err(e) = engine.mark_absent(cpu) {
        // Another operation brought it back up in between.
        event!("{cpu} remove refused: {e}");
        refuse_ost(slot.slot, ost_status::DEVICE_BUSY);
        return;
    }
    match cpu_hotplug::eject(slot.slot) {
        Ok(()) => {
            entry.set_present(false);
            event!("{cpu} removed");
        }
        Err(e) => {
            // Still in QEMU: keep it usable.
            let _ = engine.mark_present(cpu);
            event!("{cpu} remove refused: eject: {e}");
            refuse_ost(slot.slot, ost_status::FAILURE);
        }
    }
}

/// The _OST status for an eject request the offline refused: in use when
/// the rules forbid it (boot CPU, last CPU), busy when a step failed.
fn refusal_status(error: &HotplugError) -> u32 {
    match error {
        HotplugError::BootCpu(_) | HotplugError::LastOnlineCpu(_) => ost_status::DEVICE_IN_USE,
        _ => ost_status::DEVICE_BUSY,
    }
}

fn refuse_ost(slot: u32, status: u32) {
    if let Err(e) = cpu_hotplug::write_ost(slot, ost_event::EJECT_REQUEST, status) {
        event!("slot {slot}: _OST: {e}");
    }
}
