//! The real-mode trampoline an AP runs after SIPI: 16 → 32 → 64-bit.
//!
//! The code is assembled into the kernel image and copied to a page below
//! 1 MiB that stays reserved for ever (every re-online runs it again). It
//! only uses addresses relative to its own page, which it learns from CS,
//! so it runs wherever that page is.
//!
//! Any number of APs may run it at once. Nothing in the page is per-AP,
//! and no AP writes to it: [`Trampoline::install`] fills in every address
//! the code needs (its GDT's base, its two far jumps, the
//! [`TrampolineParams`]) once, before any SIPI, and they are the same for
//! every AP. (The old code patched the GDT base and far pointers from each
//! AP in real mode: identical values, but under TCG every such write also
//! throws away the translated code of the page the other APs are running.)
//! Each AP finds its own stack and argument in 64-bit mode, before it
//! touches a stack, in the table of `ap_slots` by its own APIC id, and halts
//! for good (interrupts off, until INIT) if no slot is armed for it.

use crate::ap_slots;
use crate::memory::{phys_to_virt, vm, LowPages, MemoryError};
use core::mem::{offset_of, size_of};
use x86_64::PhysAddr;

/// The block at the end of the trampoline page, written once by
/// [`Trampoline::install`] and only read by APs. Update the assembly if
/// this layout changes; the asserts below catch a mismatch in size or
/// offsets.
#[repr(C)]
pub struct TrampolineParams {
    /// Physical address of the PML4 the AP loads while still in 32-bit
    /// mode, hence below 4 GiB.
    pub cr3: u32,
    /// Unused; keeps the 64-bit fields aligned.
    pub reserved: u32,
    /// `extern "C" fn(arg: u64) -> !`, reached in 64-bit mode.
    pub entry: u64,
    /// Kernel virtual address of the `ap_slots` table.
    pub table: u64,
}

const _: () = {
    assert!(size_of::<TrampolineParams>() == 24);
    assert!(offset_of!(TrampolineParams, cr3) == 0);
    assert!(offset_of!(TrampolineParams, entry) == 8);
    assert!(offset_of!(TrampolineParams, table) == 16);
};

// GDT selectors inside the trampoline's own GDT: 0x08 32-bit code, 0x10
// flat data, 0x18 64-bit code. CR0.PE = bit 0, CR0.WP = bit 16, CR0.PG =
// bit 31; CR4.PAE = bit 5; EFER (MSR 0xC0000080) LME = bit 8, NXE = bit 11
// (SDM Vol. 3A 2.5, 2.2.1, 9.8.5).
//
// The APIC id, in 64-bit mode, is read exactly as `cpuid::initial_apic_id`
// reads it, since the slot was armed with the id the area records, which
// `install` checks against that same function: CPUID leaf 0x0B EDX when
// leaf 0x0B exists (max leaf >= 0x0B and sub-leaf 0 EBX != 0, SDM Vol. 2A
// CPUID "INPUT EAX = 0BH"), else CPUID leaf 1 EBX bits 31:24. Leaf 0x0B EDX
// is the full 32-bit x2APIC id in either APIC mode, so it is right for
// xAPIC machines, for x2APIC machines, and for a QEMU vCPU hot-added to an
// x2APIC machine, which starts with its LAPIC in xAPIC mode and may have
// an id above 255 (299 in the tests). Not RDMSR 0x802: it faults (#GP)
// unless IA32_APIC_BASE.EXTD is set, which after INIT it need not be (the
// hot-added vCPU). Not leaf 1 alone: 8 bits, so 299 would read as 43 and
// could match another CPU's slot. CPUID needs no stack and no memory, and
// software cannot change what it reports.
core::arch::global_asm!(
    r#"
    .section .rodata.hp_trampoline, "a"
    .balign 16
    .global hp_trampoline_start
    .global hp_trampoline_end
    .global hp_trampoline_params
    .global hp_tr_gdt
    .global hp_tr_gdtr
    .global hp_tr_far32
    .global hp_tr_far64
    .global hp_tr_pm32
    .global hp_tr_lm64
    .code16
hp_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorl %ebx, %ebx
    movw %ax, %bx
    shll $4, %ebx
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
    movq %rbx, %r12
    xorl %eax, %eax
    cpuid
    cmpl $0x0b, %eax
    jb hp_tr_leaf1
    movl $0x0b, %eax
    xorl %ecx, %ecx
    cpuid
    testl %ebx, %ebx
    jz hp_tr_leaf1
    movl %edx, %r8d
    jmp hp_tr_scan
hp_tr_leaf1:
    movl $1, %eax
    cpuid
    shrl $24, %ebx
    movl %ebx, %r8d
hp_tr_scan:
    movq (hp_trampoline_params - hp_trampoline_start + {table})(%r12), %rsi
    movq {table_end}(%rsi), %rcx
    addq ${table_slots}, %rsi
hp_tr_next:
    testq %rcx, %rcx
    jz hp_tr_lost
    cmpl {slot_apic_id}(%rsi), %r8d
    je hp_tr_found
    addq ${slot_size}, %rsi
    decq %rcx
    jmp hp_tr_next
hp_tr_found:
    movq {slot_stack_top}(%rsi), %rsp
    movq {slot_arg}(%rsi), %rdi
    movl $1, {slot_started}(%rsi)
    movq (hp_trampoline_params - hp_trampoline_start + {entry})(%r12), %rax
    xorl %ebp, %ebp
    callq *%rax
    ud2
hp_tr_lost:
    cli
    hlt
    jmp hp_tr_lost

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
    .space {params_size}
hp_trampoline_end:
    .text
    "#,
    cr3 = const offset_of!(TrampolineParams, cr3),
    entry = const offset_of!(TrampolineParams, entry),
    table = const offset_of!(TrampolineParams, table),
    params_size = const size_of::<TrampolineParams>(),
    table_end = const ap_slots::TABLE_END,
    table_slots = const ap_slots::TABLE_SLOTS,
    slot_size = const ap_slots::SLOT_SIZE,
    slot_apic_id = const ap_slots::SLOT_APIC_ID,
    slot_started = const ap_slots::SLOT_STARTED,
    slot_stack_top = const ap_slots::SLOT_STACK_TOP,
    slot_arg = const ap_slots::SLOT_ARG,
    options(att_syntax)
);

extern "C" {
    static hp_trampoline_start: u8;
    static hp_trampoline_end: u8;
    static hp_trampoline_params: u8;
    static hp_tr_gdt: u8;
    static hp_tr_gdtr: u8;
    static hp_tr_far32: u8;
    static hp_tr_far64: u8;
    static hp_tr_pm32: u8;
    static hp_tr_lm64: u8;
}

/// The installed trampoline: its code page and its page-table root.
pub(crate) struct Trampoline {
    code: PhysAddr,
    pml4: PhysAddr,
}

/// Low pages the trampoline needs: its code page and its PML4.
pub(crate) const LOW_PAGES: usize = 2;

/// Offset of `symbol` from the start of the image.
fn offset_of_symbol(symbol: *const u8) -> u64 {
    // SAFETY: every symbol passed here is defined by the assembly above, in
    // the same section as `hp_trampoline_start` and after it.
    unsafe { symbol.offset_from(&raw const hp_trampoline_start) as u64 }
}

impl Trampoline {
    /// Copies the code into `low` (its first page), builds the page table
    /// the AP will load (in its second page), and fills in every address
    /// the code and its parameters need, for good: from here on APs only
    /// read the page. `entry` is where every AP continues in 64-bit mode.
    pub(crate) fn install(
        low: LowPages,
        entry: extern "C" fn(u64) -> !,
    ) -> Result<Trampoline, MemoryError> {
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
        let page = phys_to_virt(code).as_mut_ptr::<u8>();
        // SAFETY: we own `low` (the token was moved in, and only one exists),
        // so the page is ours alone and no CPU runs it yet; the direct map
        // covers it; the image is `len` bytes long.
        unsafe { core::ptr::copy_nonoverlapping(start, page, len) };
        // SAFETY: the second page is ours alone too, and no CPU runs on it.
        unsafe { vm::build_trampoline_page_table(pml4, code) }?;
        // Linear addresses (the code page is identity-mapped, and the
        // trampoline's code segments have base 0): the GDT for `lgdt`, the
        // 32- and 64-bit entry points for the two far jumps.
        let linear = |symbol: *const u8| (code.as_u64() + offset_of_symbol(symbol)) as u32;
        let patches = [
            (
                offset_of_symbol(&raw const hp_tr_gdtr) + 2,
                linear(&raw const hp_tr_gdt),
            ),
            (
                offset_of_symbol(&raw const hp_tr_far32),
                linear(&raw const hp_tr_pm32),
            ),
            (
                offset_of_symbol(&raw const hp_tr_far64),
                linear(&raw const hp_tr_lm64),
            ),
        ];
        for (offset, value) in patches {
            // SAFETY: as for the copy: the page is ours alone, and each
            // offset names a 4-byte field inside the image (the GDTR's base,
            // a far pointer's offset), which need not be aligned.
            unsafe {
                page.add(offset as usize)
                    .cast::<u32>()
                    .write_unaligned(value)
            };
        }
        let params = TrampolineParams {
            cr3: pml4.as_u64() as u32,
            reserved: 0,
            entry: entry as usize as u64,
            table: ap_slots::table_address(),
        };
        let at = offset_of_symbol(&raw const hp_trampoline_params) as usize;
        // SAFETY: as for the copy; the block lies inside the image, 8-byte
        // aligned (`.balign 8` in a page-aligned copy).
        unsafe { page.add(at).cast::<TrampolineParams>().write(params) };
        Ok(Trampoline { code, pml4 })
    }

    /// The SIPI vector: the page number of the code page.
    pub(crate) fn sipi_page(&self) -> u8 {
        (self.code.as_u64() >> 12) as u8
    }

    /// Re-copies the kernel's top-level page-table entries into the
    /// trampoline's PML4, for a kick. Safe to call while other APs run the
    /// trampoline (see the SAFETY argument inside).
    pub(crate) fn refresh_page_table(&self) {
        // SAFETY: `install` built `pml4` in a page we own, and no Rust code
        // but this refresh ever touches it: refreshes run under the VM lock
        // (`refresh_trampoline_page_table` takes it), so they never overlap
        // one another, and the trampoline itself only makes the CPU's page
        // walker read it. That walker may be reading it right now on other
        // APs, which is benign because each entry is rewritten with the
        // value it already holds: the kernel's top-level entries never
        // change once `memory::init` has set them up, before the
        // trampoline was installed (the bootloader's mappings, and the one
        // slot `vm` maps everything else inside, whose lower-level tables
        // both PML4s share). An identical store cannot show a walker
        // anything but that value, up to the Accessed bit: a walker sets it
        // in an entry and the copy may clear it again, which only makes the
        // next walk set it once more (nothing here reads Accessed). So one
        // refresh per kick, without a lock of our own, is sound, though
        // `refresh_trampoline_page_table`'s "no CPU walks it" contract is
        // met only in this weaker form.
        unsafe { vm::refresh_trampoline_page_table(self.pml4, self.code) };
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
