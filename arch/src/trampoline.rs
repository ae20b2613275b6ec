//! The real-mode trampoline an AP runs after SIPI: 16 → 32 → 64-bit.
//!
//! The code is assembled into the kernel image and copied to a page below
//! 1 MiB that stays reserved for ever (every re-online runs it again). It
//! only uses addresses relative to its own page, which it learns from CS,
//! so it runs wherever that page is. Rust and the assembly share data only
//! through [`TrampolineParams`], whose layout is checked at compile time.

use crate::memory::{phys_to_virt, vm, LowPages, MemoryError};
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, Ordering};
use x86_64::PhysAddr;

/// The block at the end of the trampoline page. Update the assembly if this
/// layout changes; the asserts below catch a mismatch in size or offsets.
#[repr(C)]
pub struct TrampolineParams {
    /// Set to 1 by the AP as its very first act in real mode: proof that a
    /// SIPI arrived, so the BP knows whether a second one is needed.
    pub started: AtomicU32,
    /// Physical address of the PML4 the AP loads while still in 32-bit
    /// mode, hence below 4 GiB.
    pub cr3: u32,
    /// Top of the AP's kernel stack (kernel virtual address).
    pub stack_top: u64,
    /// `extern "C" fn(arg: u64) -> !`, reached in 64-bit mode.
    pub entry: u64,
    /// Passed to `entry` in RDI.
    pub arg: u64,
}

const _: () = {
    assert!(size_of::<TrampolineParams>() == 32);
    assert!(offset_of!(TrampolineParams, started) == 0);
    assert!(offset_of!(TrampolineParams, cr3) == 4);
    assert!(offset_of!(TrampolineParams, stack_top) == 8);
    assert!(offset_of!(TrampolineParams, entry) == 16);
    assert!(offset_of!(TrampolineParams, arg) == 24);
};

// GDT selectors inside the trampoline's own GDT: 0x08 32-bit code, 0x10
// flat data, 0x18 64-bit code. CR0.PE = bit 0, CR0.WP = bit 16, CR0.PG =
// bit 31; CR4.PAE = bit 5; EFER (MSR 0xC0000080) LME = bit 8, NXE = bit 11
// (SDM Vol. 3A 2.5, 2.2.1, 9.8.5).
core::arch::global_asm!(
    r#"
    .section .rodata.hp_trampoline, "a"
    .balign 16
    .global hp_trampoline_start
    .global hp_trampoline_end
    .global hp_trampoline_params
    .code16
hp_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $1, (hp_trampoline_params - hp_trampoline_start + {started})
    xorl %ebx, %ebx
    movw %ax, %bx
    shll $4, %ebx
    leal (hp_tr_gdt - hp_trampoline_start)(%ebx), %eax
    movl %eax, (hp_tr_gdtr - hp_trampoline_start + 2)
    leal (hp_tr_pm32 - hp_trampoline_start)(%ebx), %eax
    movl %eax, (hp_tr_far32 - hp_trampoline_start)
    leal (hp_tr_lm64 - hp_trampoline_start)(%ebx), %eax
    movl %eax, (hp_tr_far64 - hp_trampoline_start)
    lgdtl (hp_tr_gdtr - hp_trampoline_start)
    movl %cr0, %eax
    orl $0x1, %eax
    movl %eax, %cr0
    ljmpl *(hp_tr_far32 - hp_trampoline_start)

    .code32
hp_tr_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl (hp_trampoline_params - hp_trampoline_start + {cr3})(%ebx), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x900, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010000, %eax
    movl %eax, %cr0
    ljmpl *(hp_tr_far64 - hp_trampoline_start)(%ebx)

    .code64
hp_tr_lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq (hp_trampoline_params - hp_trampoline_start + {stack_top})(%rbx), %rsp
    movq (hp_trampoline_params - hp_trampoline_start + {arg})(%rbx), %rdi
    movq (hp_trampoline_params - hp_trampoline_start + {entry})(%rbx), %rax
    xorl %ebp, %ebp
    callq *%rax
    ud2

    .balign 8
hp_tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
    .quad 0x00af9a000000ffff
hp_tr_gdtr:
    .word 31
    .long 0
hp_tr_far32:
    .long 0
    .word 0x08
hp_tr_far64:
    .long 0
    .word 0x18
    .balign 8
hp_trampoline_params:
    .space 32
hp_trampoline_end:
    .text
    "#,
    started = const offset_of!(TrampolineParams, started),
    cr3 = const offset_of!(TrampolineParams, cr3),
    stack_top = const offset_of!(TrampolineParams, stack_top),
    entry = const offset_of!(TrampolineParams, entry),
    arg = const offset_of!(TrampolineParams, arg),
    options(att_syntax)
);

extern "C" {
    static hp_trampoline_start: u8;
    static hp_trampoline_end: u8;
    static hp_trampoline_params: u8;
}

/// The installed trampoline: its code page and its page-table root.
pub(crate) struct Trampoline {
    code: PhysAddr,
    pml4: PhysAddr,
}

/// Low pages the trampoline needs: its code page and its PML4.
pub(crate) const LOW_PAGES: usize = 2;

impl Trampoline {
    /// Copies the code into `low` (its first page) and builds the page
    /// table the AP will load (in its second page).
    pub(crate) fn install(low: LowPages) -> Result<Trampoline, MemoryError> {
        if low.pages() < LOW_PAGES {
            return Err(MemoryError::NoLowMemory);
        }
        let code = low.start();
        let pml4 = code + vm::PAGE_SIZE;
        let (start, len) = image();
        assert!(
            len <= vm::PAGE_SIZE as usize,
            "trampoline larger than a page"
        );
        // SAFETY: we own `low` (the token was moved in, and only one exists),
        // so the page is ours alone and no CPU runs it yet; the direct map
        // covers it; the image is `len` bytes long.
        unsafe {
            core::ptr::copy_nonoverlapping(start, phys_to_virt(code).as_mut_ptr::<u8>(), len)
        };
        // SAFETY: the second page is ours alone too, and no CPU runs on it.
        unsafe { vm::build_trampoline_page_table(pml4, code) }?;
        Ok(Trampoline { code, pml4 })
    }

    /// The SIPI vector: the page number of the code page.
    pub(crate) fn sipi_page(&self) -> u8 {
        (self.code.as_u64() >> 12) as u8
    }

    /// The shared block in the installed copy.
    fn params_ptr(&self) -> *mut TrampolineParams {
        // SAFETY: both symbols lie inside the trampoline image.
        let offset = unsafe {
            (&raw const hp_trampoline_params).offset_from(&raw const hp_trampoline_start) as u64
        };
        phys_to_virt(self.code + offset).as_mut_ptr::<TrampolineParams>()
    }

    /// Fills the block for the next AP.
    ///
    /// # Safety
    /// No AP may be running the trampoline (between SIPI and its switch to
    /// the kernel's page table) and no other `arm` may run concurrently.
    pub(crate) unsafe fn arm(&self, stack_top: u64, entry: extern "C" fn(u64) -> !, arg: u64) {
        // SAFETY: per the contract nothing else uses the trampoline's page
        // table, which `install` built in a page we own.
        unsafe { vm::refresh_trampoline_page_table(self.pml4, self.code) };
        let params = self.params_ptr();
        // SAFETY: the installed copy lives for ever and the block is aligned
        // inside it; no AP is running the trampoline (the contract), so
        // these plain fields have no concurrent reader.
        unsafe {
            (*params).cr3 = self.pml4.as_u64() as u32;
            (*params).stack_top = stack_top;
            (*params).entry = entry as usize as u64;
            (*params).arg = arg;
            (*params).started.store(0, Ordering::Release);
        }
    }

    /// Whether the AP got as far as the first trampoline instruction.
    pub(crate) fn started(&self) -> bool {
        // SAFETY: the block lives for ever; `started` is atomic because the
        // AP writes it concurrently.
        unsafe { (*self.params_ptr()).started.load(Ordering::Acquire) != 0 }
    }
}

fn image() -> (*const u8, usize) {
    // SAFETY: both symbols are defined by the assembly above, in the same
    // section, end after start.
    unsafe {
        let start = &raw const hp_trampoline_start;
        let len = (&raw const hp_trampoline_end).offset_from(start) as usize;
        (start, len)
    }
}
