//! Per-CPU areas, reached through the GS base.
//!
//! Owns each CPU's [`PerCpu`]: its identity (the kernel's logical CPU index,
//! a plain `usize`, and its [`ApicId`]), its stacks, descriptor tables and
//! LAPIC. The boot CPU's area is a static, made current first thing at boot
//! (`install::adopt_boot_cpu`); every other area is allocated once
//! by the control CPU, the first time its CPU is prepared, and kept for
//! ever: a CPU that goes offline and comes back reuses its stacks and
//! tables. GS points at the running CPU's area, whose first word points at
//! itself, so [`current`] is one load.
//!
//! This module never makes an area current itself: that is
//! the `install` module's job, which checks the CPU first.
//!
//! It also owns [`IrqGuard`], the proof that the current CPU cannot change,
//! because each CPU counts the guards held on it: a context switch is only
//! allowed with exactly one (the switch's own), so no borrow that relied on
//! another guard survives a switch to another CPU.

use crate::apic::lapic::{ApicMode, Lapic};
use crate::gdt::CpuTables;
use crate::memory::vm::{self, GuardedStack};
use crate::memory::MemoryError;
use crate::ApicId;
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use spin::Once;
use x86_64::instructions::interrupts;
use x86_64::registers::model_specific::GsBase;
use x86_64::VirtAddr;

/// Logical CPUs the kernel can track: the 1,024 it supports (`-smp` up
/// to 1024). Every per-CPU table is a static of this many slots, so each
/// slot costs memory on every machine; a MADT with more CPUs has the rest
/// ignored, with a message.
pub const MAX_CPUS: usize = 1024;

/// Kernel stack pages per CPU (plus one guard page).
pub const KERNEL_STACK_PAGES: u64 = 16;
/// Pages of each IST stack (plus one guard page).
pub const IST_STACK_PAGES: u64 = 4;

/// The logical index of the boot CPU.
pub const BOOT_INDEX: usize = 0;

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

impl ArchStage {
    fn from_raw(raw: u32) -> ArchStage {
        match raw {
            1 => ArchStage::Kicked,
            2 => ArchStage::Alive,
            _ => ArchStage::Down,
        }
    }

    /// The stage as messages print it.
    pub fn name(self) -> &'static str {
        match self {
            ArchStage::Down => "down",
            ArchStage::Kicked => "kicked",
            ArchStage::Alive => "alive",
        }
    }
}

/// The stacks a CPU owns: the one an AP starts on, and one per IST slot.
pub(crate) struct CpuStacks {
    pub(crate) kernel: GuardedStack,
    pub(crate) double_fault: GuardedStack,
    pub(crate) nmi: GuardedStack,
}

impl CpuStacks {
    fn alloc() -> Result<CpuStacks, MemoryError> {
        Ok(CpuStacks {
            double_fault: vm::alloc_stack(IST_STACK_PAGES)?,
            nmi: vm::alloc_stack(IST_STACK_PAGES)?,
            kernel: vm::alloc_stack(KERNEL_STACK_PAGES)?,
        })
    }
}

/// One CPU's private area.
#[repr(C)]
pub struct PerCpu {
    /// Must stay the first field: `current()` reads it at `gs:0`. Set when
    /// the area is made current.
    self_ptr: AtomicPtr<PerCpu>,
    index: usize,
    /// Set at creation, except for the boot area, which learns it from
    /// CPUID when the boot CPU adopts it.
    apic_id: AtomicU32,
    stage: AtomicU32,
    stacks: Once<CpuStacks>,
    tables: UnsafeCell<CpuTables>,
    lapic: UnsafeCell<Option<Lapic>>,
    /// The LAPIC mode this CPU last came up in (0 = never).
    apic_mode: AtomicU32,
    /// Interrupts taken on this CPU (timer, wake, hotplug, stop), for the
    /// `cpus` command.
    pub interrupts: AtomicU64,
    /// This CPU's LAPIC timer rate (divide-by-16), from its calibration.
    timer_ticks_per_ms: AtomicU64,
    /// [`IrqGuard`]s alive on this CPU, whichever context holds them. Only
    /// this CPU touches it, with interrupts off.
    irq_guards: AtomicU32,
}

// SAFETY: the `UnsafeCell` fields (`tables`, `lapic`) are only touched by the
// CPU that owns this area with interrupts disabled: `tables` by
// `install` (which checks the CPU), `lapic` through `with_lapic` (which
// checks that the area is current). Everything else is immutable after
// creation, atomic, or a `Once`.
unsafe impl Sync for PerCpu {}
// SAFETY: as above; the area is created on one CPU and then used on another,
// which is the point of it.
unsafe impl Send for PerCpu {}

impl PerCpu {
    const fn new(index: usize, apic_id: ApicId) -> PerCpu {
        PerCpu {
            self_ptr: AtomicPtr::new(null_mut()),
            index,
            apic_id: AtomicU32::new(apic_id.0),
            stage: AtomicU32::new(ArchStage::Down as u32),
            stacks: Once::new(),
            tables: UnsafeCell::new(CpuTables::new()),
            lapic: UnsafeCell::new(None),
            apic_mode: AtomicU32::new(0),
            interrupts: AtomicU64::new(0),
            timer_ticks_per_ms: AtomicU64::new(0),
            irq_guards: AtomicU32::new(0),
        }
    }
}

/// The boot CPU's area: static, so it can be current before memory exists.
static BOOT_AREA: PerCpu = PerCpu::new(BOOT_INDEX, ApicId(u32::MAX));

static AREAS: [AtomicPtr<PerCpu>; MAX_CPUS] = [const { AtomicPtr::new(null_mut()) }; MAX_CPUS];
/// One past the highest index of a prepared area: scans over the areas stop
/// there instead of walking all `MAX_CPUS` slots (thousands of loads under
/// TCG, on every kick).
static AREAS_END: AtomicUsize = AtomicUsize::new(BOOT_INDEX + 1);

/// Returns the area of logical CPU `index`, creating it (stacks, tables) on
/// first use. The boot CPU's area always exists; its stacks come with
/// `install::init_boot_cpu_tables`.
pub fn prepare(index: usize, apic_id: ApicId) -> Result<&'static PerCpu, MemoryError> {
    if let Some(area) = get(index) {
        return Ok(area);
    }
    let slot = AREAS.get(index).ok_or(MemoryError::TooManyCpus)?;
    let stacks = CpuStacks::alloc()?;
    let area = Box::leak(Box::new(PerCpu::new(index, apic_id)));
    area.stacks.call_once(|| stacks);
    // Only the control CPU prepares areas (hotplug operations are
    // serialized), so nobody races us for the slot.
    slot.store(area, Ordering::Release);
    AREAS_END.fetch_max(index + 1, Ordering::AcqRel);
    Ok(area)
}

/// The area of logical CPU `index`, if it exists (the boot CPU's always
/// does; another CPU's once it was prepared).
pub fn get(index: usize) -> Option<&'static PerCpu> {
    if index == BOOT_INDEX {
        return Some(&BOOT_AREA);
    }
    let ptr = AREAS.get(index)?.load(Ordering::Acquire);
    // SAFETY: non-null entries point at leaked, never-freed areas.
    unsafe { ptr.as_ref() }
}

/// The logical index of an area other than `area` that records the same
/// APIC id and is not [`ArchStage::Down`], if there is one: its CPU runs (or
/// is starting), and an INIT meant for `area` would hit it. Scans the
/// prepared areas only.
pub(crate) fn live_area_with_apic_id(area: &PerCpu) -> Option<usize> {
    let apic_id = area.apic_id();
    (0..AREAS_END.load(Ordering::Acquire))
        .filter_map(get)
        .find(|other| {
            !core::ptr::eq(*other, area)
                && other.apic_id() == apic_id
                && other.stage() != ArchStage::Down
        })
        .map(PerCpu::index)
}

/// The boot CPU's area.
pub(crate) fn boot_area() -> &'static PerCpu {
    &BOOT_AREA
}

/// The running CPU's area.
///
/// Every CPU makes its area current before it runs any other kernel code
/// (the boot CPU first thing in `kernel_main`, an AP first thing in its
/// entry), so this panics only if that order is broken.
pub fn current() -> &'static PerCpu {
    try_current().expect("per-CPU area not installed")
}

/// The running CPU's area, or `None` if none was made current yet.
pub fn try_current() -> Option<&'static PerCpu> {
    if GsBase::read().is_null() {
        return None;
    }
    let ptr: *const PerCpu;
    // SAFETY: GS is only ever written by `make_current`, which points it at
    // a live `PerCpu` whose first field is its own address; the load has
    // no side effects.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) ptr, options(nostack, readonly, preserves_flags))
    };
    // SAFETY: areas are static or leaked and live for ever.
    Some(unsafe { &*ptr })
}

/// The running CPU's logical index, which `guard` keeps valid.
pub fn current_index(_guard: &IrqGuard) -> usize {
    current().index
}

/// Proof that interrupts are off on this CPU: while one is held, the running
/// thread can be neither preempted nor moved to another CPU, so whatever it
/// learnt about "the current CPU" stays true. Dropping it restores the
/// interrupt flag as it was. Not `Send`: it speaks for one CPU.
///
/// A context switch would break the promise (the thread may resume
/// elsewhere), so `context::switch_to` takes the guard by `&mut` (nothing
/// borrowed from it survives the call) and refuses to switch while any
/// other guard is held on this CPU (each CPU counts them).
pub struct IrqGuard {
    was_enabled: bool,
    /// Whether this guard was counted (a per-CPU area was current).
    counted: bool,
    _not_send: core::marker::PhantomData<*const ()>,
}

/// Disables interrupts until the returned guard is dropped.
pub fn disable_irqs() -> IrqGuard {
    let was_enabled = interrupts::are_enabled();
    interrupts::disable();
    let area = try_current();
    if let Some(area) = area {
        area.count_guards(1);
    }
    IrqGuard {
        was_enabled,
        counted: area.is_some(),
        _not_send: core::marker::PhantomData,
    }
}

/// Panics if an [`IrqGuard`] is alive on this CPU. Called, with interrupts
/// off, right before something turns them on. With interrupts already on
/// there is nothing to check: no guard can be alive then, since none is
/// made without turning them off and every way to turn them on comes here.
pub(crate) fn assert_no_irq_guard(what: &str) {
    if x86_64::instructions::interrupts::are_enabled() {
        return;
    }
    // Interrupts are off, so this stays the running CPU's area.
    if let Some(area) = try_current() {
        let held = area.irq_guards();
        assert!(held == 0, "{what} while {held} IrqGuard(s) are held");
    }
}

impl Drop for IrqGuard {
    fn drop(&mut self) {
        // Possibly on another CPU than the one that counted us (the holder
        // was switched out and resumed elsewhere): that CPU's count includes
        // us, since a switch happens with exactly one guard held.
        if self.counted {
            if let Some(area) = try_current() {
                area.count_guards(-1);
            }
        }
        // Checked: a guard made inside this one and still alive (dropped
        // out of order) would otherwise find interrupts on.
        if self.was_enabled {
            assert_no_irq_guard("interrupts enabled");
            x86_64::instructions::interrupts::enable();
        }
    }
}

/// The running CPU's logical index as of this call. With interrupts on the
/// thread may move to another CPU right after, so use it only for reports
/// (logs, crash dumps) or where the caller has interrupts off; everything
/// else should hold an [`IrqGuard`] and call [`current_index`].
pub fn current_index_snapshot() -> usize {
    interrupts::without_interrupts(|| current().index)
}

impl PerCpu {
    /// The kernel's logical index of this CPU.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The APIC id this area belongs to.
    pub fn apic_id(&self) -> ApicId {
        ApicId(self.apic_id.load(Ordering::Acquire))
    }

    pub(crate) fn set_apic_id(&self, apic_id: ApicId) {
        self.apic_id.store(apic_id.0, Ordering::Release);
    }

    /// Where this CPU is in its arch-level start-up.
    pub fn stage(&self) -> ArchStage {
        ArchStage::from_raw(self.stage.load(Ordering::Acquire))
    }

    pub(crate) fn set_stage(&self, stage: ArchStage) {
        self.stage.store(stage as u32, Ordering::Release);
    }

    /// Moves the stage from `from` to `to` in one atomic step, or fails
    /// with the stage it found: of two CPUs racing to move it, one wins.
    pub(crate) fn move_stage(&self, from: ArchStage, to: ArchStage) -> Result<(), ArchStage> {
        self.stage
            .compare_exchange(from as u32, to as u32, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(ArchStage::from_raw)
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

    pub(crate) fn timer_ticks_per_ms(&self) -> u64 {
        self.timer_ticks_per_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn set_timer_ticks_per_ms(&self, ticks: u64) {
        self.timer_ticks_per_ms.store(ticks, Ordering::Relaxed);
    }

    /// Adds `delta` to this CPU's guard count (saturating at 0). Only the
    /// CPU itself calls this, with interrupts off, so load and store need
    /// not be one atomic step.
    fn count_guards(&self, delta: i32) {
        let held = self.irq_guards.load(Ordering::Relaxed);
        self.irq_guards
            .store(held.saturating_add_signed(delta), Ordering::Relaxed);
    }

    /// How many [`IrqGuard`]s are alive on this CPU. Meaningful only on
    /// this CPU with interrupts off.
    pub(crate) fn irq_guards(&self) -> u32 {
        self.irq_guards.load(Ordering::Relaxed)
    }

    /// Records that the context now running holds no guard (a fresh one,
    /// whose predecessor's guard stays frozen in the predecessor's frame).
    pub(crate) fn clear_irq_guards(&self) {
        self.irq_guards.store(0, Ordering::Relaxed);
    }

    /// This CPU's stacks, once allocated.
    pub(crate) fn stacks(&self) -> Option<&CpuStacks> {
        self.stacks.get()
    }

    /// Allocates the stacks if this area has none yet (the boot area).
    pub(crate) fn ensure_stacks(&self) -> Result<&CpuStacks, MemoryError> {
        if let Some(stacks) = self.stacks.get() {
            return Ok(stacks);
        }
        let stacks = CpuStacks::alloc()?;
        Ok(self.stacks.call_once(|| stacks))
    }

    /// Rebuilds and loads this CPU's GDT and TSS (IST slots from `stacks`).
    ///
    /// # Safety
    /// Must run on the CPU this area belongs to, with interrupts off, and
    /// nothing else may be using the tables (the CPU is not running on
    /// them yet in this incarnation, or is reloading them from scratch).
    pub(crate) unsafe fn load_tables(&'static self, stacks: &CpuStacks) {
        // SAFETY: forwarded contract: we are the owning CPU and nobody else
        // touches `tables`; the area is static or leaked, so the tables
        // never move.
        unsafe {
            CpuTables::load(
                self.tables.get(),
                stacks.double_fault.top(),
                stacks.nmi.top(),
            )
        };
    }

    /// Points GS at this area.
    ///
    /// # Safety
    /// Must run on the CPU this area belongs to, and that CPU must not have
    /// another area current: code that learnt "the current CPU" from the
    /// old area would be wrong.
    pub(crate) unsafe fn make_current(&'static self) {
        // A CPU that makes an area current holds no guard: nothing of a
        // previous incarnation runs any more.
        self.irq_guards.store(0, Ordering::Relaxed);
        self.self_ptr
            .store(self as *const PerCpu as *mut PerCpu, Ordering::Release);
        GsBase::write(VirtAddr::from_ptr(self as *const PerCpu));
    }

    /// Runs `f` on this CPU's LAPIC.
    ///
    /// Panics if `self` is not the running CPU's area: a LAPIC is only
    /// reachable from its own CPU.
    pub(crate) fn with_lapic<R>(&self, f: impl FnOnce(&mut Option<Lapic>) -> R) -> R {
        interrupts::without_interrupts(|| {
            assert!(core::ptr::eq(self, current()), "LAPIC of another CPU");
            // SAFETY: we are the owning CPU with interrupts off, so no other
            // reference to `lapic` exists for the duration of `f` (`f` gets
            // no way back to this area's LAPIC).
            f(unsafe { &mut *self.lapic.get() })
        })
    }

    /// Which of this CPU's stack guard pages `addr` falls in, if any.
    pub fn guard_page_hit(&self, addr: VirtAddr) -> Option<&'static str> {
        let stacks = self.stacks.get()?;
        [
            (&stacks.kernel, "kernel stack"),
            (&stacks.double_fault, "double-fault stack"),
            (&stacks.nmi, "NMI stack"),
        ]
        .into_iter()
        .find(|(s, _)| s.guard_contains(addr))
        .map(|(_, name)| name)
    }
}
