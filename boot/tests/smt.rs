//! SMT control (`smt [on|off]`, Linux's `smt/control`) on QEMU topologies.
//!
//! Which CPUs are secondary threads is derived here from the `-smp` string
//! alone (`boot::topology`: QEMU's CPU order, thread id = index modulo
//! threads), never from the kernel, and compared with what the kernel
//! decoded from CPUID: `smt off` must take exactly those offline, keep them
//! so, and `smt on` bring them back. Needs `make images`.

#[allow(dead_code)] // shared with acpi_hotplug; this test uses a part of it
mod hotplug_guest;

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow, ONLINE, PRESENT};
use boot::qemu::{Firmware, QemuConfig};
use boot::topology::SmpTopology;
use hotplug_guest::Guest;

fn cpus(console: &mut Console) -> Vec<CpuRow> {
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")))
}

/// QEMU's secondary threads for `smp`: logical CPU numbers (the kernel
/// numbers CPUs in MADT order, which is QEMU's) whose thread id is not 0.
fn secondaries_of(smp: &str) -> Vec<u32> {
    let t: SmpTopology = smp.parse().expect("valid -smp");
    (0..t.max_cpus).filter(|i| i % t.threads != 0).collect()
}

/// `cpu1 cpu3`, as the kernel lists CPUs.
fn cpu_list(cpus: &[u32]) -> String {
    let names: Vec<String> = cpus.iter().map(|c| format!("cpu{c}")).collect();
    names.join(" ")
}

/// Runs `command` and returns its status line.
fn status(console: &mut Console, command: &str) -> String {
    console.command(command, COMMAND_TIMEOUT).status
}

fn expect_status_prefix(console: &mut Console, command: &str, prefix: &str) -> String {
    let status = status(console, command);
    if !status.starts_with(prefix) {
        console.fail(&format!(
            "{command:?}: expected {prefix:?}..., got {status:?}"
        ));
    }
    status
}

/// Every CPU in `offline` is offline, every other present CPU online.
fn expect_offline_exactly(console: &mut Console, offline: &[u32], when: &str) {
    let rows = cpus(console);
    for row in rows.iter().filter(|r| r.is_present()) {
        let want = if offline.contains(&row.cpu) {
            "offline"
        } else {
            ONLINE
        };
        if row.state != want {
            console.fail(&format!(
                "{when}: cpu{} is {}, expected {want}: {rows:?}",
                row.cpu, row.state
            ));
        }
    }
}

/// `smt` shows the control and, before it, the kernel's topology line.
fn expect_control(console: &mut Console, control: &str, secondaries: &[u32]) -> String {
    let reply = console.command("smt", COMMAND_TIMEOUT);
    if reply.status != format!("ok: smt {control}") {
        console.fail(&format!(
            "smt: expected ok: smt {control}, got {:?}",
            reply.status
        ));
    }
    let info = reply.lines.iter().find(|l| l.starts_with("smt: ")).cloned();
    let info = info.unwrap_or_else(|| console.fail("smt: no `smt:` topology line"));
    let listed = match secondaries {
        [] => "none".to_string(),
        cpus => cpu_list(cpus),
    };
    if !info.ends_with(&format!("secondary threads: {listed}")) {
        console.fail(&format!(
            "smt: expected secondary threads {listed}, got {info:?}"
        ));
    }
    info
}

#[test]
fn smt_off_and_on_with_two_threads_per_core() {
    let smp = "8,sockets=2,cores=2,threads=2";
    let secondaries = secondaries_of(smp);
    assert_eq!(secondaries, [1, 3, 5, 7]);
    let mut console = Console::boot(&QemuConfig::default().smp(smp));
    let info = expect_control(&mut console, "on", &secondaries);
    if !info.contains("thread bits 1") {
        console.fail(&format!("one thread bit expected: {info:?}"));
    }
    expect_status_prefix(&mut console, "smt maybe", "error: ");

    let list = cpu_list(&secondaries);
    expect_status_prefix(
        &mut console,
        "smt off",
        &format!("ok: smt off ({list} offline in "),
    );
    expect_offline_exactly(&mut console, &secondaries, "after smt off");
    expect_control(&mut console, "off", &secondaries);

    // A secondary may not come up, by `online` or an upward `target`, and
    // nothing moves; going down and primaries are not affected.
    let refusal = "error: cpu3 is a secondary SMT thread and smt is off";
    for command in ["online 3", "target 3 online", "target 3 cpu:prepare"] {
        let status = status(&mut console, command);
        if status != refusal {
            console.fail(&format!("{command:?} while smt off: {status:?}"));
        }
    }
    console.expect_ok("target 3 offline", COMMAND_TIMEOUT);
    expect_offline_exactly(&mut console, &secondaries, "after refused onlines");
    console.expect_ok("offline 2", COMMAND_TIMEOUT);
    console.expect_ok("online 2", COMMAND_TIMEOUT);
    // `online all` brings up the primaries and leaves the secondaries out
    // (as Linux's cpuhp_bringup_mask skips them), instead of refusing all.
    console.expect_ok("offline 2", COMMAND_TIMEOUT);
    expect_status_prefix(&mut console, "online all", "ok: cpus ");
    expect_offline_exactly(&mut console, &secondaries, "after online all");
    // Again while off: nothing to move, still off.
    expect_status_prefix(&mut console, "smt off", "ok: smt off");

    expect_status_prefix(
        &mut console,
        "smt on",
        &format!("ok: smt on ({list} online in "),
    );
    expect_offline_exactly(&mut console, &[], "after smt on");
    expect_control(&mut console, "on", &secondaries);

    // A member that fails: rolled back alone, the others go down, and the
    // control stays on (Linux sets it off only if all went down).
    console.expect_ok("fail 5 smp:online", COMMAND_TIMEOUT);
    let reply = console.command("smt off", COMMAND_TIMEOUT);
    if reply.status != "error: smt off: cpu5 did not go offline; smt is on" {
        console.fail(&format!("smt off with a fault on cpu5: {:?}", reply.status));
    }
    let named = reply.lines.iter().any(|l| {
        l.starts_with("smt: cpu5: smp:online teardown failed")
            && l.ends_with("rolled back to online")
    });
    if !named {
        console.fail(&format!("no failure line for cpu5: {:?}", reply.lines));
    }
    expect_offline_exactly(&mut console, &[1, 3, 7], "after a failed smt off");
    expect_control(&mut console, "on", &secondaries);
    console.expect_ok("online 3", COMMAND_TIMEOUT);
    // The fault fired once: now everything goes.
    expect_status_prefix(&mut console, "smt off", "ok: smt off");
    expect_offline_exactly(&mut console, &secondaries, "after the second smt off");
    expect_status_prefix(&mut console, "smt on", "ok: smt on");
    expect_offline_exactly(&mut console, &[], "after the last smt on");
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn no_siblings_is_notsupported() {
    let mut console = Console::boot(&QemuConfig::default().smp("4"));
    expect_control(&mut console, "notsupported", &[]);
    for command in ["smt off", "smt on"] {
        let status = status(&mut console, command);
        if !(status.starts_with("error: ") && status.contains("notsupported")) {
            console.fail(&format!("{command:?} without siblings: {status:?}"));
        }
    }
    expect_status_prefix(&mut console, "smt x", "error: ");
    expect_offline_exactly(&mut console, &[], "after refused switches");
    console.poweroff(COMMAND_TIMEOUT);
}

/// Leaf 0x1F wins where it is implemented and falls back to 0x0B where it
/// reads zeros. QEMU 10's TCG `max` stops at leaf 0x0D, so the CPU model
/// raises its level to 0x1F; QEMU fills the leaf in only with more than one
/// die (or module). Booted with OVMF: under SeaBIOS, QEMU 10.0.2 aborts on
/// this CPU model (`encode_topo_cpuid1f: Assertion count <=
/// CPU_TOPOLOGY_LEVEL_SOCKET failed`) before the kernel runs.
#[test]
fn leaf_1f_where_qemu_fills_it_in() {
    let smp = "4,dies=2,cores=1,threads=2";
    let secondaries = secondaries_of(smp);
    assert_eq!(secondaries, [1, 3]);
    let config = QemuConfig::default()
        .firmware(Firmware::Uefi)
        .cpu("max,level=31");
    let mut console = Console::boot(&config.clone().smp(smp));
    let info = expect_control(&mut console, "on", &secondaries);
    if !info.contains("thread bits 1, CPUID leaf 0x1f") {
        console.fail(&format!("leaf 0x1f expected with dies=2: {info:?}"));
    }
    expect_status_prefix(
        &mut console,
        "smt off",
        "ok: smt off (cpu1 cpu3 offline in ",
    );
    expect_offline_exactly(&mut console, &secondaries, "after smt off");
    expect_status_prefix(&mut console, "smt on", "ok: smt on (cpu1 cpu3 online in ");
    expect_offline_exactly(&mut console, &[], "after smt on");
    console.poweroff(COMMAND_TIMEOUT);

    // One die: leaf 0x1F is within the level but empty.
    let smp = "4,cores=2,threads=2";
    let mut console = Console::boot(&config.smp(smp));
    let info = expect_control(&mut console, "on", &secondaries_of(smp));
    if !info.contains("thread bits 1, CPUID leaf 0x0b") {
        console.fail(&format!("leaf 0x0b expected with one die: {info:?}"));
    }
    console.poweroff(COMMAND_TIMEOUT);
}

/// A secondary thread plugged in while smt is off stays offline and says
/// why; a primary plugged in comes up; `smt on` brings both secondaries.
#[test]
fn hot_added_secondary_stays_offline_while_smt_off() {
    let smp = "2,cores=2,threads=2,maxcpus=4";
    assert_eq!(secondaries_of(smp), [1, 3]);
    let mut m = Guest::boot_smp("smt", QemuConfig::default(), smp);
    expect_status_prefix(&mut m.console, "smt off", "ok: smt off (cpu1 offline in ");

    let from = m.log_len();
    add_thread(&mut m, "t3", 1, 1);
    m.wait_line(from, "event: cpu3 added (APIC id 3)");
    let line = m.wait_line(from, "event: cpu3 online");
    if line != "event: cpu3 online failed: cpu3 is a secondary SMT thread and smt is off" {
        m.fail(&format!("hot-added secondary while smt off: {line:?}"));
    }
    m.expect_row(3, "offline", PRESENT);

    let from = m.log_len();
    add_thread(&mut m, "t2", 1, 0);
    let line = m.wait_line(from, "event: cpu2 online");
    if !line.starts_with("event: cpu2 online in ") {
        m.fail(&format!("hot-added primary: {line:?}"));
    }
    expect_status_prefix(&mut m.console, "smt on", "ok: smt on (cpu1 cpu3 online in ");
    expect_offline_exactly(&mut m.console, &[], "after smt on");
    m.console.poweroff(COMMAND_TIMEOUT);
}

/// Plugs thread `thread` of core `core` (socket 0) in as device `id`.
fn add_thread(m: &mut Guest, id: &str, core: u32, thread: u32) {
    let slots = m.qmp(r#"{"execute": "query-hotpluggable-cpus"}"#);
    let driver = boot::qmp::values(&slots, "\"type\": \"")
        .next()
        .map(str::to_owned);
    let driver = driver.unwrap_or_else(|| m.fail(&format!("no CPU type in {slots}")));
    m.qmp(&format!(
        r#"{{"execute": "device_add", "arguments": {{"driver": "{driver}", "id": "{id}", "socket-id": 0, "core-id": {core}, "thread-id": {thread}}}}}"#
    ));
}
