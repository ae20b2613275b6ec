//! Per-CPU data: one slot for every CPU the kernel can track, in a static.
//!
//! Every per-CPU table of the kernel (run queues, timer queues, work
//! queues, hotplug flags, per-CPU threads) is a [`PerCpu`]. Its storage is
//! part of the kernel image and const-initialised, so there is nothing to
//! set up and no access can come "before init". A slot is reached either
//! as the running CPU's, which needs an [`IrqGuard`] (with interrupts off
//! the thread can neither be preempted nor migrate, so "the current CPU"
//! stays true while the borrow lives), or by CPU number, which needs the
//! data to be `Sync` (another CPU may use it at the same time).
//!
//! It owns only storage and indexing; what lives in a slot, and its
//! locking, belongs to the module that declares the static.

use arch::cpu::IrqGuard;
use arch::percpu::MAX_CPUS;
use hotplug::CpuId;

pub use arch::cpu::disable_irqs;

/// One `T` per possible CPU, indexed by logical CPU number.
pub struct PerCpu<T> {
    slots: [T; MAX_CPUS],
}

impl<T: Sync> PerCpu<T> {
    /// Storage for every CPU, each slot built from the same constant.
    pub const fn new(slots: [T; MAX_CPUS]) -> PerCpu<T> {
        PerCpu { slots }
    }

    /// The running CPU's slot; `guard` keeps it the running CPU's.
    pub fn current<'a>(&'a self, guard: &'a IrqGuard) -> &'a T {
        &self.slots[arch::percpu::current_index(guard)]
    }

    /// Runs `f` on the running CPU's number and slot, with interrupts off
    /// for exactly as long as `f` runs (a lock taken in `f` is released
    /// before interrupts come back on).
    pub fn with_current<R>(&self, f: impl FnOnce(CpuId, &T) -> R) -> R {
        let guard = disable_irqs();
        let result = f(current_cpu(&guard), self.current(&guard));
        drop(guard);
        result
    }

    /// `cpu`'s slot. CPU numbers come from the CPU table, which never holds
    /// more than `MAX_CPUS` entries; a larger one is a kernel bug.
    pub fn get(&self, cpu: CpuId) -> &T {
        &self.slots[cpu.index()]
    }
}

/// The running CPU's number, valid while `guard` is held.
pub fn current_cpu(guard: &IrqGuard) -> CpuId {
    CpuId(arch::percpu::current_index(guard) as u32)
}

/// The running CPU's number as of this call. With interrupts on the thread
/// may move right after, so this is for messages, for callers that already
/// run with interrupts off (interrupt handlers, `without_interrupts`), and
/// for bound threads, which never move.
pub fn this_cpu() -> CpuId {
    current_cpu(&disable_irqs())
}

/// Declares a [`PerCpu`] static whose every slot starts as `$init` (a
/// constant expression).
macro_rules! per_cpu {
    ($(#[$meta:meta])* $vis:vis static $name:ident: $ty:ty = $init:expr;) => {
        $(#[$meta])*
        $vis static $name: $crate::percpu::PerCpu<$ty> =
            $crate::percpu::PerCpu::new([const { $init }; arch::percpu::MAX_CPUS]);
    };
}
