//! SMT control, as Linux's `/sys/devices/system/cpu/smt/control`: `on`,
//! `off` or `notsupported`, and the switch between on and off.
//!
//! Which CPU is a secondary thread comes from the CPU topology: the thread
//! width CPUID reports (`arch::topology`) applied to each CPU's APIC id
//! (the `topology` crate). `smt off` takes every secondary thread down in
//! one set operation of the engine and, while off, a secondary may not go
//! up (the console asks [`refuse_up`], a hot-added CPU goes through
//! [`cpu_up_unless_off`]). `smt on` brings every present secondary up in
//! one set operation. The boot CPU is never a member, whatever its APIC id
//! says: it must stay online.
//!
//! As in Linux (`cpuhp_smt_disable`), the control becomes `off` only once
//! every secondary went down; if one fails it stays `on` and the ones that
//! went down stay down. It becomes `on` before the bring-up starts
//! (`cpuhp_smt_enable`), so a failed `smt on` leaves it `on`.
//!
//! This module never moves a CPU outside those set operations and never
//! decides anything about primaries.

use crate::cpuhp::{self, Kernel};
use crate::cpus;
use alloc::vec::Vec;
use arch::topology::SmtLayout;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};
use hotplug::{CpuId, Failure, HotplugError, StateId};
use spin::{Mutex, Once};

/// What `smt` reports, Linux's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Secondary threads may be online.
    On,
    /// Secondary threads are kept offline.
    Off,
    /// No possible CPU is a secondary thread.
    NotSupported,
}

impl Control {
    /// The word `smt` prints.
    pub fn name(self) -> &'static str {
        match self {
            Control::On => "on",
            Control::Off => "off",
            Control::NotSupported => "notsupported",
        }
    }
}

/// [`SWITCH`]'s values. `SWITCHING_OFF` refuses bring-ups as `OFF` does,
/// so none slips in while `smt off` runs; it falls back to `ON` if a
/// secondary would not go down.
const ON: u8 = 0;
const SWITCHING_OFF: u8 = 1;
const OFF: u8 = 2;

static SWITCH: AtomicU8 = AtomicU8::new(ON);

/// Held across a switch and across a hot-added CPU's check and bring-up,
/// so a hot-add cannot pass the check before `smt off` starts and come up
/// after it finished. Taken before the engine's own operation lock, never
/// inside it.
static SERIAL: Mutex<()> = Mutex::new(());

/// The thread width CPUID reports (the same on every CPU); `None` if the
/// CPU has no topology leaf.
pub fn layout() -> Option<SmtLayout> {
    static LAYOUT: Once<Option<SmtLayout>> = Once::new();
    *LAYOUT.call_once(arch::topology::smt_layout)
}

/// Whether `cpu` is a secondary thread that `smt off` takes down (never
/// the boot CPU).
pub fn is_secondary(cpu: CpuId) -> bool {
    cpu != CpuId::BOOT
        && cpus::get(cpu).is_some_and(|e| topology::is_secondary(layout(), e.apic_id.0))
}

/// Every possible secondary thread, in CPU order.
pub fn secondaries() -> Vec<CpuId> {
    (cpus::all().iter())
        .map(|e| e.cpu)
        .filter(|&cpu| is_secondary(cpu))
        .collect()
}

/// The control as `smt` reports it.
pub fn control() -> Control {
    if secondaries().is_empty() {
        return Control::NotSupported;
    }
    match SWITCH.load(Ordering::SeqCst) {
        ON => Control::On,
        _ => Control::Off,
    }
}

/// Why a CPU may not go up: it is a secondary thread and smt is off.
#[derive(Clone, Copy, Debug)]
pub struct Refusal(pub CpuId);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is a secondary SMT thread and smt is off", self.0)
    }
}

/// The refusal for bringing `cpu` online, if it is a secondary thread and
/// smt is off (or turning off).
pub fn refuse_online(cpu: CpuId) -> Option<Refusal> {
    let off = SWITCH.load(Ordering::SeqCst) != ON;
    (off && is_secondary(cpu)).then_some(Refusal(cpu))
}

/// The refusal for moving `cpu` to `target`: only a move up is refused
/// (see [`refuse_online`]); going down is always allowed.
pub fn refuse_up(cpu: CpuId, target: StateId) -> Option<Refusal> {
    let state = cpuhp::engine().state_of(cpu).ok()?;
    if target <= state {
        return None;
    }
    refuse_online(cpu)
}

/// Why a hot-added CPU did not come up.
#[derive(Debug)]
pub enum UpError {
    /// Refused by the SMT control.
    Refused(Refusal),
    /// The engine's own refusal or failure.
    Hotplug(HotplugError),
}

impl fmt::Display for UpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpError::Refused(why) => write!(f, "{why}"),
            UpError::Hotplug(e) => write!(f, "{e}"),
        }
    }
}

/// `Engine::cpu_up` for a CPU no console command asked for (a hot-add),
/// refused like [`refuse_online`]; the check and the bring-up are one step
/// against a switch.
pub fn cpu_up_unless_off(cpu: CpuId) -> Result<(), UpError> {
    let _serial = SERIAL.lock();
    if let Some(why) = refuse_online(cpu) {
        return Err(UpError::Refused(why));
    }
    cpuhp::engine()
        .cpu_up(&Kernel, cpu)
        .map_err(UpError::Hotplug)
}

/// Why a switch did not (fully) happen.
#[derive(Debug)]
pub enum SwitchError {
    /// No possible CPU is a secondary thread.
    NotSupported,
    /// The engine refused the set as a whole; nothing moved.
    Refused(HotplugError),
    /// These members did not reach the target (each rolled back).
    Failed(Vec<Failure>),
}

impl fmt::Display for SwitchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SwitchError::NotSupported => {
                f.write_str("smt notsupported: no CPU has a sibling thread")
            }
            SwitchError::Refused(e) => write!(f, "{e}; nothing moved"),
            SwitchError::Failed(failures) => {
                for (i, failure) in failures.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " " };
                    write!(f, "{sep}{}", failure.cpu)?;
                }
                f.write_str(" did not move")
            }
        }
    }
}

/// The present secondaries, the members of a switch (already at the
/// target ones do nothing in the set operation).
fn members() -> Vec<CpuId> {
    let engine = cpuhp::engine();
    (secondaries().into_iter())
        .filter(|&cpu| engine.status(cpu).is_ok_and(|s| s.present))
        .collect()
}

/// One set operation moving every member to `target`; returns the members.
fn switch_to(target: StateId) -> Result<Vec<CpuId>, SwitchError> {
    let members = members();
    if members.is_empty() {
        return Ok(members);
    }
    let outcome = cpuhp::engine()
        .set_target_many(&Kernel, &members, target)
        .map_err(SwitchError::Refused)?;
    match outcome.failures.is_empty() {
        true => Ok(members),
        false => Err(SwitchError::Failed(outcome.failures)),
    }
}

/// `smt off`: every present secondary thread offline in one set operation;
/// returns them. The control is `off` afterwards only if all went down.
pub fn disable() -> Result<Vec<CpuId>, SwitchError> {
    if control() == Control::NotSupported {
        return Err(SwitchError::NotSupported);
    }
    let _serial = SERIAL.lock();
    let before = SWITCH.swap(SWITCHING_OFF, Ordering::SeqCst);
    let result = switch_to(StateId::OFFLINE);
    let after = match (&result, before) {
        (Ok(_), _) | (_, OFF) => OFF,
        (Err(_), _) => ON,
    };
    SWITCH.store(after, Ordering::SeqCst);
    result
}

/// `smt on`: the control is `on` at once, then every present secondary
/// thread comes online in one set operation; returns them.
pub fn enable() -> Result<Vec<CpuId>, SwitchError> {
    if control() == Control::NotSupported {
        return Err(SwitchError::NotSupported);
    }
    let _serial = SERIAL.lock();
    SWITCH.store(ON, Ordering::SeqCst);
    switch_to(cpuhp::engine().online_state())
}
