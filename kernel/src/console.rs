//! The serial console: read lines, run commands, print one status line each.
//!
//! Protocol (tools depend on it): prompt `hp> `, echoed input, command
//! output, then exactly one `ok`, `ok: ...` or `error: ...` line.

use crate::cpus;
use arch::exit::{exit_qemu, ExitCode};
use shell::{parse, Command, Edit, LineEditor, MAX_LINE};

const PROMPT: &str = "hp> ";
/// How long the console CPU sleeps between UART polls.
const POLL_NS: u64 = 1_000_000;

/// Serves the console for ever on the boot CPU.
pub fn run() -> ! {
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

/// Halts until the next poll. The UART raises no interrupt (no IOAPIC
/// routing), so the LAPIC timer wakes us; QEMU holds input back while the
/// FIFO is full, so nothing is lost between polls.
fn idle_until_input() {
    arch::cpu::disable_interrupts();
    arch::apic::arm_timer_ns(POLL_NS);
    arch::cpu::enable_interrupts_and_halt();
}

fn execute(command: Command) {
    match command {
        Command::Empty => {}
        Command::Help => {
            println!("{}", shell::HELP);
            println!("ok");
        }
        Command::Cpus => print_cpus(),
        Command::Poweroff => {
            println!("ok: powering off");
            exit_qemu(ExitCode::Success);
        }
    }
}

fn print_cpus() {
    println!("CPU  APIC  STATE    PRESENCE        MODE    IRQS");
    let mut online = 0;
    for entry in cpus::all() {
        let area = arch::percpu::get(entry.cpu);
        let state = if entry.is_online() {
            "online"
        } else {
            "offline"
        };
        online += usize::from(entry.is_online());
        let mode = match area.and_then(|a| a.apic_mode()) {
            Some(mode) if entry.is_online() => mode.name(),
            _ => "-",
        };
        let irqs = area.map_or(0, |a| {
            a.interrupts.load(core::sync::atomic::Ordering::Relaxed)
        });
        println!(
            "{:<4} {:<5} {:<8} {:<15} {:<7} {}",
            entry.cpu.0,
            entry.apic_id.0,
            state,
            entry.presence.name(),
            mode,
            irqs
        );
    }
    println!("ok: {} online, {} possible", online, cpus::all().len());
}
