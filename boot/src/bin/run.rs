//! `run`: boots one image in QEMU with the serial console on this
//! terminal (or pipe), as `make run` does.
//!
//! Usage: `run [--machine pc|q35] [--cpu MODEL] [--smp SPEC] [--memory SIZE]
//! [--firmware bios|uefi] [--image-dir DIR] [-- QEMU-ARGS...]`
//!
//! Prints the exact QEMU command to stderr and exits 0 when the kernel
//! reports success, 1 when it reports failure, and otherwise with QEMU's
//! own status (2 when QEMU exited 0 without the kernel's exit code).

use std::process::ExitCode;

use boot::qemu::{GuestExit, QemuConfig};

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("run: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = config.check_image() {
        eprintln!("run: {e}");
        return ExitCode::from(2);
    }
    eprintln!("{}", config.command_line());
    // stdin, stdout and stderr are inherited: the serial console is ours.
    let status = match config.command().status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!("run: cannot start {}: {e}", boot::qemu::QEMU);
            return ExitCode::from(2);
        }
    };
    let exit = GuestExit::from_status(status);
    if exit != GuestExit::Success {
        eprintln!("run: guest did not exit cleanly: {exit:?} ({status})");
    }
    ExitCode::from(u8::try_from(exit.shell_code()).unwrap_or(u8::MAX))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<QemuConfig, String> {
    let mut config = QemuConfig::default();
    while let Some(flag) = args.next() {
        if flag == "--" {
            config.extra.extend(args);
            break;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--machine" => config.machine = value.parse()?,
            "--cpu" => config.cpu = value,
            "--smp" => config.smp = value,
            "--memory" => config.memory = value,
            "--firmware" => config.firmware = value.parse()?,
            "--image-dir" => config.image_dir = value.into(),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(config)
}
