//! `make debug` in its scripted form: gdb connected to a guest stopped at
//! its first instruction stops at a breakpoint in an AP-side hotplug
//! callback, on that AP's vCPU thread, named after its CPU. Needs `make
//! images` (which builds the kernel ELF) and gdb (`make deps` installs it).

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn workspace_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// A TCP port nothing listens on now (the OS picks it).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("local address").port()
}

#[test]
fn a_breakpoint_in_an_ap_callback_stops_on_that_aps_vcpu() {
    let kernel = workspace_target().join("x86_64-unknown-none/release/kernel");
    let serial = workspace_target().join(format!("gdb-test-{}.log", std::process::id()));
    let port = free_port().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_debug"))
        .args([
            "--kernel",
            kernel.to_str().unwrap(),
            "--smp",
            "2",
            "--port",
            &port,
        ])
        .args(["--serial", serial.to_str().unwrap(), "--"])
        .args([
            "-batch",
            "-ex",
            "break kernel::cpuhp::callbacks::timers_starting",
        ])
        .args(["-ex", "continue", "-ex", "info threads"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the debug runner");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the debug runner") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("reap the debug runner");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let console = std::fs::read_to_string(&serial).unwrap_or_default();
    let _ = std::fs::remove_file(&serial);
    let _ = std::fs::remove_file(serial.with_extension("gdb"));
    let report = format!(
        "status {status}\n--- gdb stdout ---\n{out}\n--- stderr ---\n{err}\n--- serial ---\n{console}"
    );
    assert!(
        out.contains("hit Breakpoint 1") && out.contains("timers_starting"),
        "gdb did not stop in timers_starting:\n{report}"
    );
    // `info threads` marks the current thread with `*`: it must be the
    // AP's vCPU (cpu1), not the boot CPU's.
    let current = out.lines().find(|l| l.trim_start().starts_with('*'));
    assert!(
        current.is_some_and(|l| l.contains("\"cpu1\"")),
        "the breakpoint did not stop on cpu1's thread ({current:?}):\n{report}"
    );
}
