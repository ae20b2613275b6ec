//! The kernel heap: a linked-list allocator over pages of the kernel VM.
//!
//! `linked_list_allocator` is used rather than a hand-written allocator: it
//! is small, maintained by rust-osdev and already handles alignment and
//! coalescing. The lock is taken with interrupts off so an interrupt that
//! allocates on the same CPU cannot deadlock.

use super::error::MemoryError;
use super::vm;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use spin::Mutex;

const HEAP_PAGES: u64 = 8192; // 32 MiB

struct KernelHeap(Mutex<Heap>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(Heap::empty()));

// SAFETY: `Heap` hands out disjoint, suitably aligned blocks from memory we
// gave it; the mutex serializes all access across CPUs and interrupts.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        x86_64::instructions::interrupts::without_interrupts(|| {
            self.0
                .lock()
                .allocate_first_fit(layout)
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
                    .deallocate(NonNull::new_unchecked(ptr), layout)
            }
        })
    }
}

pub(super) fn init() -> Result<usize, MemoryError> {
    let start = vm::map_anonymous(HEAP_PAGES)?;
    let size = (HEAP_PAGES * vm::PAGE_SIZE) as usize;
    // SAFETY: the range was just mapped, is unused, and is never unmapped.
    unsafe { HEAP.0.lock().init(start.as_mut_ptr(), size) };
    Ok(size)
}

/// Bytes of the heap not allocated now (some may be too fragmented to use
/// in one piece).
pub fn free() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| HEAP.0.lock().free())
}

/// Bytes currently allocated from the heap.
pub fn used() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| HEAP.0.lock().used())
}
