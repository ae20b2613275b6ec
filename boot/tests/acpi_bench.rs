//! Figures for physical hotplug (`make bench-acpi`; ignored by `make
//! test`): how long QMP `device_add` takes to become `event: cpuN online`
//! and `device_del` to become QEMU's `DEVICE_DELETED`, as medians over
//! [`TRIES`] tries of one slot, and CPU 0's idle interrupt rate. Host time
//! on a TCG guest, so only the order of magnitude means much. Needs `make
//! images`.
//!
//! - add: from just before the QMP `device_add` is written to the moment
//!   the serial log shows `event: cpu3 online in U us` (polled every
//!   millisecond). It includes the QMP round trip (also given alone), and
//!   the kernel's own `U`, the state machine's part, is given too.
//! - remove: from just before the QMP `device_del` is written to QEMU's
//!   own timestamp on `DEVICE_DELETED` (QEMU stamps events with the host's
//!   wall clock, so reading the event back is not counted); the time until
//!   the client has read it is given too.
//! - idle: CPU 0's `IRQS` over 5 s with nothing to do, less what one `cpus`
//!   command costs (measured by two in a row).

// Shared with acpi_hotplug.rs, which uses the rest of it.
#[allow(dead_code)]
mod hotplug_guest;

use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use boot::cpu_table;
use boot::qemu::{Machine, QemuConfig};
use boot::qmp::values;
use hotplug_guest::{median, Guest, EVENT_TIMEOUT};

/// Odd, so the median is one try. QEMU 10.0's TCG aborts past `maxcpus`
/// vCPU creations (see acpi_hotplug.rs), so `maxcpus` is 2 + TRIES + 1.
const TRIES: usize = 21;
const SMP: &str = "2,maxcpus=24";
const IDLE: Duration = Duration::from_secs(5);

fn cpu0_irqs(m: &mut Guest) -> u64 {
    let rows = m.cpus();
    let row = rows.iter().find(|r| r.cpu == 0);
    row.and_then(|r| r.extra.first())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| m.fail("`cpus` has no interrupt count for cpu0"))
}

/// Polls the log every millisecond for a line starting with `prefix`
/// after byte `from`; returns it and when it was seen whole.
fn seen_line(m: &mut Guest, from: usize, prefix: &str) -> (String, Instant) {
    let deadline = Instant::now() + EVENT_TIMEOUT;
    loop {
        let log = m.console.log();
        // Whole lines only: the poll may catch one half written.
        let found = log.get(from..).and_then(|t| {
            t.split_inclusive('\n')
                .find(|l| l.starts_with(prefix) && l.ends_with('\n'))
        });
        if let Some(line) = found {
            return (line.trim_end().to_string(), Instant::now());
        }
        if Instant::now() > deadline {
            m.fail(&format!("no {prefix:?} within {EVENT_TIMEOUT:?}"));
        }
        sleep(Duration::from_millis(1));
    }
}

/// QEMU's timestamp on an event line, as time since the epoch.
fn qmp_timestamp(event: &str) -> Option<Duration> {
    let seconds: u64 = values(event, "\"seconds\": ").next()?.trim().parse().ok()?;
    let micros: u64 = values(event, "\"microseconds\": ")
        .next()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds) + Duration::from_micros(micros))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[test]
#[ignore = "a benchmark: make bench-acpi"]
fn hotplug_latency_and_idle_interrupts() {
    let mut m = Guest::boot_smp("bench", QemuConfig::default().machine(Machine::Q35), SMP);

    let first = cpu0_irqs(&mut m);
    let second = cpu0_irqs(&mut m);
    sleep(IDLE);
    let after_idle = cpu0_irqs(&mut m);
    let per_command = second - first;
    let idle = (after_idle - second).saturating_sub(per_command);
    eprintln!(
        "acpi_bench: idle cpu0: {idle} interrupts in {IDLE:?} ({} raw, one `cpus` costs {per_command})",
        after_idle - second
    );

    let (mut add, mut add_qmp, mut add_kernel) = (Vec::new(), Vec::new(), Vec::new());
    let (mut del, mut del_read) = (Vec::new(), Vec::new());
    let path = "\"path\": \"/machine/peripheral/c3";
    for _ in 0..TRIES {
        let from = m.log_len();
        let start = Instant::now();
        m.device_add("c3", 3);
        add_qmp.push(start.elapsed());
        let (online, at) = seen_line(&mut m, from, "event: cpu3 online");
        add.push(at - start);
        let us = online
            .strip_prefix("event: cpu3 online in ")
            .and_then(|rest| rest.strip_suffix(" us"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| m.fail(&format!("hot-add failed: {online:?}")));
        add_kernel.push(Duration::from_micros(us));

        let from = m.log_len();
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let start = Instant::now();
        m.device_del("c3");
        let deleted = m
            .qmp
            .wait_event("DEVICE_DELETED", |l| l.contains(path), EVENT_TIMEOUT)
            .unwrap_or_else(|e| m.fail(&e));
        del_read.push(start.elapsed());
        match qmp_timestamp(&deleted) {
            Some(stamp) if stamp >= wall => del.push(stamp - wall),
            Some(_) => m.fail(&format!("a DEVICE_DELETED from before this try: {deleted}")),
            None => m.fail(&format!("DEVICE_DELETED without a timestamp: {deleted}")),
        }
        m.wait_line(from, "event: cpu3 removed");
        // The id is free again before the next add (see acpi_hotplug.rs).
        let peripherals =
            m.qmp(r#"{"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}"#);
        if peripherals.contains("\"name\": \"c3\"") {
            m.fail(&format!("c3 is still a peripheral: {peripherals}"));
        }
    }
    m.expect_row(3, "offline", hotplug_guest::EMPTY_SLOT);
    let online = m
        .cpus()
        .iter()
        .filter(|r| r.state == cpu_table::ONLINE)
        .count();
    if online != 2 {
        m.fail(&format!("{online} CPUs online after the tries, not 2"));
    }
    eprintln!(
        "acpi_bench: {TRIES} tries, medians (host time): device_add to `event: cpu3 online` {} \
         (of which the QMP device_add round trip {}, the kernel's own online {}); \
         device_del to DEVICE_DELETED {} by QEMU's timestamp ({} until read over QMP)",
        ms(median(&mut add)),
        ms(median(&mut add_qmp)),
        ms(median(&mut add_kernel)),
        ms(median(&mut del)),
        ms(median(&mut del_read)),
    );
    m.console.poweroff(hotplug_guest::EVENT_TIMEOUT);
}
