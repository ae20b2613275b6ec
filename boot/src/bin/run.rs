//! `run`: boots one image in QEMU with the serial console on this
//! terminal (or pipe), as `make run` does.
//!
//! Usage: `run [--machine pc|q35] [--cpu MODEL] [--smp SPEC] [--memory SIZE]
//! [--firmware bios|uefi] [--image-dir DIR] [-- QEMU-ARGS...]`
//!
//! Prints the exact QEMU command to stderr and exits 0 when the kernel
//! reports success, 1 when it reports failure, and otherwise with QEMU's
//! own status (2 when QEMU exited 0 without the kernel's exit code).
//!
//! On a terminal the console is shared with QEMU's monitor (`-serial
//! mon:stdio`: Ctrl-A C switches, e.g. for `device_add`); from a pipe the
//! bytes go to the guest untouched. Either way QEMU also listens for QMP
//! on a unix socket, whose path is printed, for scripts.

use std::io::IsTerminal;
use std::process::{Command, ExitCode};

use boot::qemu::{GuestExit, QemuConfig, QEMU};

fn main() -> ExitCode {
    let mut config = match parse_args(std::env::args().skip(1)) {
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
    let qmp = std::env::temp_dir().join(format!("hotplug-run-{}.qmp", std::process::id()));
    config.extra.extend([
        "-qmp".to_string(),
        format!("unix:{},server=on,wait=off", qmp.display()),
    ]);
    let mut args = config.args();
    if std::io::stdin().is_terminal() {
        if let Some(at) = args.windows(2).position(|w| w == ["-serial", "stdio"]) {
            args[at + 1] = "mon:stdio".into();
        }
    }
    eprintln!("{QEMU} {}", args.join(" "));
    eprintln!("run: QMP socket {}", qmp.display());
    // stdin, stdout and stderr are inherited: the serial console is ours.
    let status = Command::new(QEMU).args(&args).status();
    let _ = std::fs::remove_file(&qmp);
    let status = match status {
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
        if !config.apply_flag(&flag, value)? {
            return Err(format!("unknown option {flag}"));
        }
    }
    Ok(config)
}
