//! Per-CPU data, reached through the GS base.
//!
//! Each CPU's [`PerCpu`] is allocated once by the control CPU, the first time
//! the CPU is prepared, and kept for ever: a CPU that goes offline and comes
//! back reuses its stacks and tables. GS points at the running CPU's area,
//! whose first word points at itself, so `current()` is one load.

use crate::apic::{ApicMode, Lapic};
use crate::gdt::CpuTables;
use crate::memory::vm::{self, GuardedStack};
use crate::memory::MemoryError;
use crate::{ApicId, CpuId};
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use x86_64::registers::model_specific::GsBase;
use x86_64::VirtAddr;

/// Logical CPUs the kernel can track. QEMU's q35 allows up to 4096.
pub const MAX_CPUS: usize = 4096;

/// Kernel stack pages per CPU (plus one guard page).
pub const KERNEL_STACK_PAGES: u64 = 16;
/// Pages of each IST stack (plus one guard page).
pub const IST_STACK_PAGES: u64 = 4;

/// Where a CPU is in its arch-level start-up, as seen by the CPU that kicks
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ArchStage {
    /// Not running kernel code (never started, or parked).
    Down = 0,
    /// INIT-SIPI sent, not yet alive.
    Kicked = 1,
    /// Running kernel code with its own tables and LAPIC.
    Alive = 2,
}

/// One CPU's private area.
#[repr(C)]
pub struct PerCpu {
    /// Must stay the first field: `current()` reads it at `gs:0`.
    self_ptr: *const PerCpu,
    pub cpu: CpuId,
    pub apic_id: ApicId,
    stage: AtomicU32,
    pub kernel_stack: GuardedStack,
    pub double_fault_stack: GuardedStack,
    pub nmi_stack: GuardedStack,
    tables: UnsafeCell<CpuTables>,
    lapic: UnsafeCell<Option<Lapic>>,
    /// The LAPIC mode this CPU last came up in (0 = never).
    apic_mode: AtomicU32,
    /// Interrupts taken on this CPU, for `cpus`/`timers`.
    pub interrupts: AtomicU64,
    /// This CPU's LAPIC timer rate (divide-by-16), from its calibration.
    pub timer_ticks_per_ms: AtomicU64,
}

// SAFETY: the `UnsafeCell` fields (`tables`, `lapic`) are only touched by the
// CPU that owns this area, through `current()`, with interrupts disabled
// (see `with_lapic` and `load_tables`). Everything else is immutable after
// creation or atomic.
unsafe impl Sync for PerCpu {}
// SAFETY: as above; the area is created on one CPU and then used on another,
// which is the point of it.
unsafe impl Send for PerCpu {}

static AREAS: [AtomicPtr<PerCpu>; MAX_CPUS] = [const { AtomicPtr::new(null_mut()) }; MAX_CPUS];

/// Returns the area of `cpu`, creating it (stacks, tables) on first use.
pub fn prepare(cpu: CpuId, apic_id: ApicId) -> Result<&'static PerCpu, MemoryError> {
    if let Some(area) = get(cpu) {
        return Ok(area);
    }
    let double_fault_stack = vm::alloc_stack(IST_STACK_PAGES)?;
    let nmi_stack = vm::alloc_stack(IST_STACK_PAGES)?;
    let area = Box::leak(Box::new(PerCpu {
        self_ptr: null_mut(),
        cpu,
        apic_id,
        stage: AtomicU32::new(ArchStage::Down as u32),
        kernel_stack: vm::alloc_stack(KERNEL_STACK_PAGES)?,
        double_fault_stack,
        nmi_stack,
        tables: UnsafeCell::new(CpuTables::new(double_fault_stack, nmi_stack)),
        lapic: UnsafeCell::new(None),
        apic_mode: AtomicU32::new(0),
        interrupts: AtomicU64::new(0),
        timer_ticks_per_ms: AtomicU64::new(0),
    }));
    area.self_ptr = area;
    AREAS[cpu.index()].store(area, Ordering::Release);
    Ok(area)
}

/// The area of `cpu`, if it was ever prepared.
pub fn get(cpu: CpuId) -> Option<&'static PerCpu> {
    let ptr = AREAS.get(cpu.index())?.load(Ordering::Acquire);
    // SAFETY: non-null entries point at leaked, never-freed areas.
    unsafe { ptr.as_ref() }
}

/// The running CPU's area.
///
/// Panics if called before this CPU ran [`PerCpu::install`].
pub fn current() -> &'static PerCpu {
    try_current().expect("per-CPU area not installed")
}

/// The running CPU's area, or `None` this early in boot.
pub fn try_current() -> Option<&'static PerCpu> {
    if GsBase::read().is_null() {
        return None;
    }
    let ptr: *const PerCpu;
    // SAFETY: GS points at an installed `PerCpu` whose first field is its
    // own address; the load has no side effects.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) ptr, options(nostack, readonly, preserves_flags))
    };
    // SAFETY: installed areas are leaked and live for ever.
    Some(unsafe { &*ptr })
}

/// The running CPU's logical id (CPU 0 before per-CPU setup).
pub fn current_cpu() -> CpuId {
    try_current().map_or(CpuId::BOOT, |p| p.cpu)
}

/// The running CPU's logical index, which `guard` keeps valid.
pub fn current_index(_guard: &crate::cpu::IrqGuard) -> usize {
    current_cpu().index()
}

impl PerCpu {
    /// Loads this CPU's GDT, TSS and the shared IDT, and points GS here.
    ///
    /// # Safety
    /// Must run on the CPU this area belongs to, with interrupts off, before
    /// anything on this CPU uses per-CPU data.
    pub unsafe fn install(&'static self) {
        // SAFETY: (1) we are the owning CPU, so nobody else touches
        // `tables`; (2) the area is leaked, so the tables never move.
        unsafe { CpuTables::load(self.tables.get()) };
        crate::interrupts::load_idt();
        GsBase::write(VirtAddr::from_ptr(self.self_ptr));
    }

    pub fn stage(&self) -> ArchStage {
        match self.stage.load(Ordering::Acquire) {
            1 => ArchStage::Kicked,
            2 => ArchStage::Alive,
            _ => ArchStage::Down,
        }
    }

    pub fn set_stage(&self, stage: ArchStage) {
        self.stage.store(stage as u32, Ordering::Release);
    }

    /// The LAPIC mode this CPU last came up in.
    pub fn apic_mode(&self) -> Option<ApicMode> {
        match self.apic_mode.load(Ordering::Acquire) {
            1 => Some(ApicMode::XApic),
            2 => Some(ApicMode::X2Apic),
            _ => None,
        }
    }

    pub(crate) fn set_apic_mode(&self, mode: ApicMode) {
        let raw = match mode {
            ApicMode::XApic => 1,
            ApicMode::X2Apic => 2,
        };
        self.apic_mode.store(raw, Ordering::Release);
    }

    /// Runs `f` on this CPU's LAPIC.
    ///
    /// Panics if `self` is not the running CPU's area: a LAPIC is only
    /// reachable from its own CPU.
    pub(crate) fn with_lapic<R>(&self, f: impl FnOnce(&mut Option<Lapic>) -> R) -> R {
        assert!(core::ptr::eq(self, current()), "LAPIC of another CPU");
        crate::cpu::without_interrupts(|| {
            // SAFETY: we are the owning CPU with interrupts off, so no other
            // reference to `lapic` exists for the duration of `f`.
            f(unsafe { &mut *self.lapic.get() })
        })
    }

    /// Whether `addr` is in one of this CPU's stack guard pages.
    pub fn guard_page_hit(&self, addr: VirtAddr) -> Option<&'static str> {
        [
            (&self.kernel_stack, "kernel stack"),
            (&self.double_fault_stack, "double-fault stack"),
            (&self.nmi_stack, "NMI stack"),
        ]
        .into_iter()
        .find(|(s, _)| s.guard_contains(addr))
        .map(|(_, name)| name)
    }
}
