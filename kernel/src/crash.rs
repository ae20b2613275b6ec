//! Crash reports and the `crash` debug command.
//!
//! Every panic and exception report ends with this module's context: the
//! hotplug step the CPU was in (if an operation was running), the thread
//! that crashed, and whether it ran off the end of its stack. Nothing here
//! may block: locks are only tried.

use crate::percpu::this_cpu;
use crate::{cpuhp, cpus, sched};
use alloc::sync::Arc;
use arch::interrupts::CrashInfo;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::CpuId;

per_cpu! {
    /// CPUs asked to crash by `crash <cpu>`.
    static CRASH_REQUESTED: AtomicBool = AtomicBool::new(false);
}

/// Adds the kernel's context to crash reports and takes the STOP IPI.
pub fn init() {
    arch::interrupts::set_crash_context(write_context);
    arch::interrupts::set_hook(arch::interrupts::Hook::Stop, on_stop_ipi);
}

fn write_context(out: &mut dyn Write, info: CrashInfo) {
    let cpu = this_cpu();
    if let Some(engine) = cpuhp::try_engine() {
        for status in (0..cpus::all().len() as u32).filter_map(|c| engine.try_status(CpuId(c))) {
            let in_flight = status.state != status.target;
            if in_flight && (status.cpu == cpu || cpu == CpuId::BOOT) {
                // An operation on this CPU, or one this (control) CPU drives.
                let _ = writeln!(
                    out,
                    "hotplug: {} at {} (state {}), running steps toward state {}",
                    status.cpu, status.state_name, status.state.0, status.target.0
                );
            } else if status.cpu == cpu {
                let _ = writeln!(
                    out,
                    "hotplug: {} at {} (state {})",
                    status.cpu, status.state_name, status.state.0
                );
            }
        }
    }
    match sched::try_current_on(cpu) {
        Some(thread) => write_thread(out, &thread, info),
        None => {
            let _ = writeln!(out, "thread: unknown (scheduler not running or busy)");
        }
    }
}

fn write_thread(out: &mut dyn Write, thread: &Arc<sched::Thread>, info: CrashInfo) {
    let _ = writeln!(out, "thread: {} (id {})", thread.name, thread.id);
    let hit = |addr: u64| {
        thread
            .stack_guard()
            .is_some_and(|g| (g..g + 4096).contains(&addr))
    };
    if hit(info.fault_address) || hit(info.stack_pointer) {
        let _ = writeln!(
            out,
            "stack overflow: guard page of thread {} hit",
            thread.name
        );
    }
}

/// Why `crash` did not crash the CPU.
#[derive(Debug)]
pub enum CrashError {
    /// The CPU is not in the CPU table.
    NoSuchCpu,
    /// The CPU is not running kernel code, so nothing there could crash.
    NotRunning,
    /// The overflowing thread could not be created.
    Spawn(sched::SpawnError),
}

impl core::fmt::Display for CrashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CrashError::NoSuchCpu => write!(f, "no such CPU"),
            CrashError::NotRunning => write!(f, "that CPU is not running"),
            CrashError::Spawn(sched::SpawnError::Memory(e)) => {
                write!(f, "no memory for the thread: {e}")
            }
        }
    }
}

/// `crash <cpu>`: raise an invalid-opcode exception on that CPU. Only
/// returns (with an error) if the CPU is not running.
pub fn crash(cpu: CpuId) -> Result<(), CrashError> {
    if cpu == this_cpu() {
        arch::cpu::raise_invalid_opcode();
    }
    let entry = cpus::get(cpu).ok_or(CrashError::NoSuchCpu)?;
    let running =
        arch::percpu::get(cpu.index()).is_some_and(|a| a.stage() == arch::percpu::ArchStage::Alive);
    if !running {
        return Err(CrashError::NotRunning);
    }
    CRASH_REQUESTED.get(cpu).store(true, Ordering::Release);
    arch::apic::send_ipi(entry.apic_id, arch::interrupts::vector::STOP);
    Ok(())
}

fn on_stop_ipi() {
    if CRASH_REQUESTED
        .get(this_cpu())
        .swap(false, Ordering::AcqRel)
    {
        arch::cpu::raise_invalid_opcode();
    }
}

/// `crash <cpu> stack`: a thread bound to `cpu` that recurses until it
/// hits its stack's guard page.
pub fn overflow_stack(cpu: CpuId) -> Result<(), CrashError> {
    if cpus::get(cpu).is_none() {
        return Err(CrashError::NoSuchCpu);
    }
    // A bound thread queued on a CPU that does not schedule would wait
    // there and run before that CPU's next bring-up steps.
    if !sched::schedules(cpu) {
        return Err(CrashError::NotRunning);
    }
    let thread = sched::spawn(
        alloc::format!("overflow/{}", cpu.0),
        Some(cpu),
        recurse_body,
        0,
    )
    .map_err(CrashError::Spawn)?;
    sched::unpark(&thread);
    Ok(())
}

fn recurse_body(depth: usize) {
    let frame = [depth as u8; 256];
    core::hint::black_box(&frame);
    if depth != usize::MAX {
        recurse_body(depth + 1);
    }
    core::hint::black_box(&frame);
}
