//! The lock-step transport between the control CPU and an AP.
//!
//! The engine stores a request in the AP's hotplug record; we raise the AP's
//! pending flag and send it the hotplug IPI, then halt until the engine says
//! it answered or the deadline passes. The AP, halted in [`ap_main`], wakes,
//! runs `Engine::ap_run`, and wakes us back with an IPI. Neither side spins.

use super::engine;
use crate::cpus;
use alloc::vec::Vec;
use arch::interrupts::vector;
use arch::percpu::PerCpu;
use arch::time::Deadline;
use arch::{cpu, ApicId};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use hotplug::{ApEnv, ApOutcome, ApRequest, Backend, CpuId, LogEvent, StepError};
use spin::Once;

/// One flag per CPU: "a request is waiting for you". Set by the control CPU
/// before the IPI, cleared by the AP with interrupts off before it runs the
/// request, so a request that arrives while the AP is busy is not lost.
static PENDING: Once<Vec<AtomicBool>> = Once::new();

pub(super) fn init() {
    PENDING.call_once(|| cpus::all().iter().map(|_| AtomicBool::new(false)).collect());
}

fn pending(cpu: CpuId) -> &'static AtomicBool {
    &PENDING.get().expect("cpuhp transport not initialised")[cpu.index()]
}

/// The control CPU's view of the hardware, handed to every engine call.
pub struct Kernel;

impl Backend for Kernel {
    fn run_on_ap(
        &self,
        cpu: CpuId,
        request: ApRequest,
        timeout: Duration,
    ) -> Result<(), StepError> {
        if cpu == arch::percpu::current_cpu() {
            // A dynamic state registered while this CPU is online: run its
            // callback right here.
            engine().ap_run(cpu, &Local);
            return Ok(());
        }
        let entry = cpus::get(cpu).ok_or(StepError::Protocol("request to an unknown CPU"))?;
        pending(cpu).store(true, Ordering::Release);
        arch::apic::send_ipi(entry.apic_id, vector::HOTPLUG);
        let timeout_us = timeout.as_micros() as u64;
        arch::smp::halt_until(Deadline::after_us(timeout_us), timeout_us, || {
            engine().ap_answered(cpu, request.id)
        })
        .map_err(|_| StepError::Timeout)
    }

    fn log(&self, event: &LogEvent) {
        println!("{event}");
    }
}

/// The AP's environment inside `Engine::ap_run`.
struct Local;

impl ApEnv for Local {
    fn with_irqs_off(&self, f: &mut dyn FnMut()) {
        cpu::without_interrupts(f)
    }

    fn log(&self, event: &LogEvent) {
        println!("{event}");
    }
}

/// The control CPU: the boot CPU runs every hotplug operation (the console
/// lives there).
fn control_cpu() -> ApicId {
    cpus::get(CpuId::BOOT).expect("boot CPU in table").apic_id
}

/// Where every AP lives between requests: halted, until the control CPU
/// asks it to step. Parks (never returns) once it has torn down every AP
/// state, or if the control CPU gave up on it.
pub fn ap_main(area: &'static PerCpu) -> ! {
    let me = area.cpu;
    loop {
        cpu::disable_interrupts();
        if !pending(me).swap(false, Ordering::Acquire) {
            cpu::enable_interrupts_and_halt();
            continue;
        }
        cpu::enable_interrupts();
        match engine().ap_run(me, &Local) {
            ApOutcome::Answered { park: true, .. } | ApOutcome::Abandoned { .. } => {
                arch::smp::park_current()
            }
            ApOutcome::Answered { park: false, .. } | ApOutcome::NoRequest => {
                arch::smp::wake(control_cpu())
            }
        }
    }
}
