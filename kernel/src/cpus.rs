//! The kernel's CPU table: logical numbers, APIC ids, presence, state.
//!
//! Logical CPU 0 is the boot CPU; the other possible CPUs follow in MADT
//! order. "Possible" means present or online-capable in the MADT; entries
//! that are neither are dropped, since they can never run.
//!
//! Presence, as `cpus` shows it:
//! - `present`: a CPU is in the slot (the MADT said so at boot, or it was
//!   hot-added since);
//! - `absent`: the slot is empty, and we know it: QEMU's CPU hotplug block
//!   reports no CPU there ([`mark_empty_slots`], at boot), or the CPU was
//!   ejected from it; a CPU may be plugged in;
//! - `online-capable`: the MADT's word for a slot a CPU may be hot-added
//!   to, kept where no hotplug block says whether it is filled.
//!
//! (MADT entries that are neither enabled nor online capable, the MADT's
//! own `absent`, never reach the table.) Presence changes at run time
//! (physical hot-add and hot-remove through ACPI): a slot goes from
//! `absent` to `present` when a CPU is plugged in, and back once it has
//! been ejected. It is one atomic per entry, so readers never see a torn
//! value.

use alloc::vec::Vec;
use arch::acpi::{MadtCpu, Presence};
use arch::percpu::MAX_CPUS;
use arch::ApicId;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use hotplug::CpuId;
use spin::Once;

/// One possible CPU.
pub struct CpuEntry {
    pub cpu: CpuId,
    pub apic_id: ApicId,
    /// A [`Presence`] as `u8` (see [`presence_code`]).
    presence: AtomicU8,
    /// In the online mask (the `smp:online` state): may be sent requests.
    online: AtomicBool,
    /// In the active mask (the `cpu:active` state): may be given work.
    active: AtomicBool,
}

const fn presence_code(presence: Presence) -> u8 {
    match presence {
        Presence::Present => 0,
        Presence::OnlineCapable => 1,
        Presence::Absent => 2,
    }
}

impl CpuEntry {
    /// Whether a CPU is in the slot now (`Present`), the hotplug block
    /// says the slot is empty (`Absent`), or the MADT says a CPU may be
    /// hot-added and nothing tells whether one is there (`OnlineCapable`).
    pub fn presence(&self) -> Presence {
        match self.presence.load(Ordering::Acquire) {
            0 => Presence::Present,
            1 => Presence::OnlineCapable,
            _ => Presence::Absent,
        }
    }

    /// Whether a CPU is in the slot now.
    pub fn is_present(&self) -> bool {
        self.presence() == Presence::Present
    }

    /// A CPU was plugged into this slot (`true`) or ejected from it
    /// (`false`: the hotplug block took it away, so the slot is known
    /// empty, `absent`). The hotplug engine's own presence is the caller's
    /// to keep in step.
    pub fn set_present(&self, present: bool) {
        let presence = match present {
            true => Presence::Present,
            false => Presence::Absent,
        };
        self.presence
            .store(presence_code(presence), Ordering::Release);
    }

    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::Acquire)
    }

    pub fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::Release);
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Release);
    }

    /// Whether the boot CPU's LAPIC mode can send this CPU an IPI (xAPIC
    /// cannot name APIC ids above 254). Such a CPU is never kicked: the
    /// engine does not count it present, and `cpus` lists it
    /// `unaddressable`. Valid once the boot CPU's LAPIC is up.
    pub fn addressable(&self) -> bool {
        arch::apic::can_address(self.apic_id)
    }
}

/// All possible CPUs, indexed by logical number.
pub struct CpuTable {
    pub entries: Vec<CpuEntry>,
    pub possible: usize,
    pub present: usize,
}

static TABLE: Once<CpuTable> = Once::new();

/// Why the table could not be built.
#[derive(Debug)]
pub enum CpuTableError {
    BootCpuNotInMadt(ApicId),
}

impl core::fmt::Display for CpuTableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CpuTableError::BootCpuNotInMadt(id) => {
                write!(f, "boot CPU (APIC id {id}) is not an enabled MADT entry")
            }
        }
    }
}

/// Builds the table from the MADT, boot CPU first.
pub fn init(madt: &[MadtCpu]) -> Result<&'static CpuTable, CpuTableError> {
    let boot = arch::cpu::initial_apic_id();
    if !madt
        .iter()
        .any(|c| c.apic_id == boot && c.presence == Presence::Present)
    {
        return Err(CpuTableError::BootCpuNotInMadt(boot));
    }
    let others = madt
        .iter()
        .filter(|c| c.apic_id != boot && c.presence != Presence::Absent);
    let mut entries = Vec::new();
    let ordered =
        core::iter::once((boot, Presence::Present)).chain(others.map(|c| (c.apic_id, c.presence)));
    for (i, (apic_id, presence)) in ordered.enumerate() {
        if i == MAX_CPUS {
            println!("cpus: more than {MAX_CPUS} CPUs in the MADT; ignoring the rest");
            break;
        }
        entries.push(CpuEntry {
            cpu: CpuId(i as u32),
            apic_id,
            presence: AtomicU8::new(presence_code(presence)),
            online: AtomicBool::new(false),
            active: AtomicBool::new(false),
        });
    }
    let present = entries.iter().filter(|e| e.is_present()).count();
    let possible = entries.len();
    Ok(TABLE.call_once(|| CpuTable {
        entries,
        possible,
        present,
    }))
}

/// The table; empty before [`init`].
pub fn all() -> &'static [CpuEntry] {
    TABLE.get().map_or(&[], |t| &t.entries)
}

/// The entry for `cpu`, if it is possible.
pub fn get(cpu: CpuId) -> Option<&'static CpuEntry> {
    all().get(cpu.index())
}

/// The hotplug block's view of the slots at boot, as `(APIC id, holds a
/// CPU)`: an `online-capable` entry whose slot is empty becomes `absent`.
/// Entries the block does not list, or lists as filled, keep what the MADT
/// said (a CPU in a slot the MADT called empty is a hot-add the block
/// reports as an event, handled then).
pub fn mark_empty_slots(slots: impl Iterator<Item = (u64, bool)>) {
    for (apic_id, filled) in slots {
        let entry = u32::try_from(apic_id)
            .ok()
            .and_then(|id| by_apic_id(ApicId(id)));
        if let Some(entry) = entry.filter(|e| !filled && e.presence() == Presence::OnlineCapable) {
            entry
                .presence
                .store(presence_code(Presence::Absent), Ordering::Release);
        }
    }
}

/// The entry whose APIC id is `apic_id`, if it is possible.
pub fn by_apic_id(apic_id: ApicId) -> Option<&'static CpuEntry> {
    all().iter().find(|e| e.apic_id == apic_id)
}
