//! The IDT (one, shared by all CPUs), exception reports, and the dispatch of
//! the few LAPIC vectors the kernel uses.
//!
//! Every exception is fatal: it prints the CPU, vector, error code, RIP, CR2
//! and RSP (plus whatever context the kernel registered, such as the hotplug
//! state running) and exits QEMU with the failure code.

use crate::exit::{exit_qemu, ExitCode};
use crate::gdt::{DOUBLE_FAULT_IST, NMI_IST};
use crate::{apic, percpu, serial};
use core::sync::atomic::Ordering;
use spin::Once;
use x86_64::registers::control::{Cr2, Cr3};
use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame, PageFaultErrorCode};
use x86_64::VirtAddr;

/// The LAPIC vectors in use (they live in their own module, which this
/// re-exports for the kernel).
pub use crate::vector;

/// Kernel handlers for the dispatched vectors, indexed as in [`Hook`].
/// `Once::get` is a single atomic load, so an interrupt handler reads a
/// hook without taking any lock.
static HOOKS: [Once<fn()>; 6] = [const { Once::new() }; 6];
/// Runs after EOI of every hooked vector (timer, IPIs, SCI): where the kernel
/// may switch threads (the interrupted context is saved on its own stack,
/// and the LAPIC already accepts the next interrupt).
static AFTER_EOI: Once<fn()> = Once::new();
/// Extra crash-report context (e.g. the hotplug state being run).
static CRASH_CONTEXT: Once<CrashContextFn> = Once::new();

/// The vectors the kernel may attach a handler to.
#[derive(Clone, Copy, Debug)]
pub enum Hook {
    /// The LAPIC timer ([`vector::TIMER`]).
    Timer = 0,
    /// The wake-up IPI ([`vector::WAKE`]).
    Wake = 1,
    /// The hotplug-request IPI ([`vector::HOTPLUG`]).
    Hotplug = 2,
    /// The crash-stop IPI ([`vector::STOP`]).
    Stop = 3,
    /// The ACPI SCI ([`vector::SCI`], level-triggered through the I/O
    /// APIC): the hook must clear the event's cause before it returns,
    /// since the LAPIC EOI that follows lets a still-asserted line in again.
    Sci = 4,
    /// COM1 received a byte ([`vector::SERIAL`], edge-triggered through
    /// the I/O APIC), or an IPI on that vector asks for the console.
    Serial = 5,
}

/// Installs `f` to run (interrupts off, before EOI) when `hook` fires.
/// Each hook is set once, at init: the first call wins, later ones are
/// ignored.
pub fn set_hook(hook: Hook, f: fn()) {
    HOOKS[hook as usize].call_once(|| f);
}

/// Installs the function run after EOI (the scheduler's preemption point).
/// Set once; later calls are ignored.
pub fn set_after_eoi(f: fn()) {
    AFTER_EOI.call_once(|| f);
}

/// Installs a function that adds lines to crash reports. Set once; later
/// calls are ignored.
pub fn set_crash_context(f: CrashContextFn) {
    CRASH_CONTEXT.call_once(|| f);
}

fn run_hook(hook: Hook) {
    if let Some(area) = percpu::try_current() {
        area.interrupts.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(f) = HOOKS[hook as usize].get() {
        f();
    }
    apic::end_of_interrupt();
    if let Some(after) = AFTER_EOI.get() {
        after();
    }
}

static IDT: Once<InterruptDescriptorTable> = Once::new();

macro_rules! exception {
    ($name:ident, $vec:expr, $what:expr) => {
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame) {
            report_exception($vec, $what, None, &frame);
        }
    };
    ($name:ident, $vec:expr, $what:expr, error) => {
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame, code: u64) {
            report_exception($vec, $what, Some(code), &frame);
        }
    };
}

exception!(divide_error, 0, "divide error");
exception!(debug, 1, "debug");
exception!(nmi, 2, "NMI");
exception!(breakpoint, 3, "breakpoint");
exception!(overflow, 4, "overflow");
exception!(bound_range, 5, "bound range exceeded");
exception!(invalid_opcode, 6, "invalid opcode");
exception!(device_not_available, 7, "device not available");
exception!(invalid_tss, 10, "invalid TSS", error);
exception!(segment_not_present, 11, "segment not present", error);
exception!(stack_segment, 12, "stack-segment fault", error);
exception!(general_protection, 13, "general protection fault", error);
exception!(x87_floating_point, 16, "x87 floating-point");
exception!(alignment_check, 17, "alignment check", error);
exception!(simd_floating_point, 19, "SIMD floating-point");
exception!(virtualization, 20, "virtualization");
exception!(control_protection, 21, "control protection", error);

extern "x86-interrupt" fn page_fault(frame: InterruptStackFrame, code: PageFaultErrorCode) {
    report_exception(14, "page fault", Some(code.bits()), &frame);
}

extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, code: u64) -> ! {
    report_exception(8, "double fault", Some(code), &frame);
}

extern "x86-interrupt" fn machine_check(frame: InterruptStackFrame) -> ! {
    report_exception(18, "machine check", None, &frame);
}

extern "x86-interrupt" fn timer(_: InterruptStackFrame) {
    run_hook(Hook::Timer);
}

extern "x86-interrupt" fn wake(_: InterruptStackFrame) {
    run_hook(Hook::Wake);
}

extern "x86-interrupt" fn hotplug(_: InterruptStackFrame) {
    run_hook(Hook::Hotplug);
}

extern "x86-interrupt" fn stop(_: InterruptStackFrame) {
    run_hook(Hook::Stop);
}

extern "x86-interrupt" fn sci(_: InterruptStackFrame) {
    run_hook(Hook::Sci);
}

extern "x86-interrupt" fn serial_irq(_: InterruptStackFrame) {
    run_hook(Hook::Serial);
}

extern "x86-interrupt" fn apic_error(_: InterruptStackFrame) {
    report_apic_error();
}

fn report_apic_error() {
    serial::write_fmt(format_args!(
        "cpu{}: LAPIC error interrupt\n",
        percpu::current_index_snapshot()
    ));
    apic::end_of_interrupt();
}

/// Spurious interrupts need no EOI (SDM Vol. 3A 11.9).
extern "x86-interrupt" fn spurious(_: InterruptStackFrame) {}

fn build() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    idt.divide_error.set_handler_fn(divide_error);
    idt.debug.set_handler_fn(debug);
    idt.breakpoint.set_handler_fn(breakpoint);
    idt.overflow.set_handler_fn(overflow);
    idt.bound_range_exceeded.set_handler_fn(bound_range);
    idt.invalid_opcode.set_handler_fn(invalid_opcode);
    idt.device_not_available
        .set_handler_fn(device_not_available);
    idt.invalid_tss.set_handler_fn(invalid_tss);
    idt.segment_not_present.set_handler_fn(segment_not_present);
    idt.stack_segment_fault.set_handler_fn(stack_segment);
    idt.general_protection_fault
        .set_handler_fn(general_protection);
    idt.page_fault.set_handler_fn(page_fault);
    idt.x87_floating_point.set_handler_fn(x87_floating_point);
    idt.alignment_check.set_handler_fn(alignment_check);
    idt.machine_check.set_handler_fn(machine_check);
    idt.simd_floating_point.set_handler_fn(simd_floating_point);
    idt.virtualization.set_handler_fn(virtualization);
    idt.cp_protection_exception
        .set_handler_fn(control_protection);
    // SAFETY: the IST slots are filled in every CPU's TSS (gdt::CpuTables)
    // with dedicated guarded stacks before the CPU loads this IDT.
    unsafe {
        idt.double_fault
            .set_handler_fn(double_fault)
            .set_stack_index(DOUBLE_FAULT_IST);
        idt.non_maskable_interrupt
            .set_handler_fn(nmi)
            .set_stack_index(NMI_IST);
    }
    idt[vector::TIMER].set_handler_fn(timer);
    idt[vector::WAKE].set_handler_fn(wake);
    idt[vector::HOTPLUG].set_handler_fn(hotplug);
    idt[vector::STOP].set_handler_fn(stop);
    idt[vector::SCI].set_handler_fn(sci);
    idt[vector::SERIAL].set_handler_fn(serial_irq);
    idt[vector::APIC_ERROR].set_handler_fn(apic_error);
    idt[vector::SPURIOUS].set_handler_fn(spurious);
    idt
}

/// Loads the shared IDT on this CPU (building it on first use).
pub(crate) fn load_idt() {
    IDT.call_once(build).load();
}

fn report_exception(vector: u8, what: &str, code: Option<u64>, frame: &InterruptStackFrame) -> ! {
    use core::fmt::Write;
    let cr2 = Cr2::read_raw();
    let mut out = CrashWriter;
    let _ = match percpu::try_current() {
        Some(area) => write!(out, "\nEXCEPTION on cpu{}: ", area.index()),
        None => write!(out, "\nEXCEPTION on cpu?: "),
    };
    let rip = frame.instruction_pointer.as_u64();
    let rsp = frame.stack_pointer.as_u64();
    let _ = writeln!(
        out,
        "vector {vector} ({what}) error {:#x} rip {rip:#x} cr2 {cr2:#x} rsp {rsp:#x}",
        code.unwrap_or(0),
    );
    let _ = writeln!(
        out,
        "registers: rflags {:#x} cs {:#x} ss {:#x} cr3 {:#x}",
        frame.cpu_flags.bits(),
        frame.code_segment.0,
        frame.stack_segment.0,
        Cr3::read_raw().0.start_address().as_u64(),
    );
    if let Some(area) = percpu::try_current() {
        let addr = VirtAddr::try_new(cr2).unwrap_or(VirtAddr::zero());
        let stack = area
            .guard_page_hit(addr)
            .or_else(|| area.guard_page_hit(frame.stack_pointer));
        if let Some(stack) = stack {
            let _ = writeln!(out, "stack overflow: guard page of the {stack} hit");
        }
    }
    write_crash_context(
        &mut out,
        CrashInfo {
            fault_address: cr2,
            stack_pointer: rsp,
        },
    );
    exit_qemu(ExitCode::Failure)
}

/// What the kernel's crash-context function gets to look at.
#[derive(Clone, Copy, Debug)]
pub struct CrashInfo {
    /// CR2: the faulting address of the last page fault.
    pub fault_address: u64,
    /// The stack pointer of the code that crashed.
    pub stack_pointer: u64,
}

/// Prints the registers a panic report can still read: the panicking
/// code's stack and frame pointers, RFLAGS, CR2 and CR3.
pub fn write_panic_registers(out: &mut dyn core::fmt::Write) -> CrashInfo {
    let (rsp, rbp): (u64, u64);
    // SAFETY: reading two registers has no side effects.
    unsafe {
        core::arch::asm!("mov {}, rsp", "mov {}, rbp", out(reg) rsp, out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    let cr2 = Cr2::read_raw();
    let _ = writeln!(
        out,
        "registers: rsp {rsp:#x} rbp {rbp:#x} rflags {:#x} cr2 {cr2:#x} cr3 {:#x}",
        x86_64::registers::rflags::read_raw(),
        Cr3::read_raw().0.start_address().as_u64(),
    );
    CrashInfo {
        fault_address: cr2,
        stack_pointer: rsp,
    }
}

/// Adds the kernel's crash context (if registered) to a report.
pub fn write_crash_context(out: &mut dyn core::fmt::Write, info: CrashInfo) {
    if let Some(f) = CRASH_CONTEXT.get() {
        f(out, info);
    }
}

/// The kernel's crash-context function.
pub type CrashContextFn = fn(&mut dyn core::fmt::Write, CrashInfo);

/// Serial output that still works while a CPU that just died holds the
/// console lock ([`serial::emergency_write_fmt`]: it writes around the lock,
/// never breaking it).
pub struct CrashWriter;

impl core::fmt::Write for CrashWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        serial::emergency_write_fmt(format_args!("{s}"));
        Ok(())
    }
}
