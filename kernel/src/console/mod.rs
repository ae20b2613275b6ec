//! The serial console: read lines, run commands, print one status line each.
//!
//! Protocol (tools depend on it): prompt `hp> `, echoed input, command
//! output, then exactly one `ok`, `ok: ...` or `error: ...` line.

mod hotplug_cmd;
mod show;

use arch::exit::{exit_qemu, ExitCode};
use shell::{parse, Command, Edit, LineEditor, MAX_LINE};

const PROMPT: &str = "hp> ";
/// How long the console CPU sleeps between UART polls.
const POLL_NS: u64 = 1_000_000;

/// The `console` thread, bound to the boot CPU: serves the console for ever.
pub fn thread_body(_: usize) {
    let mut editor = LineEditor::new();
    let mut line = [0u8; MAX_LINE];
    print!("{PROMPT}");
    loop {
        while let Some(byte) = arch::serial::try_read_byte() {
            match editor.feed(byte) {
                Edit::None => {}
                Edit::Echo(b) => arch::serial::write_bytes(&[b]),
                Edit::Erase => arch::serial::write_bytes(b"\x08 \x08"),
                Edit::Line => {
                    println!();
                    let parsed = editor
                        .take_line(&mut line)
                        .map(|n| &line[..n])
                        .map_err(|_| ());
                    match parse(parsed) {
                        Ok(command) => execute(command),
                        Err(e) => println!("error: {e}"),
                    }
                    print!("{PROMPT}");
                }
            }
        }
        idle_until_input();
    }
}

/// Sleeps until the next poll. The UART raises no interrupt (no IOAPIC
/// routing), so a timer wakes us; QEMU holds input back while the FIFO is
/// full, so nothing is lost between polls.
fn idle_until_input() {
    crate::sched::sleep_until(arch::time::now_ns() + POLL_NS);
}

fn execute(command: Command) {
    match command {
        Command::Empty => {}
        Command::Help => {
            println!("{}", shell::HELP);
            println!("ok");
        }
        Command::Cpus => show::cpus(),
        Command::States => show::states(),
        Command::Online(cpu) => hotplug_cmd::online(cpu),
        Command::Offline(cpu) => hotplug_cmd::offline(cpu),
        Command::Target(cpu, state) => hotplug_cmd::target(cpu, state),
        Command::Fail(cpu, state) => hotplug_cmd::fail(cpu, state),
        Command::Register(name) => hotplug_cmd::register(name),
        Command::Unregister(name) => hotplug_cmd::unregister(name),
        Command::Threads => show::threads(),
        Command::Timers => show::timers(),
        Command::Spawn(n) => match crate::demo::spawn(n) {
            Ok(()) => println!("ok: {n} demo threads started"),
            Err(e) => println!("error: {e}"),
        },
        Command::Stop => {
            crate::demo::stop();
            println!("ok: demo threads stop after their current sleep");
        }
        Command::Work => show::work(),
        Command::Crash(cpu, stack) => {
            let cpu = hotplug::CpuId(cpu);
            let result = if stack {
                crate::crash::overflow_stack(cpu)
            } else {
                crate::crash::crash(cpu)
            };
            match result {
                // The report and the exit follow from the crashing CPU.
                Ok(()) => println!("ok: {cpu} is crashing"),
                Err(e) => println!("error: {cpu}: {e}"),
            }
        }
        Command::Probe(cpu) => {
            let cpu = hotplug::CpuId(cpu);
            let start = arch::time::now_ns();
            match crate::smp_boot::probe(cpu) {
                Ok(()) => println!("ok: {cpu} answered and was put back into wait-for-SIPI"),
                Err(e) => {
                    let ms = (arch::time::now_ns() - start) / 1_000_000;
                    println!("error: {cpu}: {e} (after {ms} ms; left offline)")
                }
            }
        }
        Command::Torture(ops, seed) => {
            let seed = seed.unwrap_or_else(arch::time::rdtsc);
            println!("torture: {ops} ops, seed {seed}");
            crate::torture::run(ops, seed);
        }
        Command::Bench(cycles) => crate::bench::run(cycles.unwrap_or(crate::bench::DEFAULT_CYCLES)),
        Command::Poweroff => {
            println!("ok: powering off");
            exit_qemu(ExitCode::Success);
        }
    }
}
