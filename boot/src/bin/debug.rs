//! `debug`: boots one image in QEMU stopped before its first instruction,
//! with the serial console in a file, and runs gdb connected to it, as
//! `make debug` does. QEMU is killed when gdb exits.
//!
//! Usage: `debug --kernel ELF [--machine pc|q35] [--cpu MODEL] [--smp SPEC]
//! [--memory SIZE] [--firmware bios|uefi] [--port N] [--serial FILE]
//! [-- GDB-ARGS...]`. GDB-ARGS go to gdb after the startup script, e.g.
//! `-batch -ex 'break ...' -ex continue` for a scripted session.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use boot::debug::{gdb_script, qemu_args};
use boot::qemu::QemuConfig;

struct Options {
    config: QemuConfig,
    kernel: PathBuf,
    port: u16,
    serial: PathBuf,
    gdb_args: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("debug: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let options = parse_args(std::env::args().skip(1))?;
    options.config.check_image()?;
    if !options.kernel.is_file() {
        return Err(format!("no kernel ELF at {}", options.kernel.display()));
    }
    let config = (options.config.clone())
        .serial(&format!("file:{}", options.serial.display()))
        .extra(qemu_args(options.port));
    eprintln!("{}", config.command_line());
    eprintln!(
        "debug: the console goes to {} (tail -f it)",
        options.serial.display()
    );
    let mut qemu = config
        .command()
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", boot::qemu::QEMU))?;
    let script = options.serial.with_extension("gdb");
    std::fs::write(&script, gdb_script(&options.kernel, options.port))
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let gdb = Command::new("gdb")
        .arg("-q")
        .arg("-x")
        .arg(&script)
        .args(&options.gdb_args)
        .status();
    let _ = qemu.kill();
    let _ = qemu.wait();
    let status = gdb.map_err(|e| format!("cannot start gdb: {e}"))?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(2)).unwrap_or(2),
    ))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        config: QemuConfig::default(),
        kernel: PathBuf::new(),
        port: 1234,
        serial: PathBuf::from("target/debug-serial.log"),
        gdb_args: Vec::new(),
    };
    while let Some(flag) = args.next() {
        if flag == "--" {
            options.gdb_args.extend(args);
            break;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--kernel" => options.kernel = value.into(),
            "--port" => options.port = value.parse().map_err(|_| format!("bad port {value}"))?,
            "--serial" => options.serial = value.into(),
            _ if options.config.apply_flag(&flag, value)? => {}
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}
