//! A guest booted for physical hotplug, its QMP session, and the waits the
//! `acpi_hotplug` tests share: `device_add` / `device_del` of a vCPU, the
//! kernel's `event:` lines, `cpus` rows, QEMU's events.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table::{self, CpuRow};
use boot::qemu::QemuConfig;
use boot::qmp::{values, Qmp};

/// How long one hotplug event may take to show up (TCG on a busy host).
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(60);
/// What `cpus` calls an empty slot that a CPU may be plugged into, once
/// QEMU's CPU hotplug block says it is empty (without a block it would be
/// the MADT's `online-capable`).
pub const EMPTY_SLOT: &str = "absent";
/// _OST eject request (ACPI 6.5 6.3.5.1) and the failure statuses the
/// kernel reports for a refused removal (0x81 in use, 0x82 busy).
pub const OST_EJECT_REQUEST: &str = "3";
pub const OST_REFUSED: [&str; 2] = ["129", "130"];

/// A booted guest with its QMP session.
pub struct Guest {
    pub console: Console,
    pub qmp: Qmp,
    socket: PathBuf,
    /// The CPU model's QOM type, for `device_add`.
    cpu_type: String,
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Guest {
    pub fn boot(name: &str, config: QemuConfig) -> Self {
        Guest::boot_smp(name, config, "2,maxcpus=8")
    }

    pub fn boot_smp(name: &str, config: QemuConfig, smp: &str) -> Self {
        let socket =
            std::env::temp_dir().join(format!("hp-acpihp-{}-{name}.qmp", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        let config = config.smp(smp).extra([
            "-qmp".to_string(),
            format!("unix:{},server=on,wait=off", socket.display()),
        ]);
        let mut console = Console::boot(&config);
        if !console
            .log()
            .lines()
            .any(|l| l.starts_with("acpihp: sci gsi "))
        {
            console.fail("no `acpihp: sci gsi ...` line: physical hotplug is off");
        }
        let mut qmp = match Qmp::connect(&socket, COMMAND_TIMEOUT) {
            Ok(qmp) => qmp,
            Err(e) => console.fail(&e),
        };
        let slots = match qmp.execute_ok(r#"{"execute": "query-hotpluggable-cpus"}"#) {
            Ok(slots) => slots,
            Err(e) => console.fail(&e),
        };
        let cpu_type = match values(&slots, "\"type\": \"").next() {
            Some(t) => t.to_string(),
            None => console.fail(&format!("no CPU type in {slots}")),
        };
        Guest {
            console,
            qmp,
            socket,
            cpu_type,
        }
    }

    pub fn fail(&mut self, what: &str) -> ! {
        let events = self.qmp.kept_events().join("\n");
        self.console
            .fail(&format!("{what}\nQMP events kept:\n{events}"))
    }

    pub fn qmp(&mut self, command: &str) -> String {
        match self.qmp.execute_ok(command) {
            Ok(reply) => reply,
            Err(e) => self.fail(&e),
        }
    }

    /// Plugs a vCPU into core `core` (APIC id `core`) as device `id`.
    pub fn device_add(&mut self, id: &str, core: u32) {
        let command = format!(
            r#"{{"execute": "device_add", "arguments": {{"driver": "{}", "id": "{id}", "socket-id": 0, "core-id": {core}, "thread-id": 0}}}}"#,
            self.cpu_type
        );
        self.qmp(&command);
    }

    pub fn device_del(&mut self, id: &str) {
        self.qmp(&format!(
            r#"{{"execute": "device_del", "arguments": {{"id": "{id}"}}}}"#
        ));
    }

    /// Waits for a serial line starting with `prefix`, printed at or after
    /// byte `from` of the log; returns it.
    pub fn wait_line(&mut self, from: usize, prefix: &str) -> String {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            let log = self.console.log();
            let found = log
                .get(from..)
                .and_then(|tail| tail.lines().find(|l| l.starts_with(prefix)));
            if let Some(line) = found {
                return line.to_string();
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no line starting {prefix:?} within {EVENT_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_len(&self) -> usize {
        self.console.log().len()
    }

    pub fn cpus(&mut self) -> Vec<CpuRow> {
        let reply = self.console.expect_ok("cpus", COMMAND_TIMEOUT);
        match cpu_table::parse(&reply.lines) {
            Ok(rows) => rows,
            Err(e) => self.fail(&format!("cpus: {e}")),
        }
    }

    /// `cpus` row `cpu` must be `state` with presence `presence`.
    pub fn expect_row(&mut self, cpu: u32, state: &str, presence: &str) {
        let rows = self.cpus();
        let row = rows.iter().find(|r| r.cpu == cpu).cloned();
        match row {
            Some(r) if r.state == state && r.presence == presence && r.apic_id == cpu => {}
            other => self.fail(&format!(
                "cpu{cpu}: expected {state} {presence} with APIC id {cpu}, got {other:?}"
            )),
        }
    }

    /// Adds core `cpu` and waits for it to come online by itself.
    pub fn add_and_see_online(&mut self, id: &str, cpu: u32) {
        let from = self.log_len();
        self.device_add(id, cpu);
        self.wait_line(from, &format!("event: cpu{cpu} added (APIC id {cpu})"));
        let online = self.wait_line(from, &format!("event: cpu{cpu} online"));
        if !online.starts_with(&format!("event: cpu{cpu} online in ")) {
            self.fail(&format!("hot-added CPU did not come online: {online:?}"));
        }
        self.expect_row(cpu, cpu_table::ONLINE, cpu_table::PRESENT);
    }

    /// Removes device `id` (core `cpu`) and waits until QEMU deleted it.
    pub fn remove_and_see_gone(&mut self, id: &str, cpu: u32) {
        let from = self.log_len();
        self.device_del(id);
        self.wait_line(from, &format!("event: cpu{cpu} remove requested"));
        let removed = self.wait_line(from, &format!("event: cpu{cpu} remove"));
        let removed = if removed.ends_with("remove requested") {
            self.wait_line(from, &format!("event: cpu{cpu} removed"))
        } else {
            removed
        };
        if removed != format!("event: cpu{cpu} removed") {
            self.fail(&format!("removal of cpu{cpu}: {removed:?}"));
        }
        // QEMU 10.0 with TCG unparents an ejected vCPU but never finalizes
        // it, and sends DEVICE_DELETED from finalization: only its `lapic`
        // child's arrives (the same with a CPU that never ran, so it is
        // not the guest's doing). Accept the device's or its child's, and
        // check QEMU let go of the device: it is no longer a peripheral.
        let path = format!("\"path\": \"/machine/peripheral/{id}");
        if let Err(e) = self
            .qmp
            .wait_event("DEVICE_DELETED", |l| l.contains(&path), EVENT_TIMEOUT)
        {
            self.fail(&e);
        }
        let peripherals =
            self.qmp(r#"{"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}"#);
        if peripherals.contains(&format!("\"name\": \"{id}\"")) {
            self.fail(&format!("{id} is still a peripheral: {peripherals}"));
        }
        self.expect_row(cpu, "offline", EMPTY_SLOT);
    }
}

/// `work`'s `heap` line: bytes in use.
pub fn heap(m: &mut Guest) -> u64 {
    let reply = m.console.expect_ok("work", COMMAND_TIMEOUT);
    let heap = reply.lines.iter().find_map(|l| l.strip_prefix("heap "));
    match heap.and_then(|h| h.trim().parse().ok()) {
        Some(bytes) => bytes,
        None => m.fail("`work` has no heap line"),
    }
}

pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `work`'s status numbers: (armed, fired, wakeups).
pub fn work(m: &mut Guest) -> (u64, u64, u64) {
    let reply = m.console.expect_ok("work", COMMAND_TIMEOUT);
    let nums: Vec<u64> = (reply.summary().unwrap_or("").split_whitespace())
        .filter_map(|n| n.parse().ok())
        .collect();
    match nums[..] {
        [armed, fired, wakeups] => (armed, fired, wakeups),
        _ => m.fail(&format!("bad `work` status {:?}", reply.status)),
    }
}
