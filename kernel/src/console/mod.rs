//! The serial console: read lines, run commands, print one status line each.
//!
//! Protocol (tools depend on it): prompt `hp> `, echoed input, command
//! output, then exactly one `ok`, `ok: ...` or `error: ...` line.
//!
//! This module owns the UART loop and the dispatch of a parsed line to its
//! handler in [`commands::COMMANDS`]; it never parses words itself (that is
//! the `shell` crate) and never knows a command by name.

mod commands;
mod cpu_list;
mod fault_cmd;
mod hotplug_cmd;
mod irq;
mod probe_cmd;
mod show;
mod smt_cmd;
mod timer_cmd;

use crate::print::events::MAX_EVENT_LINE;
use shell::{Edit, LineEditor, MAX_LINE};

const PROMPT: &str = "hp> ";

/// The `console` thread, bound to the boot CPU: serves the console for ever.
///
/// It alone writes directly to the UART and may wait for the host
/// ([`crate::print`]); it drains what everyone else logged before each of
/// its own writes, and whenever it is about to idle. Held `event:` lines
/// ([`crate::print::events`]) come out only between commands: after a
/// command's status line (or a Ctrl-C), before the next prompt; or, when
/// they arrive at the prompt, in place of the prompt line, which is then
/// drawn again with the half-typed line and its cursor.
pub fn thread_body(_: usize) {
    crate::print::become_console();
    match irq::init(crate::sched::current()) {
        Ok(gsi) => println!("console: COM1 interrupt-driven (irq 4, gsi {gsi}, cpu0)"),
        Err(e) => println!("console: polling COM1 every 1 ms: {e}"),
    }
    // Boxed: with its history the editor is ~9 KiB, too much to keep on
    // the thread's 32 KiB stack under the commands it runs.
    let mut editor = alloc::boxed::Box::new(LineEditor::new(PROMPT));
    let mut line = [0u8; MAX_LINE];
    let write = &mut arch::serial::console_write_bytes;
    crate::trace::boot_done();
    // Events from boot (a CPU added meanwhile) before the first prompt.
    print_held_events();
    print!("{PROMPT}");
    loop {
        while let Some(byte) = arch::serial::try_read_byte() {
            match editor.feed(byte, &state_names, write) {
                Edit::Pending => {}
                Edit::Cancelled => {
                    println!();
                    print_held_events();
                    print!("{PROMPT}");
                }
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
                    print_held_events();
                    print!("{PROMPT}");
                }
            }
        }
        // What other CPUs and interrupt handlers logged meanwhile.
        arch::serial::drain();
        if crate::print::events::pending() {
            editor.hide(write);
            print_held_events();
            editor.redraw(write);
        }
        irq::idle();
    }
}

/// Prints every held event line, oldest first, each on its own line, and
/// where events were dropped, how many.
fn print_held_events() {
    let mut event = [0u8; MAX_EVENT_LINE];
    while let Some(record) = crate::print::events::pop(&mut event) {
        if record.dropped_before > 0 {
            println!("console: {} event lines dropped", record.dropped_before);
        }
        // Formatted by `event!`, cut at a character boundary: UTF-8.
        let text = core::str::from_utf8(&event[..record.len]).unwrap_or("event: (not UTF-8)\n");
        print!("{text}");
    }
}

/// Tab's state names: the table as it is now, demo states included.
fn state_names(each: &mut dyn FnMut(&str)) {
    for row in crate::cpuhp::engine().table_rows() {
        each(row.name);
    }
}
