//! The platform hardware at boot: I/O APICs masked, ACPI mode on, QEMU's
//! CPU hotplug block switched to its modern interface, its slots matching
//! the MADT, all reported in one `acpi:` boot line.
//!
//! Each test boots `-smp 2,maxcpus=8`, checks that line field by field
//! (the SCI on IRQ 9 level-triggered, the machine's GPE0 block and hotplug
//! port, 8 slots with 2 present and a clean cross-check), then asks QEMU
//! over QMP to `device_del` a hot-added CPU: QEMU refuses that while its
//! hotplug block is in legacy mode ("acpi: device unplug request for not
//! supported device type"), so it checks that the switch really happened
//! (SeaBIOS leaves the block legacy; OVMF switches it itself). Needs
//! `make images` first.

use std::path::Path;

use boot::console::{Console, BOOT_TIMEOUT, COMMAND_TIMEOUT};
use boot::qemu::{Firmware, Machine, QemuConfig};
use boot::qmp::Qmp;

/// What the line must say for one machine.
struct Expected {
    gpe0: &'static str,
    hotplug_base: &'static str,
}

const Q35: Expected = Expected {
    gpe0: "gpe0 0x620+16",
    hotplug_base: "0xcd8",
};

const PC: Expected = Expected {
    gpe0: "gpe0 0xafe0+4",
    hotplug_base: "0xaf00",
};

/// Boots `config` (`-smp 2,maxcpus=8`), checks the `acpi:` line against
/// `expected` and `device_del` over QMP, powers off.
fn boot_and_check(name: &str, config: QemuConfig, expected: Expected) {
    let socket = std::env::temp_dir().join(format!("hp-acpi-{}-{name}.qmp", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let config = config.smp("2,maxcpus=8").extra([
        "-qmp".to_string(),
        format!("unix:{},server=on,wait=off", socket.display()),
    ]);
    let mut console = Console::start(&config);
    console.wait_prompt(BOOT_TIMEOUT);

    let log = console.log();
    let line = match log.lines().find(|l| l.starts_with("acpi: ")) {
        Some(line) => line.to_string(),
        None => console.fail(&format!("{name}: no `acpi:` boot line")),
    };
    let hotplug = format!("cpu hotplug {} (was ", expected.hotplug_base);
    let wanted = [
        "acpi: sci irq 9 (gsi 9, level, high), acpi mode ",
        expected.gpe0,
        ", ioapic 0 at 0xfec00000 gsi 0-23 ",
        &hotplug,
    ];
    for part in wanted {
        if !line.contains(part) {
            console.fail(&format!("{name}: `acpi:` line lacks {part:?}: {line:?}"));
        }
    }
    let mode_ok = line.contains("acpi mode switched,") || line.contains("acpi mode already on,");
    if !mode_ok || !line.ends_with("): 8 slots, 2 present, madt ok") {
        console.fail(&format!("{name}: unexpected `acpi:` line: {line:?}"));
    }

    if let Err(e) = unplug_is_accepted(&socket) {
        console.fail(&format!("{name}: {e}"));
    }
    console.poweroff(COMMAND_TIMEOUT);
    let _ = std::fs::remove_file(&socket);
    eprintln!("acpi_platform: {name}: {line}");
}

/// Hot-adds the CPU with APIC id 5, then asks for it back. What matters
/// here is that QEMU accepts the request, which it does only in modern
/// mode; what the kernel then does is `acpi_hotplug.rs`'s to check.
fn unplug_is_accepted(socket: &Path) -> Result<(), String> {
    let mut qmp = Qmp::connect(socket, COMMAND_TIMEOUT)?;
    let add = qmp.execute(
        r#"{"execute": "device_add", "arguments": {"driver": "max-x86_64-cpu", "id": "c5", "socket-id": 0, "core-id": 5, "thread-id": 0}}"#,
    )?;
    if add.contains(r#""error""#) {
        return Err(format!("device_add failed: {add}"));
    }
    let del = qmp.execute(r#"{"execute": "device_del", "arguments": {"id": "c5"}}"#)?;
    if del.contains(r#""error""#) {
        return Err(format!(
            "device_del refused (hotplug block not modern?): {del}"
        ));
    }
    Ok(())
}

#[test]
fn q35_bios_platform() {
    let config = QemuConfig::default().machine(Machine::Q35);
    boot_and_check("q35_bios", config, Q35);
}

#[test]
fn pc_bios_platform() {
    let config = QemuConfig::default().machine(Machine::Pc);
    boot_and_check("pc_bios", config, PC);
}

#[test]
fn q35_uefi_platform() {
    let config = QemuConfig::default()
        .machine(Machine::Q35)
        .firmware(Firmware::Uefi);
    boot_and_check("q35_uefi", config, Q35);
}
