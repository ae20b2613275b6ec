//! The console is interrupt-driven: COM1's receive interrupt and the log
//! buffer wake it, so an idle boot CPU takes (almost) no interrupts, where
//! the old 1 ms UART poll cost it about 1,000 a second. Input and log lines
//! still arrive. Needs `make images` first.

use std::thread::sleep;
use std::time::Duration;

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table;
use boot::qemu::QemuConfig;

/// cpu0's interrupt count (the `cpus` column after the APIC mode).
fn cpu0_interrupts(console: &mut Console) -> u64 {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines).unwrap_or_else(|e| console.fail(&e));
    let row = rows.iter().find(|r| r.cpu == 0);
    row.and_then(|r| r.extra.first())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| console.fail("`cpus` has no interrupt count for cpu0"))
}

#[test]
fn an_idle_boot_cpu_takes_no_polling_interrupts() {
    let mut console = Console::boot(&QemuConfig::default().smp("2"));
    if !console.log().contains("console: COM1 interrupt-driven") {
        console.fail("the console did not say it is interrupt-driven");
    }
    let before = cpu0_interrupts(&mut console);
    sleep(Duration::from_secs(2));
    let after = cpu0_interrupts(&mut console);
    // Polling every 1 ms took ~2,000 here; the two `cpus` commands
    // themselves cost a few dozen (their bytes, the output's waits).
    let taken = after - before;
    if taken > 300 {
        console.fail(&format!("idle cpu0 took {taken} interrupts in 2 s"));
    }
    eprintln!("console_irq: idle cpu0 took {taken} interrupts in 2 s");
    // Log lines from another CPU still come out while the console idles:
    // the AP's own failure line precedes the status line.
    console.expect_ok("fail 1 threads:online", COMMAND_TIMEOUT);
    let reply = console.command("offline 1", COMMAND_TIMEOUT);
    if !reply
        .lines
        .iter()
        .any(|l| l.starts_with("cpu1: threads:online teardown failed"))
    {
        console.fail("the AP's log line did not come out");
    }
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}
