//! Physical CPU hotplug through ACPI: QEMU's `device_add` / `device_del`
//! of a vCPU reaches the kernel as an SCI, and the CPU joins or leaves
//! through the same state machine as `online` / `offline`.
//!
//! Owns the SCI (routed through the I/O APIC to the boot CPU), GPE 2 (QEMU's
//! CPU hotplug event), the `acpihp` thread that works through the hotplug
//! block's events ([`events`]), and the `autoonline` setting. The SCI
//! handler only acknowledges and wakes the thread; it never touches the
//! engine, the CPU table or the console.
//!
//! QEMU's own AML (`\_GPE._E02` calling `\_SB.CPUS.CSCN`) is not run: the
//! `acpi` crate's AML interpreter cannot run it (no `Notify`), so the
//! thread drives the hotplug registers directly (see
//! `arch::acpi::cpu_hotplug`), as that AML would.

mod events;
mod signal;

pub use signal::{autoonline, set_autoonline};

use crate::sched;
use alloc::string::String;
use arch::acpi::cpu_hotplug::GPE;
use arch::acpi::fixed;
use arch::apic::ioapic;
use arch::interrupts::{set_hook, vector, Hook};
use arch::platform::{FixedOutcome, HotplugOutcome, PlatformSetup};
use core::sync::atomic::Ordering;
use hotplug::CpuId;
use signal::{on_sci, PENDING, THREAD};

/// Why physical hotplug is off on this machine.
enum SetupError {
    NoHotplugBlock(&'static str),
    Fadt,
    Spawn(sched::SpawnError),
    IoApic(ioapic::IoApicError),
    Gpe(fixed::FixedError),
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SetupError::NoHotplugBlock(why) => write!(f, "no cpu hotplug block ({why})"),
            SetupError::Fadt => write!(f, "no usable FADT or ACPI mode"),
            SetupError::Spawn(e) => write!(f, "acpihp thread: {e}"),
            SetupError::IoApic(e) => write!(f, "routing the sci: {e}"),
            SetupError::Gpe(e) => write!(f, "gpe {GPE}: {e}"),
        }
    }
}

/// Starts physical hotplug if the platform has everything for it, and
/// prints one line saying so: `acpihp: sci gsi G -> cpu0 vector 0xV, gpe
/// 2 enabled` or `acpihp: off: <why>`. Runs on the boot CPU once the
/// scheduler and the engine are up and interrupts are on.
pub fn init(setup: &PlatformSetup) {
    // The block knows which slots are empty, whether or not its events can
    // be taken: those show `absent` rather than the MADT's `online-capable`.
    if let HotplugOutcome::Ready { enumeration, .. } = &setup.cpu_hotplug {
        let slots = enumeration.slots.iter();
        crate::cpus::mark_empty_slots(slots.map(|s| (s.apic_id, s.status.enabled)));
    }
    match start(setup) {
        Ok(gsi) => println!(
            "acpihp: sci gsi {gsi} -> cpu0 vector {:#x}, gpe {GPE} enabled",
            vector::SCI
        ),
        Err(e) => println!("acpihp: off: {e}"),
    }
}

fn start(setup: &PlatformSetup) -> Result<u32, SetupError> {
    match &setup.cpu_hotplug {
        HotplugOutcome::Ready { .. } => {}
        HotplugOutcome::NotDescribed => return Err(SetupError::NoHotplugBlock("none in dsdt")),
        HotplugOutcome::Failed { .. } => return Err(SetupError::NoHotplugBlock("it failed")),
    }
    let sci = match &setup.fixed {
        FixedOutcome::Ready {
            sci, mode: Ok(_), ..
        } => *sci,
        _ => return Err(SetupError::Fadt),
    };
    // Routed masked, and the GPE checked, before anything is started.
    let boot = crate::cpus::get(CpuId::BOOT).map_or(arch::cpu::initial_apic_id(), |e| e.apic_id);
    ioapic::route(sci, boot, vector::SCI).map_err(SetupError::IoApic)?;
    fixed::clear_gpe(GPE).map_err(SetupError::Gpe)?;
    let thread = sched::spawn(
        String::from("acpihp"),
        Some(CpuId::BOOT),
        events::thread_body,
        0,
    )
    .map_err(SetupError::Spawn)?;
    THREAD.call_once(|| thread.clone());
    set_hook(Hook::Sci, on_sci);
    // Events that came before the GPE was enabled are still in the block:
    // the thread's first scan finds them.
    PENDING.store(true, Ordering::Release);
    sched::unpark(&thread);
    fixed::enable_gpe(GPE).map_err(SetupError::Gpe)?;
    ioapic::unmask(sci.gsi).map_err(SetupError::IoApic)?;
    if let Err(e) = crate::irq_affinity::register("sci", sci.gsi, CpuId::BOOT) {
        println!("acpihp: sci not tracked for CPU hotplug: {e}");
    }
    Ok(sci.gsi)
}
