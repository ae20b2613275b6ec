//! The kernel heap: a linked-list allocator that grows with the machine.
//!
//! `linked_list_allocator` is used rather than a hand-written allocator: it
//! is small, maintained by rust-osdev and already handles alignment and
//! coalescing. The lock is taken with interrupts off so an interrupt that
//! allocates on the same CPU cannot deadlock.
//!
//! The heap starts small (a fraction of usable memory, see [`init`]) and
//! maps more frames when an allocation does not fit, up to a bound fixed
//! at boot. Its whole bound is reserved as address space up front, so it
//! always grows at its top, as the allocator's `extend` needs. Growth runs
//! under the heap's lock with interrupts off and takes the VM lock, then
//! the frames lock; neither of those is ever held while allocating from
//! the heap, so the order cannot invert. An allocation that the bound or
//! the remaining frames cannot satisfy still gets null, and grows nothing.

use super::error::MemoryError;
use super::frames::{self, Claim};
use super::vm::{self, PAGE_SIZE};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use spin::Mutex;
use x86_64::VirtAddr;

const MIB: u64 = 1 << 20;
/// The heap first maps this fraction of usable memory...
const INITIAL_FRACTION: u64 = 32;
/// ...but at least this much (the kernel itself uses ~200 KiB at 4 CPUs,
/// ~400 KiB at 16)...
const INITIAL_FLOOR: u64 = 2 * MIB;
/// ...and at most the old fixed size; more comes on demand.
const INITIAL_CEILING: u64 = 32 * MIB;
/// The heap never grows past this fraction of usable memory, so a runaway
/// allocation leaves the rest to stacks and per-CPU areas...
const BOUND_FRACTION: u64 = 2;
/// ...nor past this much address space (an eighth of the kernel's slot).
const BOUND_CEILING: u64 = 64 << 30;
/// Smallest growth, so that a run of small allocations maps a batch of
/// pages once rather than one page each time.
const GROW_STEP_PAGES: u64 = 64;

struct GrowingHeap {
    heap: Heap,
    /// One past the last mapped byte: where the next growth maps.
    mapped_end: u64,
    /// One past the last byte the heap may ever map.
    bound_end: u64,
}

struct KernelHeap(Mutex<GrowingHeap>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(GrowingHeap {
    heap: Heap::empty(),
    mapped_end: 0,
    bound_end: 0,
}));

impl GrowingHeap {
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        if let Ok(block) = self.heap.allocate_first_fit(layout) {
            return Some(block);
        }
        self.grow_for(layout).ok()?;
        self.heap.allocate_first_fit(layout).ok()
    }

    /// Pages the heap may still map: what its bound leaves and the frames
    /// it could get now (the heap's reserve included).
    fn growable_pages(&self) -> u64 {
        let room = (self.bound_end - self.mapped_end) / PAGE_SIZE;
        room.min(frames::available_for(Claim::Heap))
    }

    /// Maps enough new pages at the top for `layout` to fit there whatever
    /// the last hole holds: its size, plus its alignment and a page for the
    /// padding in front of it. Nothing is mapped if that many cannot be had.
    fn grow_for(&mut self, layout: Layout) -> Result<(), MemoryError> {
        let need = (layout.size() as u64)
            .saturating_add(layout.align() as u64)
            .saturating_add(PAGE_SIZE)
            .div_ceil(PAGE_SIZE);
        let room = self.growable_pages();
        if need > room {
            return Err(MemoryError::OutOfFrames);
        }
        let pages = need.max(GROW_STEP_PAGES).min(room);
        vm::map_for_heap(VirtAddr::new(self.mapped_end), pages)?;
        let bytes = pages * PAGE_SIZE;
        // SAFETY: the pages just mapped start at `mapped_end`, which is the
        // heap's top (it was initialised and only ever extended up to
        // there), lie inside the range reserved for the heap alone, and stay
        // mapped for ever.
        unsafe { self.heap.extend(bytes as usize) };
        self.mapped_end += bytes;
        Ok(())
    }
}

// SAFETY: `Heap` hands out disjoint, suitably aligned blocks from memory we
// gave it (and only ever extend with freshly mapped pages at its top); the
// mutex serializes all access across CPUs and interrupts.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        x86_64::instructions::interrupts::without_interrupts(|| {
            self.0
                .lock()
                .allocate(layout)
                .map_or(core::ptr::null_mut(), |p| p.as_ptr())
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        x86_64::instructions::interrupts::without_interrupts(|| {
            // SAFETY: `ptr` came from `alloc` with the same layout
            // (GlobalAlloc's contract), so it is non-null and ours.
            unsafe {
                self.0
                    .lock()
                    .heap
                    .deallocate(NonNull::new_unchecked(ptr), layout)
            }
        })
    }
}

/// The heap's size at boot and the most it may grow to, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct HeapSizes {
    /// Mapped at boot.
    pub initial: u64,
    /// The bound growth never passes.
    pub bound: u64,
}

impl HeapSizes {
    /// The sizes for `usable_bytes` of RAM, in whole pages.
    fn for_usable(usable_bytes: u64) -> HeapSizes {
        let page_down = |bytes: u64| bytes / PAGE_SIZE * PAGE_SIZE;
        let bound = page_down((usable_bytes / BOUND_FRACTION).min(BOUND_CEILING));
        let initial = (usable_bytes / INITIAL_FRACTION).clamp(INITIAL_FLOOR, INITIAL_CEILING);
        HeapSizes {
            initial: page_down(initial.min(bound)),
            bound,
        }
    }
}

/// Reserves the heap's address space for its whole bound and maps the
/// initial part, both sized from `usable_bytes`.
pub(super) fn init(usable_bytes: u64) -> Result<HeapSizes, MemoryError> {
    let sizes = HeapSizes::for_usable(usable_bytes);
    if sizes.initial == 0 {
        return Err(MemoryError::OutOfFrames);
    }
    let start = vm::reserve_unmapped(sizes.bound / PAGE_SIZE)?;
    vm::map_for_heap(start, sizes.initial / PAGE_SIZE)?;
    x86_64::instructions::interrupts::without_interrupts(|| {
        let mut heap = HEAP.0.lock();
        // SAFETY: the range was just mapped, is unused, and is never
        // unmapped; the rest of the reserved range is the heap's alone.
        unsafe { heap.heap.init(start.as_mut_ptr(), sizes.initial as usize) };
        heap.mapped_end = start.as_u64() + sizes.initial;
        heap.bound_end = start.as_u64() + sizes.bound;
    });
    Ok(sizes)
}

/// Bytes an allocation could still get: the heap's free bytes plus what it
/// can still grow into (some may be too fragmented to use in one piece).
pub fn free() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let heap = HEAP.0.lock();
        heap.heap.free() + (heap.growable_pages() * PAGE_SIZE) as usize
    })
}

/// Bytes currently allocated from the heap.
pub fn used() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| HEAP.0.lock().heap.used())
}

/// Bytes the heap has mapped so far (it never shrinks).
pub fn size() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| HEAP.0.lock().heap.size())
}
