//! Which CPU each device interrupt goes to, and moving them off a CPU that
//! goes away (Linux's `irq_migrate_all_off_this_cpu` in its teardown path).
//!
//! Each line routed through the I/O APIC (the SCI, COM1) registers here
//! with the CPU it targets. `irq:affinity`'s teardown, on the AP going
//! down, moves every line aimed at it to a live CPU while it still takes
//! interrupts; `irq:prepare`'s teardown does the same on the control CPU
//! for a CPU forced down, which could not. `irq <name> <cpu>` aims a line
//! at another CPU.

use crate::cpus;
use arch::apic::ioapic::{self, IoApicError};
use hotplug::CpuId;
use spin::Mutex;

/// Device interrupt lines the kernel routes.
const MAX_LINES: usize = 4;

/// One routed line.
#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// What the console calls it (`sci`, `serial`).
    pub name: &'static str,
    /// Its global system interrupt.
    pub gsi: u32,
    /// The CPU it is delivered to.
    pub cpu: CpuId,
}

static LINES: Mutex<[Option<Line>; MAX_LINES]> = Mutex::new([None; MAX_LINES]);

fn with_lines<R>(f: impl FnOnce(&mut [Option<Line>; MAX_LINES]) -> R) -> R {
    arch::cpu::without_interrupts(|| f(&mut LINES.lock()))
}

/// Records that `name` (GSI `gsi`) is routed to `cpu`. A full table only
/// means the line will not be moved, so it is reported, not fatal.
pub fn register(name: &'static str, gsi: u32, cpu: CpuId) -> Result<(), &'static str> {
    with_lines(|lines| {
        let slot = lines
            .iter_mut()
            .find(|l| l.is_none())
            .ok_or("irq table full")?;
        *slot = Some(Line { name, gsi, cpu });
        Ok(())
    })
}

/// Every registered line.
pub fn lines() -> [Option<Line>; MAX_LINES] {
    with_lines(|lines| *lines)
}

/// Why a line could not be aimed at a CPU.
#[derive(Clone, Copy, Debug)]
pub enum AimError {
    /// No line has that name.
    NoSuchLine,
    /// The CPU is not up (not in the active mask).
    NotActive(CpuId),
    /// The I/O APIC refused (e.g. an APIC id it cannot address).
    IoApic(IoApicError),
}

impl core::fmt::Display for AimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AimError::NoSuchLine => write!(f, "no such interrupt (see 'irq')"),
            AimError::NotActive(cpu) => write!(f, "{cpu} is not active"),
            AimError::IoApic(e) => write!(f, "{e}"),
        }
    }
}

/// Sends the line `name` to `cpu`, which must be active.
pub fn aim(name: &str, cpu: CpuId) -> Result<(), AimError> {
    let entry = cpus::get(cpu).filter(|e| e.is_active());
    let entry = entry.ok_or(AimError::NotActive(cpu))?;
    with_lines(|lines| {
        let line = (lines.iter_mut().flatten())
            .find(|l| l.name == name)
            .ok_or(AimError::NoSuchLine)?;
        ioapic::retarget(line.gsi, entry.apic_id).map_err(AimError::IoApic)?;
        line.cpu = cpu;
        Ok(())
    })
}

/// Moves every line aimed at `cpu` to a live CPU (the boot CPU, which
/// never goes down, unless another active CPU is first). Returns how many
/// could not be moved.
pub fn move_off(cpu: CpuId) -> usize {
    let to = (cpus::all().iter())
        .find(|e| e.cpu != cpu && e.is_active() && ioapic::can_reach(e.apic_id))
        .map_or(CpuId::BOOT, |e| e.cpu);
    let apic_id = cpus::get(to).map(|e| e.apic_id);
    with_lines(|lines| {
        let mut failed = 0;
        for line in lines.iter_mut().flatten().filter(|l| l.cpu == cpu) {
            match apic_id.map(|id| ioapic::retarget(line.gsi, id)) {
                Some(Ok(())) => line.cpu = to,
                _ => failed += 1,
            }
        }
        failed
    })
}
