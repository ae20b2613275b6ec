//! Checks `boot::topology` against QEMU itself: for each `-smp` string,
//! QEMU (stopped before the first instruction, no guest, no disk) reports
//! the APIC id of every CPU it created, over QMP. Those must equal what the
//! boot tests expect from the kernel.
//!
//! This bypasses `QemuConfig` on purpose: it boots nothing and needs no
//! disk image, only QEMU's view of the topology.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use boot::qemu::QEMU;
use boot::qmp::{values, Qmp};
use boot::topology::SmpTopology;

/// How long QEMU gets to answer one QMP command (`-smp 288` included).
const QMP_TIMEOUT: Duration = Duration::from_secs(60);

/// A QEMU stopped with `-S`, driven over QMP on stdio.
struct StoppedQemu {
    child: Child,
    qmp: Qmp,
}

impl StoppedQemu {
    fn start(smp: &str) -> Self {
        let mut child = Command::new(QEMU)
            .args(["-machine", "q35,accel=tcg", "-cpu", "qemu64,+x2apic"])
            .args(["-smp", smp, "-m", "1G", "-S"])
            .args(["-nodefaults", "-display", "none", "-qmp", "stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start QEMU");
        let input = child.stdin.take().expect("piped stdin");
        let output = child.stdout.take().expect("piped stdout");
        match Qmp::over(output, input, QMP_TIMEOUT) {
            Ok(qmp) => Self { child, qmp },
            Err(e) => {
                let _ = child.kill();
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("QMP: {e}; stderr:\n{stderr}");
            }
        }
    }

    fn execute(&mut self, command: &str) -> String {
        self.qmp
            .execute_ok(command)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// APIC ids of the CPUs QEMU created, by CPU index.
    fn apic_ids(&mut self) -> Vec<u32> {
        let cpus = self.execute(r#"{"execute": "query-cpus-fast"}"#);
        let mut by_index: Vec<(u32, String)> = values(&cpus, "\"cpu-index\": ")
            .map(|v| v.parse().expect("cpu-index"))
            .zip(values(&cpus, "\"qom-path\": \"").map(str::to_owned))
            .collect();
        by_index.sort();
        by_index
            .into_iter()
            .map(|(_, path)| {
                let reply = self.execute(&format!(
                    r#"{{"execute": "qom-get", "arguments": {{"path": "{path}", "property": "apic-id"}}}}"#
                ));
                let id = values(&reply, "\"return\": ").next().expect("return value");
                id.parse().expect("apic-id")
            })
            .collect()
    }
}

impl Drop for StoppedQemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn apic_ids_match_qemu() {
    let specs = [
        "1",
        "4",
        "6,sockets=2,cores=3",
        "12,sockets=2,cores=3,threads=2",
        "8,sockets=2,cores=2",
        "6,cores=3",
        "6,dies=2,modules=3,cores=1",
        "16,sockets=2,dies=2,cores=2,threads=2",
        "2,maxcpus=4",
        "3,sockets=2,cores=3,maxcpus=6",
        "288",
    ];
    for spec in specs {
        let topology: SmpTopology = spec.parse().expect("valid -smp");
        let expected = &topology.apic_ids()[..topology.cpus as usize];
        let actual = StoppedQemu::start(spec).apic_ids();
        assert_eq!(actual, expected, "-smp {spec}");
    }
}
