//! Physical CPU hotplug end to end: QEMU `device_add` / `device_del` of a
//! vCPU over QMP, the kernel's `event:` lines on the serial console, its
//! `cpus` table, and QEMU's own events (`DEVICE_DELETED`, `ACPI_DEVICE_OST`;
//! see `remove_and_see_gone` for what QEMU 10.0 sends on TCG).
//!
//! Each test boots `-smp 2,maxcpus=8` (6 empty slots, APIC ids 2-7 are CPUs
//! 2-7) and walks one scenario: add a CPU, see it online with QEMU's APIC
//! id; remove it, see it ejected and its slot empty; fill the slot again; a
//! removal refused by an armed teardown fault (reported to QEMU through
//! _OST), then one that succeeds; `autoonline off`. Needs `make images`.

mod hotplug_guest;

use std::time::{Duration, Instant};

use boot::console::COMMAND_TIMEOUT;
use boot::cpu_table;
use boot::qemu::{Firmware, Machine, QemuConfig};
use boot::qmp::values;
use hotplug_guest::{
    heap, median, work, Guest, EMPTY_SLOT, EVENT_TIMEOUT, OST_EJECT_REQUEST, OST_REFUSED,
};

/// The whole scenario on one machine.
fn add_remove_refuse_readd(name: &str, config: QemuConfig) {
    let mut m = Guest::boot(name, config);
    let rows = m.cpus();
    let empty = rows.iter().filter(|r| r.presence == EMPTY_SLOT).count();
    if rows.len() != 8 || empty != 6 {
        m.fail(&format!("expected 8 rows, 6 empty slots: {rows:?}"));
    }
    let reply = m.console.command("online 7", COMMAND_TIMEOUT);
    if reply.status != "error: cpu7 is not present" {
        m.fail(&format!("online of an empty slot: {:?}", reply.status));
    }

    m.add_and_see_online("c5", 5);
    m.remove_and_see_gone("c5", 5);
    // The same slot again.
    m.add_and_see_online("c5", 5);

    // A removal the kernel refuses: the offline fails at smp:online.
    m.console.expect_ok("fail 5 smp:online", COMMAND_TIMEOUT);
    let from = m.log_len();
    m.device_del("c5");
    let refused = m.wait_line(from, "event: cpu5 remove refused: ");
    if !refused.contains("smp:online") {
        m.fail(&format!(
            "refusal does not name the failed state: {refused:?}"
        ));
    }
    let ost = m.qmp.wait_event(
        "ACPI_DEVICE_OST",
        |l| {
            values(l, "\"device\": \"").any(|d| d == "c5")
                && values(l, "\"source\": ").any(|s| s == OST_EJECT_REQUEST)
        },
        EVENT_TIMEOUT,
    );
    let ost = ost.unwrap_or_else(|e| m.fail(&e));
    if !values(&ost, "\"status\": ").any(|s| OST_REFUSED.contains(&s)) {
        m.fail(&format!("_OST without a refusal status: {ost}"));
    }
    m.expect_row(5, cpu_table::ONLINE, cpu_table::PRESENT);
    // The fault fired once; now the removal goes through.
    m.remove_and_see_gone("c5", 5);

    // autoonline off: an added CPU waits for `online N`.
    let reply = m.console.expect_ok("autoonline off", COMMAND_TIMEOUT);
    if reply.status != "ok: autoonline off" {
        m.fail(&format!("autoonline off: {:?}", reply.status));
    }
    let from = m.log_len();
    m.device_add("c6", 6);
    m.wait_line(from, "event: cpu6 added (APIC id 6)");
    m.expect_row(6, "offline", cpu_table::PRESENT);
    if m.console.log()[from..].contains("event: cpu6 online") {
        m.fail("cpu6 came online with autoonline off");
    }
    let reply = m.console.expect_ok("online 6", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: cpu6 online in ") {
        m.fail(&format!("online 6: {:?}", reply.status));
    }
    m.expect_row(6, cpu_table::ONLINE, cpu_table::PRESENT);
    m.console.expect_ok("autoonline on", COMMAND_TIMEOUT);
    m.remove_and_see_gone("c6", 6);

    let rows = m.cpus();
    let online = rows.iter().filter(|r| r.is_online()).count();
    if online != 2 {
        m.fail(&format!(
            "expected the 2 boot CPUs online at the end: {rows:?}"
        ));
    }
    m.console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn q35_add_remove_refuse_readd() {
    add_remove_refuse_readd("q35", QemuConfig::default().machine(Machine::Q35));
}

#[test]
fn pc_add_remove_refuse_readd() {
    add_remove_refuse_readd("pc", QemuConfig::default().machine(Machine::Pc));
}

#[test]
fn q35_uefi_add_remove_refuse_readd() {
    let config = QemuConfig::default()
        .machine(Machine::Q35)
        .firmware(Firmware::Uefi);
    add_remove_refuse_readd("q35-uefi", config);
}

#[test]
fn pc_uefi_add_remove_refuse_readd() {
    let config = QemuConfig::default()
        .machine(Machine::Pc)
        .firmware(Firmware::Uefi);
    add_remove_refuse_readd("pc-uefi", config);
}

/// x2APIC: a slot whose APIC id (299) no xAPIC destination can name; the
/// hot-added vCPU starts in xAPIC mode and the kick brings it up in x2APIC.
#[test]
fn x2apic_slot_above_255() {
    let config = QemuConfig::default()
        .machine(Machine::Q35)
        .cpu("qemu64,+x2apic");
    let mut m = Guest::boot_smp("x2apic", config, "2,maxcpus=300");
    m.add_and_see_online("c299", 299);
    let rows = m.cpus();
    match rows.iter().find(|r| r.cpu == 299) {
        Some(r) if r.apic_mode == "x2apic" => {}
        other => m.fail(&format!("cpu299 not running in x2APIC mode: {other:?}")),
    }
    m.remove_and_see_gone("c299", 299);
    m.console.poweroff(COMMAND_TIMEOUT);
}

/// Three `device_add`s in a row before the kernel handled the first, then
/// three `device_del`s, all under the demo workload: each CPU comes and
/// goes, and once the workload stops nothing was lost.
#[test]
fn three_at_once_under_load() {
    let mut m = Guest::boot("burst", QemuConfig::default().machine(Machine::Q35));
    m.console.expect_ok("spawn 32", COMMAND_TIMEOUT);
    let from = m.log_len();
    for cpu in 2..5 {
        m.device_add(&format!("c{cpu}"), cpu);
    }
    for cpu in 2..5 {
        m.wait_line(from, &format!("event: cpu{cpu} added (APIC id {cpu})"));
        let online = m.wait_line(from, &format!("event: cpu{cpu} online"));
        if !online.starts_with(&format!("event: cpu{cpu} online in ")) {
            m.fail(&format!("cpu{cpu}: {online:?}"));
        }
    }
    let from = m.log_len();
    for cpu in 2..5 {
        m.device_del(&format!("c{cpu}"));
    }
    for cpu in 2..5 {
        let done = m.wait_line(from, &format!("event: cpu{cpu} remove"));
        let done = match done.ends_with("requested") {
            true => m.wait_line(from, &format!("event: cpu{cpu} removed")),
            false => done,
        };
        if done != format!("event: cpu{cpu} removed") {
            m.fail(&format!("cpu{cpu}: {done:?}"));
        }
    }
    let rows = m.cpus();
    if rows.iter().filter(|r| r.is_online()).count() != 2
        || rows.iter().filter(|r| r.presence == EMPTY_SLOT).count() != 6
    {
        m.fail(&format!("not back to 2 online and 6 empty: {rows:?}"));
    }
    let (armed, _, _) = work(&mut m);
    if armed == 0 {
        m.fail("the workload never ran");
    }
    m.console.expect_ok("stop", COMMAND_TIMEOUT);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (armed, fired, wakeups) = work(&mut m);
        if armed == fired && fired == wakeups {
            break;
        }
        if Instant::now() > deadline {
            m.fail(&format!(
                "the workload did not drain: armed {armed} fired {fired} wakeups {wakeups}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    m.console.poweroff(COMMAND_TIMEOUT);
}

/// The same slot added and removed 20 times: every cycle completes, and
/// after the first (which may allocate what the CPU keeps for good, as
/// `offline` does) the heap stays where it was. Prints the medians from
/// `device_add` to `event: cpuN online` and from `device_del` to QEMU's
/// DEVICE_DELETED, each with the `cpus` check after it and the waits'
/// 50 ms polls (host time; TCG is noisy, so nothing is asserted about it;
/// `make bench-acpi` gives the finer figures).
///
/// `maxcpus=24`: QEMU 10.0's TCG gives every vCPU it ever creates a
/// translation context of its own and never frees it (the ejected vCPU is
/// never finalized, see `remove_and_see_gone`), and it aborts
/// (`tcg_register_thread: assertion failed: (n < tcg_max_ctxs)`) past
/// `maxcpus` creations; 2 boot CPUs plus 20 additions fit in 24.
#[test]
fn one_slot_twenty_times() {
    let config = QemuConfig::default().machine(Machine::Q35);
    let mut m = Guest::boot_smp("cycles", config, "2,maxcpus=24");
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut after_first = 0;
    for i in 0..20 {
        let start = Instant::now();
        m.add_and_see_online("c3", 3);
        up.push(start.elapsed());
        let start = Instant::now();
        m.remove_and_see_gone("c3", 3);
        down.push(start.elapsed());
        let bytes = heap(&mut m);
        if i == 0 {
            after_first = bytes;
        } else if bytes != after_first {
            m.fail(&format!(
                "cycle {i}: heap {bytes} bytes, {after_first} after the first cycle"
            ));
        }
    }
    eprintln!(
        "acpi_hotplug: 20 cycles (host time, each including one `cpus`): device_add to online median {:?}, device_del to DEVICE_DELETED median {:?}",
        median(&mut up),
        median(&mut down)
    );
    m.console.poweroff(COMMAND_TIMEOUT);
}

/// A CPU whose bring-up fails is left present and offline, with the
/// reason, and `online N` retries it; a CPU resting at a partial target is
/// taken down the rest of the way and ejected.
#[test]
fn failed_bring_up_and_partial_target() {
    let mut m = Guest::boot("partial", QemuConfig::default().machine(Machine::Q35));
    // Armed before the CPU exists: it fires on the hot-add's bring-up.
    m.console.expect_ok("fail 4 smp:online", COMMAND_TIMEOUT);
    let from = m.log_len();
    m.device_add("c4", 4);
    m.wait_line(from, "event: cpu4 added (APIC id 4)");
    let failed = m.wait_line(from, "event: cpu4 online");
    if !failed.starts_with("event: cpu4 online failed: ") || !failed.contains("smp:online") {
        m.fail(&format!(
            "expected a failed bring-up at smp:online: {failed:?}"
        ));
    }
    m.expect_row(4, "offline", cpu_table::PRESENT);
    let reply = m.console.expect_ok("online 4", COMMAND_TIMEOUT);
    if !reply.status.starts_with("ok: cpu4 online in ") {
        m.fail(&format!("online 4: {:?}", reply.status));
    }
    m.expect_row(4, cpu_table::ONLINE, cpu_table::PRESENT);

    m.console
        .expect_ok("target 4 sched:active", COMMAND_TIMEOUT);
    m.remove_and_see_gone("c4", 4);
    m.console.poweroff(COMMAND_TIMEOUT);
}
