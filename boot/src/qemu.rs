//! The one place that knows how we start QEMU.
//!
//! Owns the QEMU command line (machine, CPU model, topology, firmware, disk
//! image) and the meaning of QEMU's exit status under `isa-debug-exit`.
//! The runner binary and every QEMU test build their command here, so a
//! test runs exactly what `make run` runs. It never talks to the guest;
//! `console` does that.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::str::FromStr;

/// The QEMU binary; it must be on `PATH`.
pub const QEMU: &str = "qemu-system-x86_64";

/// UEFI firmware image (Debian package `ovmf`). It holds code and variable
/// store in one file, so `-bios` loads it; variables then live only in RAM,
/// which is all a test boot needs.
pub const OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// `isa-debug-exit` I/O port. The kernel writes `v` there and QEMU exits
/// with status `(v << 1) | 1`.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// QEMU exit status when the kernel wrote 0x10 (success).
pub const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;

/// QEMU exit status when the kernel wrote 0x11 (failure).
pub const EXIT_FAILURE: i32 = (0x11 << 1) | 1;

/// Shell status for a QEMU that exited 0 without going through
/// `isa-debug-exit` (reset with `-no-reboot`, e.g. a triple fault).
pub const NO_DEBUG_EXIT: i32 = 2;

/// Memory given to the guest unless a test asks for more.
pub const DEFAULT_MEMORY: &str = "512M";

/// How the guest finished, read from QEMU's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestExit {
    /// The kernel reported success through `isa-debug-exit`.
    Success,
    /// The kernel reported failure through `isa-debug-exit`.
    Failure,
    /// Any other status: QEMU error, triple fault with `-no-reboot`
    /// (status 0), or a crash.
    Other(i32),
    /// QEMU was killed by this signal.
    Signal(i32),
}

impl GuestExit {
    /// Reads QEMU's process status the way `isa-debug-exit` encodes the
    /// kernel's verdict, so callers compare outcomes instead of raw codes.
    pub fn from_status(status: ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(EXIT_SUCCESS), _) => Self::Success,
            (Some(EXIT_FAILURE), _) => Self::Failure,
            (Some(code), _) => Self::Other(code),
            (None, Some(signal)) => Self::Signal(signal),
            (None, None) => Self::Other(-1),
        }
    }

    /// Exit status for a shell: 0 for success, 1 for kernel failure, QEMU's
    /// own status otherwise, 128 + signal for a killed QEMU.
    ///
    /// QEMU's own 0 (a guest shutdown or, with `-no-reboot`, a triple fault)
    /// becomes [`NO_DEBUG_EXIT`]: only the kernel's success code may read as
    /// success.
    pub fn shell_code(self) -> i32 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Other(0) => NO_DEBUG_EXIT,
            Self::Other(code) => code,
            Self::Signal(signal) => 128 + signal,
        }
    }
}

/// Which firmware boots the disk image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS (QEMU's default) with `bios.img`.
    Bios,
    /// OVMF with `uefi.img`.
    Uefi,
}

impl Firmware {
    /// File name of the matching image, as written by `mkimage`.
    pub fn image_name(self) -> &'static str {
        match self {
            Self::Bios => "bios.img",
            Self::Uefi => "uefi.img",
        }
    }
}

impl FromStr for Firmware {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bios" => Ok(Self::Bios),
            "uefi" => Ok(Self::Uefi),
            _ => Err(format!("unknown firmware {s:?} (expected bios or uefi)")),
        }
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bios => "bios",
            Self::Uefi => "uefi",
        })
    }
}

/// QEMU machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// i440FX + PIIX, at most 255 CPUs.
    Pc,
    /// Q35 + ICH9, needed for more than 255 CPUs.
    Q35,
}

impl FromStr for Machine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pc" => Ok(Self::Pc),
            "q35" => Ok(Self::Q35),
            _ => Err(format!("unknown machine {s:?} (expected pc or q35)")),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pc => "pc",
            Self::Q35 => "q35",
        })
    }
}

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
            "stdio".into(),
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

    #[test]
    fn exit_codes_follow_isa_debug_exit() {
        assert_eq!(EXIT_SUCCESS, 33);
        assert_eq!(EXIT_FAILURE, 35);
        assert_eq!(GuestExit::Success.shell_code(), 0);
        assert_eq!(GuestExit::Failure.shell_code(), 1);
        assert_eq!(GuestExit::Other(0).shell_code(), NO_DEBUG_EXIT);
        assert_eq!(GuestExit::Other(1).shell_code(), 1);
        assert_eq!(GuestExit::Signal(9).shell_code(), 137);
    }

    #[test]
    fn parses_make_variables() {
        assert_eq!("uefi".parse(), Ok(Firmware::Uefi));
        assert_eq!("pc".parse(), Ok(Machine::Pc));
        assert!("efi".parse::<Firmware>().is_err());
    }
}
