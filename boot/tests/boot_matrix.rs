//! Boot matrix: every machine, firmware, CPU model and topology we support
//! must reach the console, list the CPUs QEMU created, and power off
//! cleanly.
//!
//! Each test boots one configuration, waits for the first prompt, runs
//! `cpus`, compares the table with the APIC ids computed from QEMU's `-smp`
//! topology, runs `poweroff` and requires exit status 33. A failure panics
//! with the whole serial log. Needs `make images` first.

use std::time::{Duration, Instant};

use boot::console::{Console, BOOT_TIMEOUT, COMMAND_TIMEOUT};
use boot::cpu_table;
use boot::qemu::{Firmware, Machine, QemuConfig};
use boot::topology::SmpTopology;

/// Boot-to-prompt deadline for the 288-CPU configuration.
const HUGE_BOOT_TIMEOUT: Duration = Duration::from_secs(400);

/// Boots `config`, checks `cpus` against its topology (and every online
/// CPU's APIC mode, if `mode` is given) and powers off.
fn boot_and_check(name: &str, config: QemuConfig, mode: Option<&str>, boot_timeout: Duration) {
    let topology: SmpTopology = config
        .smp
        .parse()
        .unwrap_or_else(|e| panic!("{name}: bad -smp {:?}: {e}", config.smp));
    let mut console = Console::start(&config);
    console.wait_prompt(boot_timeout);
    let boot = console.elapsed();

    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("{name}: cannot parse `cpus`: {e}")));
    if let Err(e) = cpu_table::check_boot(&rows, &topology, mode) {
        console.fail(&format!("{name}: `cpus` does not match QEMU:\n{e}"));
    }

    let before_poweroff = Instant::now();
    console.poweroff(COMMAND_TIMEOUT);
    eprintln!(
        "boot_matrix: {name}: prompt after {:.1}s, poweroff {:.1}s, total {:.1}s",
        boot.as_secs_f64(),
        before_poweroff.elapsed().as_secs_f64(),
        console.elapsed().as_secs_f64(),
    );
}

fn bios_q35() -> QemuConfig {
    QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
}

#[test]
fn bios_q35_smp1() {
    boot_and_check("bios_q35_smp1", bios_q35().smp("1"), None, BOOT_TIMEOUT);
}

#[test]
fn bios_q35_smp2() {
    boot_and_check("bios_q35_smp2", bios_q35().smp("2"), None, BOOT_TIMEOUT);
}

#[test]
fn bios_q35_smp4() {
    boot_and_check("bios_q35_smp4", bios_q35().smp("4"), None, BOOT_TIMEOUT);
}

#[test]
fn bios_q35_smp8() {
    boot_and_check("bios_q35_smp8", bios_q35().smp("8"), None, BOOT_TIMEOUT);
}

#[test]
fn bios_q35_smp64() {
    boot_and_check("bios_q35_smp64", bios_q35().smp("64"), None, BOOT_TIMEOUT);
}

#[test]
fn bios_pc_smp4() {
    let config = bios_q35().machine(Machine::Pc).smp("4");
    boot_and_check("bios_pc_smp4", config, None, BOOT_TIMEOUT);
}

#[test]
fn uefi_q35_smp4() {
    let config = bios_q35().firmware(Firmware::Uefi).smp("4");
    boot_and_check("uefi_q35_smp4", config, None, BOOT_TIMEOUT);
}

/// OVMF leaves its APs in a MONITOR/MWAIT loop that spins under TCG; the
/// kernel parks them with INIT before bring-up (4.9 s -> 0.1 s here).
#[test]
fn uefi_q35_smp64() {
    let config = bios_q35().firmware(Firmware::Uefi).smp("64");
    boot_and_check("uefi_q35_smp64", config, None, BOOT_TIMEOUT);
}

#[test]
fn uefi_pc_smp4() {
    let config = bios_q35()
        .firmware(Firmware::Uefi)
        .machine(Machine::Pc)
        .smp("4");
    boot_and_check("uefi_pc_smp4", config, None, BOOT_TIMEOUT);
}

#[test]
fn qemu64_runs_xapic() {
    let config = bios_q35().cpu("qemu64").smp("4");
    boot_and_check("qemu64_runs_xapic", config, Some("xapic"), BOOT_TIMEOUT);
}

#[test]
fn qemu64_x2apic_runs_x2apic() {
    let config = bios_q35().cpu("qemu64,+x2apic").smp("4");
    boot_and_check(
        "qemu64_x2apic_runs_x2apic",
        config,
        Some("x2apic"),
        BOOT_TIMEOUT,
    );
}

#[test]
fn maxcpus_lists_absent_cpus() {
    let config = bios_q35().smp("2,maxcpus=4");
    boot_and_check("maxcpus_lists_absent_cpus", config, None, BOOT_TIMEOUT);
}

#[test]
fn sockets_leave_apic_id_gaps() {
    let config = bios_q35().smp("6,sockets=2,cores=3");
    boot_and_check("sockets_leave_apic_id_gaps", config, None, BOOT_TIMEOUT);
}

#[test]
fn x2apic_ids_above_255() {
    let config = bios_q35().cpu("qemu64,+x2apic").smp("288").memory("1G");
    boot_and_check(
        "x2apic_ids_above_255",
        config,
        Some("x2apic"),
        HUGE_BOOT_TIMEOUT,
    );
}
