//! The console's handler table: one handler per command in
//! [`shell::COMMANDS`], in the same order.
//!
//! Names, arguments and help text live in `shell::COMMANDS` (host-tested,
//! and checked against the README there); this file only says what each
//! command does. [`shell::CommandTable::new`] runs at compile time, so a
//! command without a handler here, or a handler out of order, does not
//! build. A handler reads its arguments with the getter for its spec's
//! kind and prints exactly one status line; an [`ArgMismatch`] (a getter
//! that does not match the spec) becomes that line instead.

use super::{fault_cmd, hotplug_cmd, probe_cmd, show, smt_cmd, timer_cmd};
use arch::exit::{exit_qemu, ExitCode};
use shell::{ArgMismatch, Args, CommandTable, Help};

/// What runs a command.
pub type Handler = fn(&Args) -> Result<(), ArgMismatch>;

/// Every command's handler, in `help` order.
pub static COMMANDS: CommandTable<Handler> = CommandTable::new([
    ("help", help),
    ("cpus", |_| {
        show::cpus();
        Ok(())
    }),
    ("states", |_| {
        show::states();
        Ok(())
    }),
    ("online", |args| {
        hotplug_cmd::online(args.cpus(0)?);
        Ok(())
    }),
    ("offline", |args| {
        hotplug_cmd::offline(args.cpus(0)?);
        Ok(())
    }),
    ("target", |args| {
        hotplug_cmd::target(args.cpus(0)?, args.state(1)?);
        Ok(())
    }),
    ("fail", |args| {
        fault_cmd::fail(args.cpus(0)?, args.state_or_none(1)?);
        Ok(())
    }),
    ("hang", |args| {
        fault_cmd::hang(args.cpus(0)?, args.state_or_none(1)?);
        Ok(())
    }),
    ("register", |args| {
        hotplug_cmd::register(args.name(0)?);
        Ok(())
    }),
    ("unregister", |args| {
        hotplug_cmd::unregister(args.name(0)?);
        Ok(())
    }),
    ("autoonline", |args| {
        if let Some(on) = args.optional_switch(0)? {
            crate::acpi_hotplug::set_autoonline(on);
        }
        let setting = match crate::acpi_hotplug::autoonline() {
            true => "on",
            false => "off",
        };
        println!("ok: autoonline {setting}");
        Ok(())
    }),
    ("smt", |args| {
        smt_cmd::run(args.optional_switch(0)?);
        Ok(())
    }),
    ("threads", |_| {
        show::threads();
        Ok(())
    }),
    ("timers", |_| {
        show::timers();
        Ok(())
    }),
    ("timer", |args| {
        timer_cmd::run(args.cpus(0)?, args.count(1)?);
        Ok(())
    }),
    ("spawn", spawn),
    ("stop", |_| {
        crate::demo::stop();
        println!("ok: demo threads stop after their current sleep");
        Ok(())
    }),
    ("work", |_| {
        show::work();
        Ok(())
    }),
    ("crash", crash),
    ("probe", |args| {
        probe_cmd::run(args.cpus(0)?);
        Ok(())
    }),
    ("torture", torture),
    ("bench", |args| {
        let cycles = args.optional_count(0)?;
        crate::bench::run(cycles.unwrap_or(crate::bench::DEFAULT_CYCLES));
        Ok(())
    }),
    ("calibrate", |args| {
        if let Some(mode) = args.optional_word(0)? {
            crate::lapic_rate::set_each(mode == "each");
        }
        crate::lapic_rate::show();
        Ok(())
    }),
    ("trace", |args| {
        crate::trace::command(args.optional_word(0)?);
        Ok(())
    }),
    ("irq", |args| {
        show::irq(args.optional_word(0)?, args.optional_cpu(1)?);
        Ok(())
    }),
    ("poweroff", |_| {
        println!("ok: powering off");
        exit_qemu(ExitCode::Success);
    }),
]);

fn help(_: &Args) -> Result<(), ArgMismatch> {
    println!("{}", Help(&shell::COMMANDS));
    println!("ok");
    Ok(())
}

fn spawn(args: &Args) -> Result<(), ArgMismatch> {
    let n = args.count(0)?;
    match crate::demo::spawn(n) {
        Ok(()) => println!("ok: {n} demo threads started"),
        Err(e) => println!("error: {e}"),
    }
    Ok(())
}

fn crash(args: &Args) -> Result<(), ArgMismatch> {
    let cpu = hotplug::CpuId(args.cpu(0)?);
    let result = if args.flag(1)? {
        crate::crash::overflow_stack(cpu)
    } else {
        crate::crash::crash(cpu)
    };
    match result {
        // The report and the exit follow from the crashing CPU.
        Ok(()) => println!("ok: {cpu} is crashing"),
        Err(e) => println!("error: {cpu}: {e}"),
    }
    Ok(())
}

fn torture(args: &Args) -> Result<(), ArgMismatch> {
    let ops = args.count(0)?;
    let seed = args.optional_seed(1)?.unwrap_or_else(arch::time::rdtsc);
    let hang_every = args.optional_count(2)?;
    match hang_every {
        Some(every) => println!("torture: {ops} ops, seed {seed}, a hang every {every} ops"),
        None => println!("torture: {ops} ops, seed {seed}"),
    }
    crate::torture::run(&crate::torture::Options {
        ops,
        seed,
        hang_every,
    });
    Ok(())
}
