//! The kernel's own virtual address space: guarded stacks, heap, MMIO.
//!
//! Everything lives in one top-level (PML4) slot that was free when the
//! bootloader handed over. The slot's PDPT is created at init, so every
//! page table that copies the PML4 (the AP trampoline's does) sees later
//! mappings too. Mappings are never removed: stacks and per-CPU areas are
//! reused when a CPU comes back, so no TLB shootdown is ever needed.

use super::frames::{self, GlobalFrames};
use super::{phys_to_virt, MemoryError};
use spin::Mutex;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

pub const PAGE_SIZE: u64 = 4096;

struct KernelVm {
    mapper: OffsetPageTable<'static>,
    next: u64,
    end: u64,
}

static VM: Mutex<Option<KernelVm>> = Mutex::new(None);

/// A stack with an unmapped guard page below it; overflow faults instead of
/// silently corrupting whatever lies beneath.
#[derive(Clone, Copy, Debug)]
pub struct GuardedStack {
    pub guard: VirtAddr,
    pub top: VirtAddr,
}

impl GuardedStack {
    /// Whether `addr` falls in this stack's guard page.
    pub fn guard_contains(&self, addr: VirtAddr) -> bool {
        addr >= self.guard && addr < self.guard + PAGE_SIZE
    }
}

fn active_level_4() -> &'static mut PageTable {
    let (frame, _) = Cr3::read();
    let ptr = phys_to_virt(frame.start_address()).as_mut_ptr::<PageTable>();
    // SAFETY: CR3 points at the live PML4, which the direct map covers.
    // Only `init` calls this, once, before any other CPU runs, and the
    // resulting reference is moved into the `VM` lock.
    unsafe { &mut *ptr }
}

pub(super) fn init() -> Result<(), MemoryError> {
    let l4 = active_level_4();
    let slot = (256..511)
        .rev()
        .find(|&i| l4[i].is_unused())
        .ok_or(MemoryError::NoFreeTopLevelSlot)?;
    let pdpt = frames::alloc_zeroed().ok_or(MemoryError::OutOfFrames)?;
    l4[slot].set_frame(pdpt, Flags::PRESENT | Flags::WRITABLE);
    // Sign-extend bit 47 to form the canonical upper-half address.
    let start = 0xffff_0000_0000_0000 | ((slot as u64) << 39);
    let offset = phys_to_virt(PhysAddr::new(0));
    // SAFETY: the direct map starts at `offset` and covers every page table.
    let mapper = unsafe { OffsetPageTable::new(l4, offset) };
    *VM.lock() = Some(KernelVm {
        mapper,
        next: start,
        end: start + (1 << 39),
    });
    Ok(())
}

impl KernelVm {
    fn reserve(&mut self, pages: u64) -> Result<u64, MemoryError> {
        let start = self.next;
        let end = start + pages * PAGE_SIZE;
        if end > self.end {
            return Err(MemoryError::OutOfVirtualSpace);
        }
        self.next = end;
        Ok(start)
    }

    fn map(&mut self, virt: u64, phys: PhysFrame, flags: Flags) -> Result<(), MemoryError> {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
        // SAFETY: `virt` comes from `reserve`, so nothing else maps it, and
        // `phys` is a fresh frame or device memory the caller owns.
        let flush = unsafe { self.mapper.map_to(page, phys, flags, &mut GlobalFrames) }
            .map_err(|_| MemoryError::AlreadyMapped)?;
        // The page was unmapped before, so no stale TLB entry exists anywhere.
        flush.ignore();
        Ok(())
    }

    fn map_fresh(&mut self, start: u64, pages: u64) -> Result<(), MemoryError> {
        for i in 0..pages {
            let frame = frames::alloc_zeroed().ok_or(MemoryError::OutOfFrames)?;
            self.map(
                start + i * PAGE_SIZE,
                frame,
                Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE,
            )?;
        }
        Ok(())
    }
}

fn with_vm<R>(f: impl FnOnce(&mut KernelVm) -> Result<R, MemoryError>) -> Result<R, MemoryError> {
    x86_64::instructions::interrupts::without_interrupts(|| {
        f(VM.lock().as_mut().expect("memory::vm used before init"))
    })
}

/// Maps `pages` pages of zeroed RAM; returns the start.
pub fn map_anonymous(pages: u64) -> Result<VirtAddr, MemoryError> {
    with_vm(|vm| {
        let start = vm.reserve(pages)?;
        vm.map_fresh(start, pages)?;
        Ok(VirtAddr::new(start))
    })
}

/// Maps a stack of `pages` pages above an unmapped guard page.
pub fn alloc_stack(pages: u64) -> Result<GuardedStack, MemoryError> {
    with_vm(|vm| {
        let guard = vm.reserve(pages + 1)?;
        vm.map_fresh(guard + PAGE_SIZE, pages)?;
        Ok(GuardedStack {
            guard: VirtAddr::new(guard),
            top: VirtAddr::new(guard + (pages + 1) * PAGE_SIZE),
        })
    })
}

/// Maps device registers uncached.
pub fn map_mmio(phys: PhysAddr, pages: u64) -> Result<VirtAddr, MemoryError> {
    let flags = Flags::PRESENT
        | Flags::WRITABLE
        | Flags::NO_CACHE
        | Flags::WRITE_THROUGH
        | Flags::NO_EXECUTE;
    with_vm(|vm| {
        let start = vm.reserve(pages)?;
        for i in 0..pages {
            let frame = PhysFrame::containing_address(phys + i * PAGE_SIZE);
            vm.map(start + i * PAGE_SIZE, frame, flags)?;
        }
        Ok(VirtAddr::new(start + (phys.as_u64() & (PAGE_SIZE - 1))))
    })
}

/// The PML4 every CPU runs on once it is in the kernel.
pub fn kernel_page_table() -> PhysAddr {
    Cr3::read().0.start_address()
}

/// Fills the PML4 at `pml4` (a page below 4 GiB, for the AP's 32-bit CR3
/// load) with the kernel's top-level entries plus an identity mapping of the
/// trampoline page `code`, cloning the page-table path down to it.
///
/// The kernel's own tables are never modified: the AP switches to them as
/// soon as it runs kernel code.
pub fn build_trampoline_page_table(pml4: PhysAddr, code: PhysAddr) -> Result<(), MemoryError> {
    let kernel = kernel_page_table();
    copy_table(kernel, pml4);
    let virt = VirtAddr::new(code.as_u64());
    let indices = [virt.p4_index(), virt.p3_index(), virt.p2_index()];
    let mut table = pml4;
    for index in indices {
        let entry = &table_mut(table)[index];
        if entry.flags().contains(Flags::HUGE_PAGE) {
            return Err(MemoryError::AlreadyMapped);
        }
        let next = frames::alloc_zeroed().ok_or(MemoryError::OutOfFrames)?;
        if !entry.is_unused() {
            copy_table(entry.addr(), next.start_address());
        }
        table_mut(table)[index].set_frame(next, Flags::PRESENT | Flags::WRITABLE);
        table = next.start_address();
    }
    let leaf = &mut table_mut(table)[virt.p1_index()];
    if !leaf.is_unused() && leaf.addr() != code {
        return Err(MemoryError::AlreadyMapped);
    }
    leaf.set_addr(code, Flags::PRESENT | Flags::WRITABLE);
    Ok(())
}

/// Re-copies the kernel's top-level entries into the trampoline PML4, all
/// but the one holding the identity-mapped path.
pub fn refresh_trampoline_page_table(pml4: PhysAddr, code: PhysAddr) {
    let kernel = table_mut(kernel_page_table());
    let skip = VirtAddr::new(code.as_u64()).p4_index();
    let low = table_mut(pml4);
    for i in 0..512 {
        if i != usize::from(skip) {
            low[i] = kernel[i].clone();
        }
    }
}

fn copy_table(from: PhysAddr, to: PhysAddr) {
    let src = table_mut(from).clone();
    *table_mut(to) = src;
}

fn table_mut(phys: PhysAddr) -> &'static mut PageTable {
    // SAFETY: callers pass page-table frames, which the direct map covers.
    // The trampoline tables are only touched by the CPU running hotplug
    // operations, which are serialized; the kernel PML4 is only read.
    unsafe { &mut *phys_to_virt(phys).as_mut_ptr::<PageTable>() }
}
