//! Device interrupts follow CPU hotplug: COM1's receive interrupt aimed at
//! an AP moves to a live CPU when that AP goes offline (`irq:affinity`'s
//! teardown) and when it is forced offline after a hang (`irq:prepare`'s),
//! and the console keeps answering throughout. Needs `make images` first.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;

/// `irq`: (name, CPU) per routed line.
fn lines(console: &mut Console) -> Vec<(String, u32)> {
    let reply = console.expect_ok("irq", COMMAND_TIMEOUT);
    (reply
        .lines
        .iter()
        .skip_while(|l| !l.starts_with("IRQ"))
        .skip(1))
    .map(|l| l.split_whitespace().collect::<Vec<_>>())
    .filter(|cols| cols.len() == 3)
    .map(|cols| (cols[0].to_string(), cols[2].parse().unwrap_or(u32::MAX)))
    .collect()
}

fn serial_cpu(console: &mut Console) -> u32 {
    let found = lines(console)
        .into_iter()
        .find(|(name, _)| name == "serial");
    found.map_or_else(
        || console.fail("`irq` does not list serial"),
        |(_, cpu)| cpu,
    )
}

#[test]
fn the_console_interrupt_leaves_a_cpu_that_goes_offline_or_is_forced_down() {
    let mut console = Console::boot(&QemuConfig::default().smp("3"));
    let at_boot = lines(&mut console);
    if !at_boot.contains(&("serial".into(), 0)) || !at_boot.contains(&("sci".into(), 0)) {
        console.fail(&format!(
            "expected sci and serial on cpu0 at boot: {at_boot:?}"
        ));
    }
    let refused = console.command("irq serial 7", COMMAND_TIMEOUT);
    if !refused
        .error()
        .is_some_and(|e| e.contains("cpu7 is not active"))
    {
        console.fail(&format!(
            "aiming at a CPU that is not up: {:?}",
            refused.status
        ));
    }

    // A clean offline moves it.
    console.expect_ok("irq serial 2", COMMAND_TIMEOUT);
    if serial_cpu(&mut console) != 2 {
        console.fail("serial did not move to cpu2");
    }
    console.expect_ok("cpus", COMMAND_TIMEOUT);
    console.expect_ok("offline 2", COMMAND_TIMEOUT);
    let after_offline = serial_cpu(&mut console);
    if after_offline == 2 {
        console.fail("serial still aimed at offline cpu2");
    }

    // A forced offline moves it too (its own teardown never ran).
    console.expect_ok("online 2", COMMAND_TIMEOUT);
    console.expect_ok("irq serial 2", COMMAND_TIMEOUT);
    console.expect_ok("hang 2 smp:online", COMMAND_TIMEOUT);
    let forced = console.command("offline 2", COMMAND_TIMEOUT);
    if forced.error() != Some("cpu2: smp:online teardown timed out; cpu2 forced offline") {
        console.fail(&format!("expected a forced offline: {:?}", forced.status));
    }
    if serial_cpu(&mut console) == 2 {
        console.fail("serial still aimed at cpu2 after it was forced offline");
    }
    console.expect_ok("online 2", COMMAND_TIMEOUT);
    console.expect_ok("cpus", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}
