//! `print!`/`println!`, and who may wait for the host to read them.
//!
//! A CPU that waits for the UART inside a hotplug step misses its
//! deadline when the host stops reading, so only the console may wait:
//! - the `console` thread writes its own output directly (draining the
//!   log buffer first, so the order stays as logged) and may wait for the
//!   host as long as it takes;
//! - everything else (other threads, other CPUs, interrupt handlers, and
//!   the console itself while interrupts are off) logs into arch's buffer
//!   and never waits; the console drains it ([`crate::console`]);
//! - before the console thread exists, the boot CPU writes directly (in
//!   whatever context: during boot nothing else there prints): the boot
//!   log (`memory:`, `cpus:`, `smp:` ...) comes out in order, each line
//!   after what the APs logged before it, and no deadline runs while the
//!   boot CPU prints. APs coming up at boot log into the buffer; the boot
//!   CPU drains it with each of its own lines, the last being `smp:`.
//!
//! `event!` lines are neither: they are held for the console's next gap
//! between commands ([`events`]).

pub mod events;

use core::sync::atomic::{AtomicU64, Ordering};
use hotplug::CpuId;

macro_rules! print {
    ($($arg:tt)*) => { $crate::print::print_fmt(format_args!($($arg)*)) };
}

macro_rules! println {
    () => { print!("\n") };
    ($($arg:tt)*) => { print!("{}\n", format_args!($($arg)*)) };
}

/// `event!("cpu{n} added")` queues `event: cpu3 added` as one line for
/// the console to print between commands (see [`events`]); never waits.
macro_rules! event {
    ($($arg:tt)*) => { $crate::print::events::push_fmt(format_args!($($arg)*)) };
}

/// No console thread yet: the boot CPU writes directly.
const NO_CONSOLE: u64 = u64::MAX;
/// Thread id of the console thread, once it runs.
static CONSOLE_THREAD: AtomicU64 = AtomicU64::new(NO_CONSOLE);

/// Writes directly if the caller may wait for the host, else logs.
pub fn print_fmt(args: core::fmt::Arguments) {
    if may_wait_for_host() {
        arch::serial::console_write_fmt(args);
    } else {
        arch::serial::write_fmt(args);
    }
}

/// Called by the console thread first thing: from now on only it writes
/// directly, and the boot CPU's other contexts log like everyone else.
pub fn become_console() {
    CONSOLE_THREAD.store(crate::sched::current().id, Ordering::Release);
}

fn may_wait_for_host() -> bool {
    let on_boot_cpu = || arch::percpu::try_current().is_none_or(|a| a.index() == 0);
    let console = CONSOLE_THREAD.load(Ordering::Acquire);
    if console == NO_CONSOLE {
        // Before `kernel_main` adopts an area only the boot CPU runs.
        return on_boot_cpu();
    }
    // With interrupts on this is thread context, not a handler. The run
    // queue lock is only tried (interrupts off, as its users take it): a
    // caller inside the scheduler, or a queue busy on another CPU, logs
    // instead, which keeps the order all the same.
    arch::cpu::interrupts_enabled()
        && arch::cpu::without_interrupts(|| {
            on_boot_cpu()
                && crate::sched::try_current_on(CpuId::BOOT).is_some_and(|t| t.id == console)
        })
}
