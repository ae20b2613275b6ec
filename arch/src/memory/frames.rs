//! The physical frame allocator.
//!
//! Built from the bootloader's memory map: a bump pointer over the usable
//! regions above 1 MiB, plus an intrusive free list threaded through freed
//! frames via the direct map. Memory below 1 MiB is handed out only by
//! `take_low_pages`, for the AP trampoline.
//!
//! The last [`HEAP_RESERVE_FRAMES`] frames are kept for the growing heap
//! ([`Claim::Heap`]): stacks and per-CPU areas, which report running out
//! as an error, are refused first, while the heap, whose failure most of
//! the kernel cannot report (`Box::new` panics), can still grow.
//!
//! Nothing here allocates from the heap: the heap calls in with its own
//! lock held (lock order heap, then vm, then frames). The lock is always
//! taken with interrupts off, so an interrupt handler whose allocation
//! grows the heap can never find it held by the code it interrupted.

use super::direct_map::phys_to_virt;
use bootloader_api::info::{MemoryRegion, MemoryRegionKind};
use spin::Mutex;
use x86_64::structures::paging::{FrameAllocator, FrameDeallocator, PhysFrame, Size4KiB};
use x86_64::PhysAddr;

const PAGE: u64 = 4096;
const ONE_MIB: u64 = 0x10_0000;
const MAX_REGIONS: usize = 128;

/// Frames (1 MiB) only heap growth may take. Enough for the heap to keep
/// serving the console and the hotplug engine once stacks have taken
/// everything else: the kernel's whole heap use at 16 CPUs is ~400 KiB.
pub const HEAP_RESERVE_FRAMES: u64 = 256;

/// Who asks for a frame, and so whether the heap's reserve may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// Stacks, page tables, per-CPU areas: refused at the reserve.
    General,
    /// Heap growth: may take the very last frame.
    Heap,
}

impl Claim {
    /// Free frames this claim must leave untouched.
    fn keep(self) -> u64 {
        match self {
            Claim::General => HEAP_RESERVE_FRAMES,
            Claim::Heap => 0,
        }
    }
}

#[derive(Clone, Copy)]
struct Range {
    start: u64,
    end: u64,
}

struct Frames {
    regions: [Range; MAX_REGIONS],
    count: usize,
    /// Index of the region the bump pointer is in, and the pointer itself.
    current: usize,
    next: u64,
    /// Head of the list of freed frames (0 = empty).
    free_head: u64,
    /// Frames above 1 MiB not handed out: the bump pointer's rest plus the
    /// free list.
    available: u64,
    low: [Range; MAX_REGIONS],
    low_count: usize,
}

static FRAMES: Mutex<Frames> = Mutex::new(Frames {
    regions: [Range { start: 0, end: 0 }; MAX_REGIONS],
    count: 0,
    current: 0,
    next: 0,
    free_head: 0,
    available: 0,
    low: [Range { start: 0, end: 0 }; MAX_REGIONS],
    low_count: 0,
});

/// Records the usable regions; returns how many usable bytes there are.
pub(super) fn init(regions: &[MemoryRegion]) -> u64 {
    let mut f = FRAMES.lock();
    let mut total = 0;
    for r in regions
        .iter()
        .filter(|r| r.kind == MemoryRegionKind::Usable)
    {
        let start = r.start.next_multiple_of(PAGE);
        let end = r.end & !(PAGE - 1);
        if start >= end {
            continue;
        }
        total += end - start;
        // Page 0 stays unused so a null physical address is never handed out.
        let low = Range {
            start: start.max(PAGE),
            end: end.min(ONE_MIB),
        };
        if low.start < low.end && f.low_count < MAX_REGIONS {
            let i = f.low_count;
            f.low[i] = low;
            f.low_count += 1;
        }
        let high = Range {
            start: start.max(ONE_MIB),
            end,
        };
        if high.start < high.end && f.count < MAX_REGIONS {
            let i = f.count;
            f.regions[i] = high;
            f.count += 1;
            f.available += (high.end - high.start) / PAGE;
        }
    }
    f.current = 0;
    f.next = f.regions[0].start;
    total
}

/// Takes `pages` consecutive usable pages below 1 MiB, for ever.
pub(super) fn take_low_pages(pages: usize) -> Option<PhysAddr> {
    let mut f = FRAMES.lock();
    let want = pages as u64 * PAGE;
    let count = f.low_count;
    // Prefer the highest fit: the lowest pages are the likeliest to hold
    // firmware leftovers that some other consumer might still expect.
    let r = f.low[..count]
        .iter_mut()
        .rev()
        .find(|r| r.end - r.start >= want)?;
    r.end -= want;
    Some(PhysAddr::new(r.end))
}

/// Allocates one zeroed frame, short of the heap's reserve.
pub fn alloc_zeroed() -> Option<PhysFrame> {
    alloc_zeroed_for(Claim::General)
}

/// Allocates one zeroed frame for `claim`.
pub(super) fn alloc_zeroed_for(claim: Claim) -> Option<PhysFrame> {
    let frame = with_frames(|f| f.alloc(claim))?;
    let ptr = phys_to_virt(frame.start_address()).as_mut_ptr::<u8>();
    // SAFETY: the frame was just taken from the allocator, so nothing else
    // refers to it, and the direct map covers all usable RAM.
    unsafe { core::ptr::write_bytes(ptr, 0, PAGE as usize) };
    Some(frame)
}

/// Returns a frame obtained from [`alloc_zeroed`].
///
/// # Safety
/// Nothing may use the frame after this call, and it must have come from
/// this allocator.
pub unsafe fn free(frame: PhysFrame) {
    with_frames(|f| f.free(frame));
}

/// Free frames `claim` could still get (the heap counts its reserve).
pub(super) fn available_for(claim: Claim) -> u64 {
    with_frames(|f| f.available.saturating_sub(claim.keep()))
}

fn with_frames<R>(f: impl FnOnce(&mut Frames) -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(|| f(&mut FRAMES.lock()))
}

impl Frames {
    fn alloc(&mut self, claim: Claim) -> Option<PhysFrame> {
        if self.available <= claim.keep() {
            return None;
        }
        let frame = if self.free_head != 0 {
            let head = self.free_head;
            // SAFETY: `head` is a frame on our free list; its first 8 bytes
            // hold the next link, written by `free`.
            self.free_head = unsafe { *phys_to_virt(PhysAddr::new(head)).as_ptr::<u64>() };
            head
        } else {
            while self.current < self.count && self.next >= self.regions[self.current].end {
                self.current += 1;
                if self.current < self.count {
                    self.next = self.regions[self.current].start;
                }
            }
            if self.current >= self.count {
                return None;
            }
            let frame = self.next;
            self.next += PAGE;
            frame
        };
        self.available -= 1;
        Some(PhysFrame::containing_address(PhysAddr::new(frame)))
    }

    fn free(&mut self, frame: PhysFrame) {
        let addr = frame.start_address();
        // SAFETY: the caller of `free` gave up the frame; we own it again and
        // may store the free-list link in it.
        unsafe { *phys_to_virt(addr).as_mut_ptr::<u64>() = self.free_head };
        self.free_head = addr.as_u64();
        self.available += 1;
    }
}

/// Adapter for the `x86_64` crate's page-table mapper: page tables for a
/// mapping come out of the same claim as the mapping's own frames.
pub(super) struct GlobalFrames(pub(super) Claim);

// SAFETY: `alloc_zeroed_for` returns frames that are unused and zeroed,
// which is what a page-table mapper needs for new tables.
unsafe impl FrameAllocator<Size4KiB> for GlobalFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        alloc_zeroed_for(self.0)
    }
}

impl FrameDeallocator<Size4KiB> for GlobalFrames {
    unsafe fn deallocate_frame(&mut self, frame: PhysFrame<Size4KiB>) {
        // SAFETY: forwarded contract of `FrameDeallocator::deallocate_frame`.
        unsafe { free(frame) }
    }
}
