//! The serial console: read lines, run commands, print one status line each.
//!
//! Protocol (tools depend on it): prompt `hp> `, echoed input, command
//! output, then exactly one `ok`, `ok: ...` or `error: ...` line.
//!
//! This module owns the UART loop and the dispatch of a parsed line to its
//! handler in [`commands::COMMANDS`]; it never parses words itself (that is
//! the `shell` crate) and never knows a command by name.

mod commands;
mod hotplug_cmd;
mod show;
mod timer_cmd;

use shell::{Edit, LineEditor, MAX_LINE};

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
                    match commands::COMMANDS.parse(parsed) {
                        Ok(None) => {}
                        Ok(Some((handler, args))) => {
                            if let Err(e) = handler(&args) {
                                println!("error: {e}");
                            }
                        }
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
