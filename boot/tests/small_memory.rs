//! Small machines boot to a prompt and work: the heap starts at a fraction
//! of usable memory and grows on demand (it used to be a fixed 32 MiB
//! mapped up front, so `-m 32M` and `-m 41M` stopped with `fatal: memory:
//! out of physical frames`, and `-m 42M -smp 16` lost 12 APs and then the
//! console's stack). Needs `make images` first.

use std::time::{Duration, Instant};

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::cpu_table;
use boot::qemu::{Firmware, Machine, QemuConfig};
use boot::topology::SmpTopology;

/// `bench 1000` on 15 APs: 30,000 operations under TCG.
const BENCH_TIMEOUT: Duration = Duration::from_secs(300);
/// How long stopped demo threads get to finish their current sleep.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

fn machine(memory: &str, smp: &str) -> QemuConfig {
    QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp(smp)
        .memory(memory)
}

/// The numbers of the boot line `memory: X MiB usable, Y MiB heap,
/// trampoline at 0x..., heap grows to Z MiB`: (X, Y, Z).
fn memory_line(console: &mut Console) -> (u64, u64, u64) {
    let log = console.log();
    let Some(line) = log.lines().find(|l| l.starts_with("memory: ")) else {
        console.fail("no `memory:` line in the boot log");
    };
    let mib_before = |what: &str| -> Option<u64> {
        let head = line.split(what).next()?;
        head.rsplit(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    let fields = (
        mib_before(" MiB usable"),
        mib_before(" MiB heap,"),
        line.strip_suffix(" MiB")
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok()),
    );
    let (Some(usable), Some(heap), Some(bound)) = fields else {
        console.fail(&format!("cannot read the `memory:` line {line:?}"));
    };
    if !(1..=bound).contains(&heap) || bound > usable {
        console.fail(&format!(
            "heap {heap} MiB, bound {bound} MiB, usable {usable} MiB: want 1 <= heap <= bound <= usable"
        ));
    }
    (usable, heap, bound)
}

/// `cpus` matches QEMU's topology: every CPU present and online.
fn check_cpus(console: &mut Console, smp: &str) {
    let topology: SmpTopology = smp.parse().expect("test topology");
    let reply = console.expect_ok("cpus", COMMAND_TIMEOUT);
    let rows = cpu_table::parse(&reply.lines)
        .unwrap_or_else(|e| console.fail(&format!("cannot parse `cpus`: {e}")));
    if let Err(e) = cpu_table::check_boot(&rows, &topology, None) {
        console.fail(&format!("`cpus` does not match QEMU:\n{e}"));
    }
}

/// Boots, checks the memory line and `cpus`, and cycles CPU 1 once.
fn boot_and_cycle(memory: &str, smp: &str) -> Console {
    let mut console = Console::boot(&machine(memory, smp));
    let (usable, heap, bound) = memory_line(&mut console);
    eprintln!("small_memory: -m {memory} -smp {smp}: {usable} MiB usable, heap {heap} MiB growing to {bound} MiB");
    check_cpus(&mut console, smp);
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    check_cpus(&mut console, smp);
    console
}

/// Demo threads `threads` lists.
fn demo_threads(console: &mut Console) -> usize {
    let threads = console.expect_ok("threads", COMMAND_TIMEOUT);
    threads.lines.iter().filter(|l| l.contains("demo/")).count()
}

/// `spawn 100` starts all 100 or none, and after `stop` none is left.
fn spawn_all_or_none_then_stop(console: &mut Console) {
    let reply = console.command("spawn 100", COMMAND_TIMEOUT);
    let started = if reply.status == "ok: 100 demo threads started" {
        100
    } else if reply
        .error()
        .is_some_and(|e| e.contains("no thread started"))
    {
        0
    } else {
        console.fail(&format!("spawn 100: {:?}", reply.status));
    };
    let demo = demo_threads(console);
    if demo != started {
        console.fail(&format!("after {:?}: {demo} demo threads", reply.status));
    }
    console.expect_ok("stop", COMMAND_TIMEOUT);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while demo_threads(console) != 0 {
        if Instant::now() > deadline {
            console.fail(&format!(
                "demo threads still listed {STOP_TIMEOUT:?} after stop"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// 32 MiB and 4 CPUs: stopped at `memory: out of physical frames` before
/// the heap grew on demand.
#[test]
fn mem_32m_smp4_boots_and_cycles() {
    let mut console = boot_and_cycle("32M", "4");
    spawn_all_or_none_then_stop(&mut console);
    console.poweroff(COMMAND_TIMEOUT);
}

/// 42 MiB and 16 CPUs: brought up 3 of 15 APs and then died with
/// `fatal: console thread: no memory for a thread stack`.
#[test]
fn mem_42m_smp16_brings_up_every_cpu() {
    let mut console = boot_and_cycle("42M", "16");
    console.poweroff(COMMAND_TIMEOUT);
}

/// 48 MiB and 16 CPUs: `spawn 100` is all or nothing, and `bench 1000`
/// (4.8 MiB of samples, more than the heap maps at boot) runs, because the
/// heap grows into the room its bound leaves.
#[test]
fn mem_48m_smp16_spawns_benches_and_cycles() {
    let mut console = boot_and_cycle("48M", "16");
    spawn_all_or_none_then_stop(&mut console);
    let (_, heap, _) = memory_line(&mut console);
    if heap >= 4 {
        console.fail(&format!(
            "the heap maps {heap} MiB at boot: bench 1000 no longer shows it growing"
        ));
    }
    console.expect_ok("bench 1000", BENCH_TIMEOUT);
    check_cpus(&mut console, "16");
    console.poweroff(COMMAND_TIMEOUT);
}
