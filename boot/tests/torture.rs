//! `torture`: 2,000 random online/offline/target operations with random
//! faults on 8 CPUs under the demo workload; it must end with `ok` (no
//! unexpected failure, nothing lost, heap back where it was), and every CPU
//! must be online afterwards. `make torture` runs 100,000. And the same
//! under a workload the user started, which torture pauses to check
//! instead of stopping it.

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

/// SMP for the run under the user's workload; `HP_TORTURE_SMP` overrides.
fn workload_smp() -> String {
    std::env::var("HP_TORTURE_SMP").unwrap_or_else(|_| "8".into())
}

/// Under a workload the user started (`spawn 16`), every running demo
/// thread holds an armed sleep at any moment: torture must count that as
/// in flight, not lost, and still end `ok`, with the heap checked; the
/// user's threads keep running afterwards.
#[test]
fn torture_under_the_users_own_workload_loses_nothing() {
    let config = QemuConfig::default().smp(&workload_smp()).memory("1G");
    let mut console = Console::boot(&config);
    console.expect_ok("spawn 16", COMMAND_TIMEOUT);
    let timeout = COMMAND_TIMEOUT + Duration::from_millis(1500 * 20);
    let reply = console.command("torture 1500 3", timeout);
    eprintln!("torture: {}", reply.lines.join("\n"));
    eprintln!("torture: {}", reply.status);
    if !reply.is_ok() {
        console.fail(&format!("torture under spawn 16 failed: {}", reply.status));
    }
    if !reply.lines.iter().any(|l| l.starts_with("heap before")) {
        console.fail("torture printed no heap check");
    }
    let armed = |console: &mut Console| -> u64 {
        let work = console.expect_ok("work", COMMAND_TIMEOUT);
        work.summary()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| console.fail(&format!("bad `work` status {:?}", work.status)))
    };
    let before = armed(&mut console);
    std::thread::sleep(Duration::from_millis(500));
    if armed(&mut console) <= before {
        console.fail("the user's demo threads stopped running after torture");
    }
    console.poweroff(COMMAND_TIMEOUT);
}
