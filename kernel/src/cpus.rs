//! The kernel's CPU table: logical numbers, APIC ids, presence, state.
//!
//! Logical CPU 0 is the boot CPU; the other possible CPUs follow in MADT
//! order. "Possible" means present or online-capable in the MADT; entries
//! that are neither are dropped, since they can never run.

use alloc::vec::Vec;
use arch::acpi::{MadtCpu, Presence};
use arch::percpu::MAX_CPUS;
use arch::ApicId;
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::CpuId;
use spin::Once;

/// One possible CPU.
pub struct CpuEntry {
    pub cpu: CpuId,
    pub apic_id: ApicId,
    pub presence: Presence,
    /// In the online mask (the `smp:online` state): may be sent requests.
    online: AtomicBool,
    /// In the active mask (the `cpu:active` state): may be given work.
    active: AtomicBool,
}

impl CpuEntry {
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
            presence,
            online: AtomicBool::new(false),
            active: AtomicBool::new(false),
        });
    }
    let present = entries
        .iter()
        .filter(|e| e.presence == Presence::Present)
        .count();
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
