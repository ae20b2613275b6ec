//! Per-CPU GDT and TSS.
//!
//! Each CPU needs its own TSS (its IST stacks differ) and therefore its own
//! GDT. Both are rebuilt in place every time the CPU comes online: `ltr`
//! marks the TSS descriptor busy, and loading a busy TSS again faults.
//! This module only builds and loads tables; which CPU may load which
//! tables is decided by the `install` module.

use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST slot for the double-fault handler (a fresh stack even when the kernel
/// stack overflowed).
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot for NMIs, which can arrive at any instruction.
pub const NMI_IST: u16 = 1;

/// One CPU's descriptor tables.
pub struct CpuTables {
    gdt: GlobalDescriptorTable,
    tss: TaskStateSegment,
}

impl CpuTables {
    /// Empty tables; [`CpuTables::load`] fills them.
    pub const fn new() -> Self {
        CpuTables {
            gdt: GlobalDescriptorTable::new(),
            tss: TaskStateSegment::new(),
        }
    }

    /// Points the IST slots at the given stack tops, rebuilds the GDT
    /// around this CPU's TSS and loads both, plus flat data segments.
    ///
    /// # Safety
    /// `this` must point to static or leaked per-CPU memory that never
    /// moves, and only the CPU that owns it may call this, with interrupts
    /// off, while no other reference to it exists.
    pub unsafe fn load(this: *mut CpuTables, double_fault_top: VirtAddr, nmi_top: VirtAddr) {
        // SAFETY: per the contract, `this` is valid for 'static and ours
        // alone right now.
        let this: &'static mut CpuTables = unsafe { &mut *this };
        this.tss.interrupt_stack_table[DOUBLE_FAULT_IST as usize] = double_fault_top;
        this.tss.interrupt_stack_table[NMI_IST as usize] = nmi_top;
        let tss: &'static TaskStateSegment = &this.tss;
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(tss));
        this.gdt = gdt;
        let gdt: &'static GlobalDescriptorTable = &this.gdt;
        gdt.load();
        // SAFETY: the selectors index descriptors of the GDT just loaded,
        // and the TSS descriptor is fresh, hence not busy.
        unsafe {
            CS::set_reg(code);
            SS::set_reg(data);
            DS::set_reg(data);
            ES::set_reg(data);
            load_tss(tss_sel);
        }
    }
}

impl Default for CpuTables {
    fn default() -> Self {
        Self::new()
    }
}
