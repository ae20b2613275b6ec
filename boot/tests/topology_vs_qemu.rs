//! Checks `boot::topology` against QEMU itself: for each `-smp` string,
//! QEMU (stopped before the first instruction, no guest, no disk) reports
//! the APIC id of every CPU it created, over QMP. Those must equal what the
//! boot tests expect from the kernel.
//!
//! This bypasses `QemuConfig` on purpose: it boots nothing and needs no
//! disk image, only QEMU's view of the topology.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use boot::qemu::QEMU;
use boot::topology::SmpTopology;

/// A QEMU stopped with `-S`, driven over QMP on stdio.
struct Qmp {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Qmp {
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
        let output = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut qmp = Self {
            child,
            input,
            output,
        };
        qmp.read_line(); // greeting
        qmp.execute(r#"{"execute": "qmp_capabilities"}"#);
        qmp
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        let n = self.output.read_line(&mut line).expect("read QMP");
        if n == 0 {
            let mut stderr = String::new();
            if let Some(mut pipe) = self.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("QEMU closed QMP; stderr:\n{stderr}");
        }
        line
    }

    /// Sends one command; returns its `{"return": ...}` line.
    fn execute(&mut self, command: &str) -> String {
        writeln!(self.input, "{command}").expect("write QMP");
        loop {
            let line = self.read_line();
            assert!(!line.contains(r#""error""#), "QMP {command}: {line}");
            if line.contains(r#""return""#) {
                return line;
            }
        }
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

impl Drop for Qmp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text after each `key` up to the next `"`, `,` or `}`.
fn values<'a>(json: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    json.match_indices(key).map(move |(at, _)| {
        let rest = &json[at + key.len()..];
        let end = rest.find(['"', ',', '}']).unwrap_or(rest.len());
        &rest[..end]
    })
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
        let actual = Qmp::start(spec).apic_ids();
        assert_eq!(actual, expected, "-smp {spec}");
    }
}
