//! `make trace`: boots a guest, runs a hotplug scenario with tracing on,
//! and writes the trace as Chrome Trace Event JSON (ui.perfetto.dev,
//! chrome://tracing) and as an SVG timeline.
//!
//! Usage: `trace [--machine pc|q35] [--cpu MODEL] [--smp SPEC] [--memory
//! SIZE] [--firmware bios|uefi] [--image-dir DIR] [--out DIR]`; the
//! scenario is `TRACE_CMDS` (`;`-separated console commands), by default
//! [`boot::trace::scenario::DEFAULT_SCENARIO`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use boot::console::Console;
use boot::qemu::QemuConfig;
use boot::trace::{chrome, scenario, svg};

fn main() -> ExitCode {
    let (config, out_dir) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("trace: {e}");
            return ExitCode::from(2);
        }
    };
    let list = std::env::var("TRACE_CMDS").unwrap_or(scenario::DEFAULT_SCENARIO.to_owned());
    let commands = scenario::commands(&list);
    eprintln!("{}", config.command_line());
    let mut console = Console::boot(&config);
    let sections = scenario::sections(&mut console);
    let (steps, events) = scenario::run(&mut console, &commands);
    for step in &steps {
        eprintln!("trace: {} -> {}", step.command, step.status);
    }
    console.poweroff(Duration::from_secs(30));
    let json = match serde_json::to_string(&chrome::trace_json(&events)) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("trace: cannot write the JSON: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = [
        (out_dir.join("hotplug.json"), json),
        (
            out_dir.join("hotplug.svg"),
            svg::trace_svg(&events, &sections),
        ),
    ];
    for (path, text) in &files {
        let written = std::fs::create_dir_all(&out_dir).and_then(|()| std::fs::write(path, text));
        if let Err(e) = written {
            eprintln!("trace: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!("trace: {} events", events.len());
    for (path, _) in &files {
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(QemuConfig, PathBuf), String> {
    let mut config = QemuConfig::default();
    let mut out = PathBuf::from("target/trace");
    while let Some(flag) = args.next() {
        if flag == "--" {
            config.extra.extend(args);
            break;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--out" => out = value.into(),
            _ if config.apply_flag(&flag, value)? => {}
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok((config, out))
}
