//! The table an AP finds its start parameters in, by its own APIC id: one
//! slot per logical CPU, so any number of APs may run the trampoline at
//! once (Linux does the same with `cpuid_to_apicid[]` since 6.5).
//!
//! Owns the slots and their lifetime: a kick arms its CPU's slot before the
//! SIPI (APIC id last), the AP's trampoline scans the armed slots for its
//! APIC id and takes its stack and argument from the one it finds, and the
//! kicker disarms the slot once the kick is over (alive, failed or
//! cancelled). It never sends an IPI nor moves a CPU's stage; `smp` does.
//!
//! Slot `i` is written only by a kick of logical CPU `i`, which holds that
//! CPU's area in `Kicked` (a compare-exchange, so one kick at a time per
//! CPU), and by that CPU itself while it starts. Two armed slots never
//! share an APIC id: a kick refuses an APIC id another area that is not
//! down records, and a slot is disarmed before its area goes back down.

use crate::ap_failure;
use crate::percpu::MAX_CPUS;
use crate::ApicId;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The APIC id of a slot no kick has armed. `0xffff_ffff` is the x2APIC
/// broadcast destination, never a CPU's own id (SDM Vol. 3A 11.12.9), so
/// no AP ever matches it.
const EMPTY: u32 = u32::MAX;

/// One AP's start parameters, read by the trampoline's assembly. Update
/// the assembly if this layout changes; the asserts below catch a mismatch.
#[repr(C, align(64))]
pub(crate) struct ApSlot {
    /// The APIC id of the CPU being kicked, [`EMPTY`] when not armed.
    /// Written last when arming, first when disarming.
    apic_id: AtomicU32,
    /// Set to 1 by the AP in the trampoline once it found this slot, still
    /// on no stack: proof that a SIPI arrived, so the kicker knows whether
    /// a second one is needed.
    started: AtomicU32,
    /// Top of the AP's kernel stack (kernel virtual address).
    stack_top: AtomicU64,
    /// Passed to the entry in RDI: the address of the CPU's `PerCpu`.
    arg: AtomicU64,
    /// Why the AP gave up on its own ([`ap_failure::ApFailure::encode`]),
    /// [`ap_failure::NONE`] while it has not. An atomic, not a lock: the AP
    /// may be forced down with INIT at any instruction.
    failure: AtomicU64,
    /// `time::now_ns` when the first SIPI went out.
    kicked_at_ns: AtomicU64,
    /// APIC id of the CPU waiting for this one (to come alive, or to
    /// park), which it wakes.
    waiter: AtomicU32,
}

/// The slots, behind the count of slots the trampoline has to scan.
#[repr(C, align(64))]
pub(crate) struct ApTable {
    /// One past the highest slot ever armed: the trampoline scans no
    /// further.
    end: AtomicU64,
    slots: [ApSlot; MAX_CPUS],
}

/// Offsets the trampoline's assembly uses.
pub(crate) const TABLE_END: usize = offset_of!(ApTable, end);
pub(crate) const TABLE_SLOTS: usize = offset_of!(ApTable, slots);
pub(crate) const SLOT_SIZE: usize = size_of::<ApSlot>();
pub(crate) const SLOT_APIC_ID: usize = offset_of!(ApSlot, apic_id);
pub(crate) const SLOT_STARTED: usize = offset_of!(ApSlot, started);
pub(crate) const SLOT_STACK_TOP: usize = offset_of!(ApSlot, stack_top);
pub(crate) const SLOT_ARG: usize = offset_of!(ApSlot, arg);

const _: () = {
    assert!(SLOT_SIZE == 64);
    assert!(SLOT_APIC_ID == 0);
    assert!(SLOT_STARTED == 4);
    assert!(SLOT_STACK_TOP == 8);
    assert!(SLOT_ARG == 16);
    assert!(TABLE_END == 0);
    assert!(TABLE_SLOTS == 64);
};

impl ApSlot {
    const fn new() -> ApSlot {
        ApSlot {
            apic_id: AtomicU32::new(EMPTY),
            started: AtomicU32::new(0),
            stack_top: AtomicU64::new(0),
            arg: AtomicU64::new(0),
            failure: AtomicU64::new(ap_failure::NONE),
            kicked_at_ns: AtomicU64::new(0),
            waiter: AtomicU32::new(0),
        }
    }
}

/// In the kernel image, which the trampoline's page table maps (it copies
/// the kernel's top-level entries), so the AP reads it in 64-bit mode.
static TABLE: ApTable = ApTable {
    end: AtomicU64::new(0),
    slots: [const { ApSlot::new() }; MAX_CPUS],
};

/// The table's kernel virtual address, for the trampoline's parameters.
pub(crate) fn table_address() -> u64 {
    &TABLE as *const ApTable as u64
}

/// The slot of logical CPU `index` (an area's index is below `MAX_CPUS`).
pub(crate) fn slot(index: usize) -> &'static ApSlot {
    &TABLE.slots[index]
}

impl ApSlot {
    /// Fills the slot for a kick of `apic_id` and arms it. The caller holds
    /// the slot's area in `Kicked`, so no one else writes the slot, and no
    /// AP with this APIC id runs yet (it gets INIT and SIPI after this).
    pub(crate) fn arm(
        &self,
        index: usize,
        apic_id: ApicId,
        stack_top: u64,
        arg: u64,
        waiter: ApicId,
    ) {
        self.started.store(0, Ordering::Relaxed);
        self.failure.store(ap_failure::NONE, Ordering::Relaxed);
        self.stack_top.store(stack_top, Ordering::Relaxed);
        self.arg.store(arg, Ordering::Relaxed);
        self.waiter.store(waiter.0, Ordering::Relaxed);
        TABLE.end.fetch_max(index as u64 + 1, Ordering::Relaxed);
        // Release: an AP that reads this id reads the fields above too.
        self.apic_id.store(apic_id.0, Ordering::Release);
    }

    /// Whether a kick of `apic_id` is outstanding (armed, not yet over).
    pub(crate) fn armed_for(&self, apic_id: ApicId) -> bool {
        self.apic_id.load(Ordering::Acquire) == apic_id.0
    }

    /// The kick is over: no AP finds this slot any more. An AP that runs
    /// the trampoline after this halts there (until the next INIT).
    pub(crate) fn disarm(&self) {
        self.apic_id.store(EMPTY, Ordering::Release);
    }

    /// Whether the AP got as far as finding this slot.
    pub(crate) fn started(&self) -> bool {
        self.started.load(Ordering::Acquire) != 0
    }

    /// Records when the first SIPI went out.
    pub(crate) fn set_kicked_at(&self, ns: u64) {
        self.kicked_at_ns.store(ns, Ordering::Relaxed);
    }

    /// When the first SIPI went out.
    pub(crate) fn kicked_at_ns(&self) -> u64 {
        self.kicked_at_ns.load(Ordering::Relaxed)
    }

    /// The AP's own reason for giving up, if it stored one.
    pub(crate) fn failure(&self) -> u64 {
        self.failure.load(Ordering::Acquire)
    }

    /// The AP gives up: stored before it wakes its waiter.
    pub(crate) fn set_failure(&self, raw: u64) {
        self.failure.store(raw, Ordering::Release);
    }

    /// Names the running CPU as the one waiting for this AP. SeqCst, like
    /// the AP's change of stage and its read of [`ApSlot::waiter`]: either
    /// the waiter sees the new stage when it checks, or the AP sees this
    /// waiter and wakes it.
    pub(crate) fn set_waiter(&self, waiter: ApicId) {
        self.waiter.store(waiter.0, Ordering::SeqCst);
    }

    /// The CPU to wake once alive, parked or given up.
    pub(crate) fn waiter(&self) -> ApicId {
        ApicId(self.waiter.load(Ordering::SeqCst))
    }
}
