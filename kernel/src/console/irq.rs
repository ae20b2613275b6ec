//! The interrupt-driven console: COM1's receive interrupt (ISA IRQ 4,
//! through the I/O APIC to the boot CPU) and the wakers of the log buffer
//! and of the held `event:` lines wake the console thread, which
//! otherwise sleeps, so an idle boot CPU takes no interrupts at all. Without an I/O APIC route the console polls the
//! UART every millisecond instead, as it used to.

use crate::cpus;
use crate::sched::{self, Thread};
use alloc::sync::Arc;
use arch::apic::ioapic::{self, IoApicError};
use arch::interrupts::{set_hook, vector, Hook};
use core::sync::atomic::{AtomicBool, Ordering};
use hotplug::CpuId;
use spin::Once;

/// COM1's ISA interrupt line.
const COM1_IRQ: u8 = 4;
/// How long the console sleeps between UART polls when it has no interrupt.
const POLL_NS: u64 = 1_000_000;

/// The console thread, woken by the interrupt and the log waker.
static CONSOLE: Once<Arc<Thread>> = Once::new();
/// COM1's interrupt reaches the console: it may sleep until woken.
static ROUTED: AtomicBool = AtomicBool::new(false);

/// Routes COM1's receive interrupt to the running CPU (the console thread
/// is bound to the boot CPU) and makes a push into an empty log buffer or
/// event queue wake `console` (the running console thread). Returns the
/// GSI. On an error the console keeps polling; the caller says so.
pub fn init(console: Arc<Thread>) -> Result<u32, IoApicError> {
    CONSOLE.call_once(|| console);
    set_hook(Hook::Serial, on_serial);
    let here = arch::apic::current_id();
    let line = ioapic::route_isa(COM1_IRQ, here, vector::SERIAL)?;
    arch::serial::set_waker(kick);
    crate::print::events::set_waker(kick);
    ioapic::unmask(line.gsi)?;
    ROUTED.store(true, Ordering::Release);
    if let Err(e) = crate::irq_affinity::register("serial", line.gsi, crate::percpu::this_cpu()) {
        println!("console: COM1 interrupt not tracked for CPU hotplug: {e}");
    }
    Ok(line.gsi)
}

/// COM1 received a byte, or a log line wants out: wake the console.
fn on_serial() {
    if let Some(console) = CONSOLE.get() {
        sched::wake(console);
    }
}

/// The log waker: runs wherever a line is logged (any CPU, interrupts off,
/// any lock held), so it only sends the console's CPU the serial vector,
/// whose handler ([`on_serial`]) does the waking.
fn kick() {
    if let Some(entry) = cpus::get(CpuId::BOOT) {
        arch::apic::send_ipi(entry.apic_id, vector::SERIAL);
    }
}

/// Waits for input or log lines: asleep until woken when COM1 interrupts,
/// else one poll interval.
pub fn idle() {
    if ROUTED.load(Ordering::Acquire) {
        sched::sleep_unless(|| arch::serial::console_has_work() || crate::print::events::pending());
    } else {
        sched::sleep_until(arch::time::now_ns() + POLL_NS);
    }
}
