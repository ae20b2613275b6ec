//! Per-CPU timers and threads across hotplug, driven over the serial
//! console: what `offline` must leave behind, what `online` must bring
//! back, and that 100 offline/online cycles under load lose nothing.
//! Needs `make images` first.

use std::thread::sleep;
use std::time::{Duration, Instant};

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;

fn boot(smp: &str) -> Console {
    Console::boot(&QemuConfig::default().smp(smp))
}

struct ThreadRow {
    name: String,
    cpu: String,
    state: String,
}

fn threads(console: &mut Console) -> Vec<ThreadRow> {
    let reply = console.expect_ok("threads", COMMAND_TIMEOUT);
    let mut lines = reply.lines.iter().skip_while(|l| !l.starts_with("ID"));
    lines.next();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() < 4 {
                console.fail(&format!("short `threads` line {l:?}"));
            }
            ThreadRow {
                name: cols[1].into(),
                cpu: cols[2].into(),
                state: cols[3].into(),
            }
        })
        .collect()
}

/// `timers`: (pending, interrupts) per CPU (the rows that start with a CPU
/// number; the `lateness:` line after them is not one).
fn timers(console: &mut Console) -> Vec<(u64, u64)> {
    let reply = console.expect_ok("timers", COMMAND_TIMEOUT);
    let mut lines = reply.lines.iter().skip_while(|l| !l.starts_with("CPU"));
    lines.next();
    lines
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|c| c.parse::<u32>().is_ok())
        })
        .map(|l| {
            let cols: Vec<u64> = l
                .split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect();
            if cols.len() < 3 {
                console.fail(&format!("short `timers` line {l:?}"));
            }
            (cols[1], cols[2])
        })
        .collect()
}

/// `work`: (armed, fired, wakeups, running, heap, watchdogs fired).
fn work(console: &mut Console) -> (u64, u64, u64, u64, u64, u64) {
    let reply = console.expect_ok("work", COMMAND_TIMEOUT);
    let field = |console: &mut Console, prefix: &str, at: usize| -> u64 {
        let line = reply.lines.iter().find(|l| l.starts_with(prefix));
        line.and_then(|l| l.split_whitespace().nth(at))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| console.fail(&format!("`work` has no {prefix:?} line")))
    };
    let running = field(console, "running", 1);
    let heap = field(console, "heap", 1);
    let watchdogs = field(console, "watchdogs", 4);
    let nums: Vec<u64> = reply
        .summary()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    if nums.len() != 3 {
        console.fail(&format!("bad `work` status {:?}", reply.status));
    }
    (nums[0], nums[1], nums[2], running, heap, watchdogs)
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
    let (_, _, _, _, heap_before, _) = work(&mut console);
    console.expect_ok("spawn 32", COMMAND_TIMEOUT);
    for i in 0..100u32 {
        let cpu = 1 + i % 3;
        console.expect_ok(&format!("offline {cpu}"), COMMAND_TIMEOUT);
        console.expect_ok(&format!("online {cpu}"), COMMAND_TIMEOUT);
    }
    let (armed, fired, wakeups, _, _, _) = work(&mut console);
    if armed < 1000 {
        console.fail(&format!("the workload barely ran: {armed} timers armed"));
    }
    console.expect_ok("stop", COMMAND_TIMEOUT);
    let deadline = Instant::now() + Duration::from_secs(30);
    let totals = loop {
        let totals = work(&mut console);
        let (armed, fired, wakeups, running, _, _) = totals;
        // A demo thread counts itself out just before it exits; it is gone
        // once the next thread on its CPU has reaped it.
        let listed = threads(&mut console)
            .iter()
            .filter(|t| t.name.starts_with("demo/"))
            .count();
        if running == 0 && listed == 0 && armed == fired && fired == wakeups {
            break work(&mut console);
        }
        if Instant::now() > deadline {
            console.fail(&format!("the run did not drain: armed {armed} fired {fired} wakeups {wakeups} running {running}"));
        }
        sleep(Duration::from_millis(200));
    };
    eprintln!("sched: 100 cycles: before stop armed {armed} fired {fired} wakeups {wakeups}; drained {totals:?}");
    if totals.5 != 0 {
        console.fail(&format!("{} cancelled watchdog timers fired", totals.5));
    }
    if totals.4 != heap_before {
        console.fail(&format!(
            "heap {} bytes before, {} after",
            heap_before, totals.4
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
