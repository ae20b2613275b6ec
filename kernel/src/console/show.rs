//! `cpus` and `states`: read-only views.

use super::cpu_list;
use crate::sched::ThreadState;
use crate::{cpuhp, cpus, smp_boot};
use arch::percpu::{self, ArchStage};
use core::sync::atomic::Ordering;
use shell::CpuSet;

/// One line per possible CPU: number, APIC id, hotplug state, presence,
/// APIC mode (`-` when not running), interrupts taken, masks it is in
/// (`active`, `online`), armed fault, armed hang; then the `online:`,
/// `present:` and `possible:` lists.
pub fn cpus() {
    let engine = cpuhp::engine();
    println!("CPU  APIC  STATE            PRESENCE        MODE    IRQS      MASKS          FAULT            HANG");
    let mut online = 0;
    for entry in cpus::all() {
        let area = percpu::get(entry.cpu.index());
        let running = area.is_some_and(|a| a.stage() == ArchStage::Alive);
        let mode = match area.and_then(|a| a.apic_mode()) {
            Some(mode) if running => mode.name(),
            _ => "-",
        };
        let status = engine.status(entry.cpu).ok();
        let state = status.map_or("?", |s| s.state_name);
        online += usize::from(status.is_some_and(|s| s.state == engine.online_state()));
        let fault = status
            .and_then(|s| s.armed_fault)
            .and_then(|f| engine.state_name(f))
            .unwrap_or("-");
        let hang = status
            .and_then(|s| s.armed_hang)
            .and_then(|h| engine.state_name(h))
            .unwrap_or("-");
        let irqs = area.map_or(0, |a| a.interrupts.load(Ordering::Relaxed));
        let masks = match (entry.is_active(), entry.is_online()) {
            (true, true) => "active,online",
            (true, false) => "active",
            (false, true) => "online",
            (false, false) => "-",
        };
        println!(
            "{:<4} {:<5} {:<16} {:<15} {:<7} {:<9} {:<14} {:<16} {}",
            entry.cpu.0,
            entry.apic_id.0,
            state,
            if entry.addressable() {
                entry.presence().name()
            } else {
                "unaddressable"
            },
            mode,
            irqs,
            masks,
            fault,
            hang
        );
    }
    print_masks();
    println!(
        "ok: {} online, {} possible, boot bring-up {} us",
        online,
        cpus::all().len(),
        smp_boot::BOOT_BRINGUP_US.load(Ordering::Relaxed)
    );
}

/// `online: <list>`, `present: <list>`, `possible: <list>`, in the format
/// of `/sys/devices/system/cpu/{online,present,possible}`: the CPUs at the
/// online state, those the PRESENCE column calls `present`, and every row.
fn print_masks() {
    let engine = cpuhp::engine();
    let at_online = |entry: &&cpus::CpuEntry| {
        engine
            .status(entry.cpu)
            .is_ok_and(|s| s.state == engine.online_state())
    };
    let list = |keep: &dyn Fn(&&cpus::CpuEntry) -> bool| -> CpuSet {
        cpus::all().iter().filter(keep).map(|e| e.cpu.0).collect()
    };
    let present = |entry: &&cpus::CpuEntry| cpu_list::is_present(entry);
    for (name, set) in [
        ("online", list(&at_online)),
        ("present", list(&present)),
        ("possible", list(&|_| true)),
    ] {
        match set.is_empty() {
            true => println!("{name}:"),
            false => println!("{name}: {set}"),
        }
    }
}

/// A header, then the state table in bring-up order: index, name, side,
/// may-fail, section, whether bring-up and teardown can each fail, whether
/// a CPU can rest there, and why it sits there; demo states add their calls
/// per CPU (bring-up/teardown) before the reason.
pub fn states() {
    let engine = cpuhp::engine();
    println!("{}", hotplug::StateRow::HEADER);
    for row in engine.table_rows() {
        match cpuhp::demo_calls(row.id).filter(|_| row.dynamic) {
            Some(calls) => {
                // The counts go before WHY, which stays the last column.
                print!("{} calls", row.fixed_columns());
                for (up, down) in calls {
                    print!(" {up}/{down}");
                }
                println!(" {}", row.why());
            }
            None => println!("{row}"),
        }
    }
    println!("ok");
}

/// One line per thread: id, name, CPU (`-` for an unbound thread that is
/// not on a run queue), state.
pub fn threads() {
    println!("ID    NAME             CPU   STATE");
    let all = crate::sched::all();
    for t in &all {
        let state = t.state();
        let on_cpu =
            t.bound.is_some() || matches!(state, ThreadState::Running | ThreadState::Ready);
        let cpu = if on_cpu {
            alloc::format!("{}", t.cpu().0)
        } else {
            alloc::string::String::from("-")
        };
        println!("{:<5} {:<16} {:<5} {}", t.id, t.name, cpu, state.name());
    }
    println!("ok: {} threads", all.len());
}

/// One line per possible CPU: pending timers, timer interrupts taken,
/// ready threads queued, deferred work queued.
pub fn timers() {
    println!("CPU  PENDING  IRQS      QUEUED  WORK");
    for entry in cpus::all() {
        let cpu = entry.cpu;
        println!(
            "{:<4} {:<8} {:<9} {:<7} {}",
            cpu.0,
            crate::timer::pending(cpu),
            crate::timer::interrupts(cpu),
            crate::sched::nr_queued(cpu),
            crate::workqueue::pending(cpu)
        );
    }
    let late = crate::timer::lateness();
    let below = |ns: u64| {
        if ns == u64::MAX {
            alloc::string::String::from("more")
        } else {
            alloc::format!("<{}", ns / 1000)
        }
    };
    println!(
        "lateness: {} fired, min {} us, median {} us, p99 {} us, max {} us",
        late.fired,
        late.min_ns / 1000,
        below(late.median_below_ns),
        below(late.p99_below_ns),
        late.max_ns / 1000
    );
    println!("ok");
}

/// Demo totals, the running count and heap use, then
/// `ok: armed <a> fired <f> wakeups <w>`.
pub fn work() {
    use crate::demo::{ARMED, CANCELLED, FIRED, RUNNING, WAKEUPS, WATCHDOG_FIRED};
    println!("running {}", RUNNING.load(Ordering::Acquire));
    println!(
        "watchdogs cancelled {} fired {}",
        CANCELLED.load(Ordering::Acquire),
        WATCHDOG_FIRED.load(Ordering::Acquire)
    );
    println!("heap {}", arch::memory::heap::used());
    println!(
        "ok: armed {} fired {} wakeups {}",
        ARMED.load(Ordering::Acquire),
        FIRED.load(Ordering::Acquire),
        WAKEUPS.load(Ordering::Acquire)
    );
}

/// `irq`: one line per routed device interrupt (name, GSI, the CPU it goes
/// to); `irq <line> <cpu>` aims that line at an active CPU first.
pub fn irq(line: Option<&str>, cpu: Option<u32>) {
    match (line, cpu) {
        (Some(name), Some(cpu)) => {
            if let Err(e) = crate::irq_affinity::aim(name, hotplug::CpuId(cpu)) {
                println!("error: irq {name}: {e}");
                return;
            }
        }
        (Some(name), None) => {
            println!("error: 'irq {name}' needs a CPU number");
            return;
        }
        (None, _) => {}
    }
    println!("IRQ     GSI  CPU");
    let lines = crate::irq_affinity::lines();
    for l in lines.iter().flatten() {
        println!("{:<7} {:<4} {}", l.name, l.gsi, l.cpu.0);
    }
    println!("ok: {} device interrupts", lines.iter().flatten().count());
}
