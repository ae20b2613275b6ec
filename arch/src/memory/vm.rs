//! The kernel's own virtual address space: guarded stacks, heap, MMIO.
//!
//! Everything lives in one top-level (PML4) slot that was free when the
//! bootloader handed over. The slot's PDPT is created at init, so every
//! page table that copies the PML4 (the AP trampoline's does) sees later
//! mappings too. Mappings are never removed: stacks and per-CPU areas are
//! reused when a CPU comes back, so no TLB shootdown is ever needed.

use super::direct_map::phys_to_virt;
use super::error::MemoryError;
use super::frames::{self, Claim, GlobalFrames};
use spin::Mutex;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::MapToError;
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

/// The size of every page this module maps.
pub const PAGE_SIZE: u64 = 4096;

struct KernelVm {
    mapper: OffsetPageTable<'static>,
    next: u64,
    end: u64,
}

static VM: Mutex<Option<KernelVm>> = Mutex::new(None);

/// A stack with an unmapped guard page below it; overflow faults instead of
/// silently corrupting whatever lies beneath.
///
/// Only [`alloc_stack`] makes one, and it is neither `Copy` nor `Clone`:
/// whoever holds the value owns the stack's memory, so two threads can
/// never be handed the same stack.
#[derive(Debug)]
pub struct GuardedStack {
    guard: VirtAddr,
    top: VirtAddr,
}

impl GuardedStack {
    /// The unmapped page just below the stack.
    pub fn guard(&self) -> VirtAddr {
        self.guard
    }

    /// One past the highest byte of the stack: page aligned, and at least
    /// one mapped page lies below it.
    pub fn top(&self) -> VirtAddr {
        self.top
    }

    /// Whether `addr` falls in this stack's guard page.
    pub fn guard_contains(&self, addr: VirtAddr) -> bool {
        addr >= self.guard && addr < self.guard + PAGE_SIZE
    }
}

/// The PML4 CR3 points at, as a mutable reference.
///
/// # Safety
/// The caller must make this the only reference to the live PML4 for as
/// long as it lives: call it once, and let nothing else reach the table
/// except through what it returns.
unsafe fn active_level_4() -> &'static mut PageTable {
    let (frame, _) = Cr3::read();
    let ptr = phys_to_virt(frame.start_address()).as_mut_ptr::<PageTable>();
    // SAFETY: CR3 points at the live PML4, which the direct map covers; the
    // caller guarantees the reference is unique.
    unsafe { &mut *ptr }
}

/// Takes over the bootloader's page tables for the kernel's own mappings.
///
/// # Safety
/// Call once, on the boot CPU, before any AP runs and before anything else
/// refers to the active PML4: the mapper keeps the only reference to it.
pub(super) unsafe fn init() -> Result<(), MemoryError> {
    // SAFETY: forwarded contract: this is the only reference, and it moves
    // into the `VM` lock below.
    let l4 = unsafe { active_level_4() };
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

    fn map(
        &mut self,
        virt: u64,
        phys: PhysFrame,
        flags: Flags,
        claim: Claim,
    ) -> Result<(), MemoryError> {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
        // SAFETY: `virt` comes from `reserve`, so nothing else maps it, and
        // `phys` is a fresh frame or device memory the caller owns.
        let flush = unsafe {
            self.mapper
                .map_to(page, phys, flags, &mut GlobalFrames(claim))
        }
        .map_err(|e| match e {
            MapToError::FrameAllocationFailed => MemoryError::OutOfFrames,
            MapToError::ParentEntryHugePage | MapToError::PageAlreadyMapped(_) => {
                MemoryError::AlreadyMapped
            }
        })?;
        // The page was unmapped before, so no stale TLB entry exists anywhere.
        flush.ignore();
        Ok(())
    }

    /// Maps `pages` fresh frames at `start`, which `reserve` handed out.
    /// Nothing is taken unless `claim` can get every frame the mapping
    /// needs, page tables included: all frames are allocated under the VM
    /// lock we hold, so the check cannot be overtaken (frames only come
    /// back meanwhile). A stack that cannot be had therefore costs nothing.
    fn map_fresh(&mut self, start: u64, pages: u64, claim: Claim) -> Result<(), MemoryError> {
        if frames::available_for(claim) < pages + tables_for(pages) {
            return Err(MemoryError::OutOfFrames);
        }
        for i in 0..pages {
            let frame = frames::alloc_zeroed_for(claim).ok_or(MemoryError::OutOfFrames)?;
            let mapped = self.map(
                start + i * PAGE_SIZE,
                frame,
                Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE,
                claim,
            );
            if let Err(e) = mapped {
                // SAFETY: the frame was never mapped, so nothing refers to it.
                unsafe { frames::free(frame) };
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The most page-table frames a run of `pages` new 4 KiB mappings can need:
/// a page table per 512 pages plus one for a run that straddles two, and
/// the same for the directories above (the top PDPT exists from init).
fn tables_for(pages: u64) -> u64 {
    pages / 512 + 2 + pages / (512 * 512) + 2
}

fn with_vm<R>(f: impl FnOnce(&mut KernelVm) -> Result<R, MemoryError>) -> Result<R, MemoryError> {
    x86_64::instructions::interrupts::without_interrupts(|| {
        f(VM.lock().as_mut().expect("memory::vm used before init"))
    })
}

/// Reserves `pages` pages of address space and maps nothing: the heap
/// keeps its whole bound contiguous, mapping it as it grows.
pub(super) fn reserve_unmapped(pages: u64) -> Result<VirtAddr, MemoryError> {
    with_vm(|vm| vm.reserve(pages).map(VirtAddr::new))
}

/// Maps `pages` pages of zeroed RAM at `start`, inside a range from
/// [`reserve_unmapped`] that is not mapped yet, taking frames from the
/// heap's reserve if need be. All or nothing: on an error no frame was
/// taken.
///
/// Called with the heap's lock held, which is why this (and everything it
/// calls) must never allocate from the heap.
pub(super) fn map_for_heap(start: VirtAddr, pages: u64) -> Result<(), MemoryError> {
    with_vm(|vm| vm.map_fresh(start.as_u64(), pages, Claim::Heap))
}

/// Maps a stack of `pages` pages (at least one) above an unmapped guard
/// page. The pages are fresh: nothing else refers to them.
pub fn alloc_stack(pages: u64) -> Result<GuardedStack, MemoryError> {
    let pages = pages.max(1);
    with_vm(|vm| {
        let guard = vm.reserve(pages + 1)?;
        vm.map_fresh(guard + PAGE_SIZE, pages, Claim::General)?;
        Ok(GuardedStack {
            guard: VirtAddr::new(guard),
            top: VirtAddr::new(guard + (pages + 1) * PAGE_SIZE),
        })
    })
}

/// Maps device registers uncached.
///
/// Crate-private: mapped over RAM, an uncached alias of memory the direct
/// map caches is a memory-type conflict (SDM Vol. 3A 11.12.4), so only code
/// that knows `phys` is a device's (the HPET from ACPI, the LAPIC from its
/// base MSR) may call it.
pub(crate) fn map_mmio(phys: PhysAddr, pages: u64) -> Result<VirtAddr, MemoryError> {
    let flags = Flags::PRESENT
        | Flags::WRITABLE
        | Flags::NO_CACHE
        | Flags::WRITE_THROUGH
        | Flags::NO_EXECUTE;
    with_vm(|vm| {
        let start = vm.reserve(pages)?;
        for i in 0..pages {
            let frame = PhysFrame::containing_address(phys + i * PAGE_SIZE);
            vm.map(start + i * PAGE_SIZE, frame, flags, Claim::General)?;
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
/// soon as it runs kernel code. The copy is made under the VM lock, so the
/// mapper (the only writer of kernel page tables) is not changing them.
///
/// # Safety
/// `pml4` must be a page the caller owns exclusively for use as this page
/// table: nothing else reads or writes it during the call, and no CPU runs
/// on it.
pub(crate) unsafe fn build_trampoline_page_table(
    pml4: PhysAddr,
    code: PhysAddr,
) -> Result<(), MemoryError> {
    with_vm(|vm| {
        // SAFETY: the caller owns `pml4` exclusively.
        let mut table: &mut PageTable = unsafe { table_mut(pml4) };
        *table = vm.mapper.level_4_table().clone();
        let virt = VirtAddr::new(code.as_u64());
        for index in [virt.p4_index(), virt.p3_index(), virt.p2_index()] {
            if table[index].flags().contains(Flags::HUGE_PAGE) {
                return Err(MemoryError::AlreadyMapped);
            }
            let next = frames::alloc_zeroed().ok_or(MemoryError::OutOfFrames)?;
            // SAFETY: `next` was just allocated, so nothing else refers to it.
            let next_table = unsafe { table_mut(next.start_address()) };
            if !table[index].is_unused() {
                // SAFETY: a non-empty entry copied from the kernel's tables
                // points at one of the kernel's page tables, which only the
                // mapper writes, and we hold its lock.
                *next_table = unsafe { table_ref(table[index].addr()) }.clone();
            }
            table[index].set_frame(next, Flags::PRESENT | Flags::WRITABLE);
            table = next_table;
        }
        let leaf = &mut table[virt.p1_index()];
        if !leaf.is_unused() && leaf.addr() != code {
            return Err(MemoryError::AlreadyMapped);
        }
        leaf.set_addr(code, Flags::PRESENT | Flags::WRITABLE);
        Ok(())
    })
}

/// Re-copies the kernel's top-level entries into the trampoline PML4, all
/// but the one holding the identity-mapped path.
///
/// # Safety
/// As for [`build_trampoline_page_table`], which must have built `pml4`.
pub(crate) unsafe fn refresh_trampoline_page_table(pml4: PhysAddr, code: PhysAddr) {
    let skip = usize::from(VirtAddr::new(code.as_u64()).p4_index());
    let _ = with_vm(|vm| {
        let kernel = vm.mapper.level_4_table();
        // SAFETY: the caller owns `pml4` exclusively.
        let low = unsafe { table_mut(pml4) };
        for i in (0..512).filter(|&i| i != skip) {
            low[i] = kernel[i].clone();
        }
        Ok(())
    });
}

/// The page table in frame `phys`, read-only.
///
/// # Safety
/// `phys` must hold a page table that nothing writes while the reference
/// lives.
unsafe fn table_ref<'a>(phys: PhysAddr) -> &'a PageTable {
    // SAFETY: the direct map covers every frame; the caller rules out
    // writers.
    unsafe { &*phys_to_virt(phys).as_ptr::<PageTable>() }
}

/// The page table in frame `phys`, writable.
///
/// # Safety
/// `phys` must be a page-table frame (or a fresh frame) that nothing else
/// reads or writes while the reference lives, and that no CPU walks.
unsafe fn table_mut<'a>(phys: PhysAddr) -> &'a mut PageTable {
    // SAFETY: the direct map covers every frame; the caller guarantees
    // exclusive access.
    unsafe { &mut *phys_to_virt(phys).as_mut_ptr::<PageTable>() }
}
