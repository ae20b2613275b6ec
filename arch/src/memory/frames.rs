//! The physical frame allocator.
//!
//! Built from the bootloader's memory map: a bump pointer over the usable
//! regions above 1 MiB, plus an intrusive free list threaded through freed
//! frames via the direct map. Memory below 1 MiB is handed out only by
//! `take_low_pages`, for the AP trampoline.

use super::direct_map::phys_to_virt;
use bootloader_api::info::{MemoryRegion, MemoryRegionKind};
use spin::Mutex;
use x86_64::structures::paging::{FrameAllocator, FrameDeallocator, PhysFrame, Size4KiB};
use x86_64::PhysAddr;

const PAGE: u64 = 4096;
const ONE_MIB: u64 = 0x10_0000;
const MAX_REGIONS: usize = 128;

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
    low: [Range; MAX_REGIONS],
    low_count: usize,
}

static FRAMES: Mutex<Frames> = Mutex::new(Frames {
    regions: [Range { start: 0, end: 0 }; MAX_REGIONS],
    count: 0,
    current: 0,
    next: 0,
    free_head: 0,
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

/// Allocates one zeroed frame.
pub fn alloc_zeroed() -> Option<PhysFrame> {
    let frame = FRAMES.lock().alloc()?;
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
    FRAMES.lock().free(frame);
}

impl Frames {
    fn alloc(&mut self) -> Option<PhysFrame> {
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
        Some(PhysFrame::containing_address(PhysAddr::new(frame)))
    }

    fn free(&mut self, frame: PhysFrame) {
        let addr = frame.start_address();
        // SAFETY: the caller of `free` gave up the frame; we own it again and
        // may store the free-list link in it.
        unsafe { *phys_to_virt(addr).as_mut_ptr::<u64>() = self.free_head };
        self.free_head = addr.as_u64();
    }
}

/// Adapter for the `x86_64` crate's page-table mapper.
pub(super) struct GlobalFrames;

// SAFETY: `alloc_zeroed` returns frames that are unused and zeroed, which is
// what a page-table mapper needs for new tables.
unsafe impl FrameAllocator<Size4KiB> for GlobalFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        alloc_zeroed()
    }
}

impl FrameDeallocator<Size4KiB> for GlobalFrames {
    unsafe fn deallocate_frame(&mut self, frame: PhysFrame<Size4KiB>) {
        // SAFETY: forwarded contract of `FrameDeallocator::deallocate_frame`.
        unsafe { free(frame) }
    }
}
