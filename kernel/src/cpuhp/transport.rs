//! The lock-step transport between the control CPU and an AP.
//!
//! The engine stores a request in the AP's hotplug record; we raise the AP's
//! pending flag and send it the hotplug IPI, then halt until the engine says
//! it answered or the deadline passes. On the AP, `cpuhp/N` (or, before
//! `threads:online` started it, the idle thread in [`ap_main`]) runs
//! `Engine::ap_run` and wakes us back with an IPI. Neither side spins.

use super::instance::engine;
use super::park_request::dying;
use crate::cpus;
use crate::percpu::this_cpu;
use crate::sched::{self, Thread};
use alloc::sync::Arc;
use arch::interrupts::vector;
use arch::percpu::PerCpu;
use arch::time::Deadline;
use arch::{cpu, ApicId};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use hotplug::{ApEnv, ApOutcome, ApRequest, Backend, CpuId, LogEvent, StepError};

per_cpu! {
    /// "A request is waiting for you". Set by the control CPU before the
    /// IPI, cleared by the AP with interrupts off before it runs the
    /// request, so a request that arrives while the AP is busy is not lost.
    static PENDING: AtomicBool = AtomicBool::new(false);
}

pub(super) fn init() {
    arch::interrupts::set_hook(arch::interrupts::Hook::Hotplug, on_hotplug_ipi);
}

fn pending(cpu: CpuId) -> &'static AtomicBool {
    PENDING.get(cpu)
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
        if cpu == this_cpu() {
            // A dynamic state registered while this CPU is online: run its
            // callback right here.
            engine().ap_run(cpu, &Local);
            return Ok(());
        }
        let entry = cpus::get(cpu).ok_or(StepError::Protocol("request to an unknown CPU"))?;
        pending(cpu).store(true, Ordering::Release);
        crate::trace::request_sent(cpu, request.id);
        arch::apic::send_ipi(entry.apic_id, vector::HOTPLUG);
        let timeout_us = timeout.as_micros() as u64;
        arch::smp::halt_until(Deadline::after_us(timeout_us), timeout_us, || {
            engine().ap_answered(cpu, request.id)
        })
        .map_err(|_| StepError::Timeout)
    }

    /// INIT, and the transport forgets the CPU's flags: its next start
    /// begins clean. The engine then runs the BP teardowns (the `*_dead`
    /// callbacks), which move its work away.
    fn force_down(&self, cpu: CpuId) -> Result<(), StepError> {
        let area = arch::percpu::get(cpu.index())
            .ok_or(StepError::failed("no per-CPU area to force down"))?;
        arch::smp::force_down_cpu(area).map_err(|e| StepError::because(&e))?;
        crate::trace::forced_down(cpu);
        pending(cpu).store(false, Ordering::Release);
        dying(cpu).store(false, Ordering::Release);
        Ok(())
    }

    fn log(&self, event: &LogEvent) {
        println!("{event}");
    }

    fn now_ns(&self) -> Option<u64> {
        Some(arch::time::now_ns())
    }
}

/// The AP's environment inside `Engine::ap_run`.
struct Local;

impl ApEnv for Local {
    fn with_irqs_off(&self, f: &mut dyn FnMut()) {
        cpu::without_interrupts(f)
    }

    /// An armed `hang`: halt with interrupts off until the control CPU's
    /// INIT (halting, not spinning, so the stuck vCPU costs the host
    /// nothing).
    fn hang(&self) -> ! {
        cpu::halt_forever()
    }

    fn log(&self, event: &LogEvent) {
        println!("{event}");
    }

    fn now_ns(&self) -> Option<u64> {
        Some(arch::time::now_ns())
    }
}

/// The control CPU: the boot CPU runs every hotplug operation (the console
/// lives there).
fn control_cpu() -> Option<ApicId> {
    cpus::get(CpuId::BOOT).map(|e| e.apic_id)
}

/// Whether `cpu`'s hotplug thread takes requests (it is unparked and not
/// asked to park); otherwise the idle thread does.
fn thread_takes_requests(cpu: CpuId) -> Option<Arc<Thread>> {
    crate::percpu_threads::hotplug_thread(cpu).filter(|t| !t.park_requested())
}

/// The hotplug IPI: wake the CPU's hotplug thread if it takes requests
/// (the idle loop wakes by itself).
fn on_hotplug_ipi() {
    if let Some(thread) = thread_takes_requests(this_cpu()) {
        sched::wake(&thread);
    }
}

/// Runs one request on this CPU and answers the control CPU. Returns
/// whether the CPU must now park.
fn serve_request(me: CpuId) -> bool {
    let outcome = engine().ap_run(me, &Local);
    if let ApOutcome::Answered { request, .. } = outcome {
        crate::trace::request_answered(me, request);
    }
    match outcome {
        ApOutcome::Answered { park: true, .. } | ApOutcome::Abandoned { .. } => {
            dying(me).store(true, Ordering::Release);
            true
        }
        ApOutcome::Answered { park: false, .. } | ApOutcome::NoRequest => {
            // Without a control CPU nobody waits for the answer.
            if let Some(control) = control_cpu() {
                arch::smp::wake(control);
            }
            false
        }
    }
}

/// `cpuhp/N`: serves requests while the CPU is up; parks once its request
/// is done if the `threads:online` teardown asked it to, leaving the CPU to
/// its idle thread, which parks the CPU itself if it is going down.
///
/// It holds no reference across a request: if the request hangs and INIT
/// cuts the thread off, whatever its frames own is never freed.
pub(super) fn hotplug_thread_body(cpu: usize) {
    let me = CpuId(cpu as u32);
    loop {
        sched::park_point();
        if pending(me).swap(false, Ordering::AcqRel) {
            serve_request(me);
        } else {
            let thread = sched::current();
            sched::sleep_unless(|| thread.park_requested() || pending(me).load(Ordering::Acquire));
        }
    }
}

/// Where every AP lands once alive: this context becomes the CPU's idle
/// thread. It serves hotplug requests itself until `threads:online` has
/// started `cpuhp/N`, and parks the CPU once it has torn everything down.
pub fn ap_main(area: &'static PerCpu) -> ! {
    let me = CpuId(area.index() as u32);
    // `dying` was cleared by `cpu:kick` before the SIPI (and may be set
    // again already, by `cpu:kick`'s teardown: then this CPU parks at once).
    sched::start_cpu(me);
    sched::idle_loop(
        || {
            dying(me).load(Ordering::Acquire)
                || (pending(me).load(Ordering::Acquire) && thread_takes_requests(me).is_none())
        },
        || {
            if !dying(me).load(Ordering::Acquire) && pending(me).swap(false, Ordering::AcqRel) {
                serve_request(me);
            }
            dying(me).load(Ordering::Acquire)
        },
    );
    // Every AP state is torn down and the per-CPU threads are parked.
    arch::cpu::disable_interrupts();
    sched::stop_cpu(me);
    arch::smp::park_current()
}
