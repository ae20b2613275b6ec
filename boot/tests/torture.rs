//! `torture`: 2,000 random online/offline/target operations with random
//! faults on 8 CPUs under the demo workload; it must end with `ok` (no
//! unexpected failure, nothing lost, heap back where it was), and every CPU
//! must be online afterwards. `make torture` runs 100,000.

use std::time::Duration;

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table;
use boot::qemu::{Firmware, Machine, QemuConfig};

/// Operations for this test; `HP_TORTURE_OPS` overrides (for `make torture`).
fn ops() -> u32 {
    std::env::var("HP_TORTURE_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

#[test]
fn random_hotplug_with_faults_under_load_loses_nothing() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp("8")
        .memory("1G");
    let mut console = Console::boot(&config);
    let ops = ops();
    // About 2 ms per operation under TCG; allow a generous margin.
    let timeout = COMMAND_TIMEOUT + Duration::from_millis(u64::from(ops) * 20);
    let reply = console.command(&format!("torture {ops} 20261125"), timeout);
    eprintln!("torture: {}", reply.lines.join("\n"));
    eprintln!("torture: {}", reply.status);
    if !reply.is_ok() {
        console.fail(&format!("torture failed: {}", reply.status));
    }
    let rolled_back = reply
        .lines
        .iter()
        .any(|l| l.contains("expected-rollbacks") && !l.contains("expected-rollbacks 0 "));
    if !rolled_back {
        console.fail("the run injected no fault that rolled back");
    }
    let cpus = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&cpus.lines).unwrap_or_else(|e| console.fail(&e));
    if !rows.iter().all(|r| r.is_online()) {
        console.fail("not every CPU is online after the torture run");
    }
    console.poweroff(COMMAND_TIMEOUT);
}
