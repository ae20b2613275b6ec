//! Per-CPU timers and threads across hotplug, driven over the serial
//! console: what `offline` must leave behind, what `online` must bring
//! back, and that 100 offline/online cycles under load lose nothing.
//! Needs `make images` first.

use std::thread::sleep;
use std::time::{Duration, Instant};

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;
use boot::views::{self, threads, timers, work};

fn boot(smp: &str) -> Console {
    Console::boot(&QemuConfig::default().smp(smp))
}

fn per_cpu_names(cpu: u32) -> [String; 3] {
    [
        format!("idle/{cpu}"),
        format!("kworker/{cpu}"),
        format!("cpuhp/{cpu}"),
    ]
}

#[test]
fn offline_leaves_nothing_behind_and_online_brings_it_back() {
    let mut console = boot("4");
    console.expect_ok("spawn 16", COMMAND_TIMEOUT);
    sleep(Duration::from_millis(300));
    console.expect_ok("offline 2", COMMAND_TIMEOUT);

    let own = per_cpu_names(2);
    for t in threads(&mut console) {
        let on_2 = t.cpu == "2" && matches!(t.state.as_str(), "running" | "ready");
        if on_2 && !own.contains(&t.name) {
            console.fail(&format!("{} still {} on offline cpu2", t.name, t.state));
        }
        if own.contains(&t.name) && t.state != "parked" {
            console.fail(&format!("{} is {} after offline 2", t.name, t.state));
        }
    }
    let before = timers(&mut console)[2];
    if before.0 != 0 {
        console.fail(&format!("cpu2 still has {} pending timers", before.0));
    }
    sleep(Duration::from_millis(300));
    let after = timers(&mut console)[2];
    if after != before {
        console.fail(&format!(
            "offline cpu2 took timer interrupts: {before:?} -> {after:?}"
        ));
    }

    console.expect_ok("online 2", COMMAND_TIMEOUT);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = threads(&mut console);
        let own_running = rows
            .iter()
            .filter(|t| own[1..].contains(&t.name))
            .all(|t| t.state != "parked");
        let demo_back = rows
            .iter()
            .any(|t| t.name.starts_with("demo/") && t.cpu == "2");
        if own_running && demo_back {
            break;
        }
        if Instant::now() > deadline {
            console.fail(
                "after online 2: per-CPU threads not running or no demo thread came back to cpu2",
            );
        }
        sleep(Duration::from_millis(100));
    }
    // Threads that moved back arm their next sleep timers there.
    let deadline = Instant::now() + Duration::from_secs(10);
    while timers(&mut console)[2].1 <= after.1 {
        if Instant::now() > deadline {
            console.fail("cpu2 takes no timer interrupts after online");
        }
        sleep(Duration::from_millis(100));
    }
    console.poweroff(COMMAND_TIMEOUT);
}

#[test]
fn hundred_cycles_under_load_lose_nothing() {
    let mut console = boot("4");
    let heap_before = work(&mut console).heap;
    console.expect_ok("spawn 32", COMMAND_TIMEOUT);
    for i in 0..100u32 {
        let cpu = 1 + i % 3;
        console.expect_ok(&format!("offline {cpu}"), COMMAND_TIMEOUT);
        console.expect_ok(&format!("online {cpu}"), COMMAND_TIMEOUT);
    }
    let views::Work {
        armed,
        fired,
        wakeups,
        ..
    } = work(&mut console);
    if armed < 1000 {
        console.fail(&format!("the workload barely ran: {armed} timers armed"));
    }
    let totals = views::stop_and_drain(&mut console, Duration::from_secs(30));
    eprintln!("sched: 100 cycles: before stop armed {armed} fired {fired} wakeups {wakeups}; drained {totals:?}");
    if totals.watchdogs != 0 {
        console.fail(&format!(
            "{} cancelled watchdog timers fired",
            totals.watchdogs
        ));
    }
    if totals.heap != heap_before {
        console.fail(&format!(
            "heap {} bytes before, {} after",
            heap_before, totals.heap
        ));
    }
    console.poweroff(COMMAND_TIMEOUT);
}

/// A timer added from the console's CPU onto an idle CPU fires there on
/// time: the insert's WAKE IPI must make that CPU re-program its LAPIC
/// (whose timer is stopped, or set for something later). And the console,
/// woken by that timer before its own give-up timer, leaves that one
/// cancelled: `timers` shows nothing pending anywhere.
#[test]
fn a_timer_added_from_another_cpu_fires_on_time_and_its_waiter_leaves_none() {
    let mut console = boot("4");
    for (cpu, ms) in [(2, 20), (3, 5), (2, 200), (1, 1)] {
        let reply = console.command(&format!("timer {cpu} {ms}"), COMMAND_TIMEOUT);
        let fired_there = format!("ok: cpu{cpu} timer fired on cpu{cpu} ");
        if !reply.status.starts_with(&fired_there) {
            console.fail(&format!("timer {cpu} {ms}: {}", reply.status));
        }
        let pending: Vec<u64> = timers(&mut console).iter().map(|t| t.0).collect();
        if pending.iter().any(|&n| n != 0) {
            console.fail(&format!(
                "timers left armed after `timer {cpu} {ms}`, per CPU: {pending:?}"
            ));
        }
    }
    console.poweroff(COMMAND_TIMEOUT);
}
