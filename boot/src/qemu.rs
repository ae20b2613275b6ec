//! The one place that knows how we start QEMU.
//!
//! Owns the QEMU command line (machine, CPU model, topology, firmware, disk
//! image) and the meaning of QEMU's exit status under `isa-debug-exit`.
//! The runner binary and every QEMU test build their command here, so a
//! test runs exactly what `make run` runs. It never talks to the guest;
//! `console` does that.
//!
//! The exit-status meaning lives in `exit` and the machine and firmware
//! names in `platform`; both are re-exported here, so callers name
//! everything as `boot::qemu::...`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod exit;
mod platform;

pub use exit::{GuestExit, DEBUG_EXIT_PORT, EXIT_FAILURE, EXIT_SUCCESS, NO_DEBUG_EXIT};
pub use platform::{Firmware, Machine};

/// The QEMU binary; it must be on `PATH`.
pub const QEMU: &str = "qemu-system-x86_64";

/// UEFI firmware image (Debian package `ovmf`). It holds code and variable
/// store in one file, so `-bios` loads it; variables then live only in RAM,
/// which is all a test boot needs.
pub const OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// Memory given to the guest unless a test asks for more.
pub const DEFAULT_MEMORY: &str = "512M";

/// Directory holding `bios.img` and `uefi.img`.
///
/// `HP_IMAGE_DIR` at run time wins (cargo sets it from `.cargo/config.toml`
/// for `cargo run` and `cargo test`), then the value seen at compile time,
/// then `target/images` in the workspace.
pub fn image_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HP_IMAGE_DIR") {
        return dir.into();
    }
    if let Some(dir) = option_env!("HP_IMAGE_DIR") {
        return dir.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/images")
}

/// Everything that varies between QEMU runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    /// `-machine` type; TCG acceleration is always added.
    pub machine: Machine,
    /// `-cpu` model and flags, e.g. `max` or `qemu64,+x2apic`.
    pub cpu: String,
    /// `-smp` string, e.g. `4` or `6,sockets=2,cores=3`.
    pub smp: String,
    /// `-m` value, e.g. `512M`.
    pub memory: String,
    /// Firmware, which also picks the disk image (`bios.img` or `uefi.img`).
    pub firmware: Firmware,
    /// Directory the disk image is taken from (see [`image_dir`]).
    pub image_dir: PathBuf,
    /// Where COM1 goes, as `-serial` takes it: `stdio` (the default; the
    /// console tests read it), or e.g. `file:PATH` while gdb has the
    /// terminal (`make debug`).
    pub serial: String,
    /// Appended verbatim after our own arguments.
    pub extra: Vec<String>,
}

impl Default for QemuConfig {
    /// q35, `-cpu max`, 4 CPUs, 512M, BIOS: the `make run` defaults.
    fn default() -> Self {
        Self {
            machine: Machine::Q35,
            cpu: "max".into(),
            smp: "4".into(),
            memory: DEFAULT_MEMORY.into(),
            firmware: Firmware::Bios,
            image_dir: image_dir(),
            serial: "stdio".into(),
            extra: Vec::new(),
        }
    }
}

impl QemuConfig {
    /// Sets the machine type (`pc` or `q35`); builder style, so a test reads
    /// as one expression.
    pub fn machine(mut self, machine: Machine) -> Self {
        self.machine = machine;
        self
    }

    /// Sets the `-cpu` model and flags, e.g. `qemu64,+x2apic` to give a CPU
    /// model without x2APIC that feature (needed above 255 CPUs).
    pub fn cpu(mut self, cpu: &str) -> Self {
        self.cpu = cpu.into();
        self
    }

    /// Sets the `-smp` topology string, passed to QEMU verbatim; parse it
    /// with [`crate::topology::SmpTopology`] to know the expected APIC ids.
    pub fn smp(mut self, smp: &str) -> Self {
        self.smp = smp.into();
        self
    }

    /// Sets the `-m` guest memory size, e.g. `2G` for the benchmark's
    /// large CPU counts.
    pub fn memory(mut self, memory: &str) -> Self {
        self.memory = memory.into();
        self
    }

    /// Sets the firmware, and with it the disk image that is booted.
    pub fn firmware(mut self, firmware: Firmware) -> Self {
        self.firmware = firmware;
        self
    }

    /// Applies one of the command-line flags every boot binary takes
    /// (`--machine`, `--cpu`, `--smp`, `--memory`, `--firmware`,
    /// `--image-dir`, as `make run` passes them). `Ok(false)`: not one of
    /// them, for the binary's own flags.
    pub fn apply_flag(&mut self, flag: &str, value: String) -> Result<bool, String> {
        match flag {
            "--machine" => self.machine = value.parse()?,
            "--cpu" => self.cpu = value,
            "--smp" => self.smp = value,
            "--memory" => self.memory = value,
            "--firmware" => self.firmware = value.parse()?,
            "--image-dir" => self.image_dir = value.into(),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Sends COM1 to `spec` (`-serial` syntax) instead of stdio.
    pub fn serial(mut self, spec: &str) -> Self {
        self.serial = spec.into();
        self
    }

    /// Appends raw QEMU arguments after ours (e.g. `-d int`), for what the
    /// typed fields do not cover.
    pub fn extra<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra.extend(args.into_iter().map(Into::into));
        self
    }

    /// The disk image this configuration boots.
    pub fn image(&self) -> PathBuf {
        self.image_dir.join(self.firmware.image_name())
    }

    /// The machine every guest gets, ours or Linux: TCG, CPUs, memory,
    /// serial on stdio, no display, no reboot.
    fn machine_args(&self) -> Vec<String> {
        vec![
            "-machine".into(),
            format!("{},accel=tcg", self.machine),
            "-cpu".into(),
            self.cpu.clone(),
            "-smp".into(),
            self.smp.clone(),
            "-m".into(),
            self.memory.clone(),
            "-serial".into(),
            self.serial.clone(),
            "-display".into(),
            "none".into(),
            "-no-reboot".into(),
        ]
    }

    /// The same machine booting a Linux kernel directly (`make bench-linux`).
    pub fn linux_command(&self, kernel: &Path, initrd: &Path, append: &str) -> Command {
        let mut command = Command::new(QEMU);
        command.args(self.machine_args());
        command
            .arg("-kernel")
            .arg(kernel)
            .arg("-initrd")
            .arg(initrd)
            .arg("-append")
            .arg(append);
        command.args(&self.extra);
        command
    }

    /// Arguments after the QEMU binary name.
    pub fn args(&self) -> Vec<String> {
        let mut args = self.machine_args();
        args.extend([
            "-drive".into(),
            // snapshot=on: guest writes go to a temporary overlay, so the
            // image stays pristine and parallel guests can share it.
            // file.locking=off: we never write the image, so a stray QEMU
            // that opened it writable must not make our boot fail with
            // "Failed to get shared write lock".
            format!(
                "format=raw,file={},snapshot=on,file.locking=off",
                self.image().display()
            ),
            "-device".into(),
            format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"),
        ]);
        if self.firmware == Firmware::Uefi {
            args.extend(["-bios".into(), OVMF.into()]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    /// A `Command` ready to spawn; the caller chooses stdio.
    pub fn command(&self) -> Command {
        let mut command = Command::new(QEMU);
        command.args(self.args());
        command
    }

    /// The command line as one shell-pasteable string, for logs.
    pub fn command_line(&self) -> String {
        std::iter::once(QEMU.to_owned())
            .chain(self.args().iter().map(|a| shell_quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Fails with a hint when the image has not been built.
    pub fn check_image(&self) -> Result<(), String> {
        let image = self.image();
        if image.is_file() {
            Ok(())
        } else {
            Err(format!(
                "disk image {} is missing; run `make images`",
                image.display()
            ))
        }
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=,.:/+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> QemuConfig {
        QemuConfig {
            image_dir: "/img".into(),
            ..QemuConfig::default()
        }
    }

    #[test]
    fn default_command_line() {
        assert_eq!(
            config().command_line(),
            "qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 4 -m 512M \
             -serial stdio -display none -no-reboot \
             -drive format=raw,file=/img/bios.img,snapshot=on,file.locking=off \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04"
        );
    }

    #[test]
    fn uefi_adds_firmware_then_extra_args() {
        let line = config()
            .firmware(Firmware::Uefi)
            .machine(Machine::Pc)
            .cpu("qemu64,+x2apic")
            .smp("6,sockets=2,cores=3")
            .memory("1G")
            .extra(["-d", "int"])
            .command_line();
        assert!(line.contains("-machine pc,accel=tcg -cpu qemu64,+x2apic"));
        assert!(line.contains("-smp 6,sockets=2,cores=3 -m 1G"));
        assert!(line.contains("file=/img/uefi.img,snapshot=on,file.locking=off"));
        assert!(line.ends_with("-bios /usr/share/ovmf/OVMF.fd -d int"));
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("q35,accel=tcg"), "q35,accel=tcg");
    }
}
