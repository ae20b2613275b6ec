//! The kernel's status views, parsed for tests: `threads`, `timers` and
//! `work`. Each reader fails the test, with the serial log, on a line it
//! cannot parse.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::console::{Console, COMMAND_TIMEOUT};

/// One `threads` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadRow {
    /// `idle/3`, `kworker/3`, `cpuhp/3`, `demo/7`, `console`, ...
    pub name: String,
    /// The CPU number, or `-` for an unbound thread on no run queue.
    pub cpu: String,
    /// `running`, `ready`, `sleeping`, `parked` or `dead`.
    pub state: String,
}

impl ThreadRow {
    /// Whether it is on a run queue or running: something a dead CPU must
    /// not hold.
    pub fn runnable(&self) -> bool {
        matches!(self.state.as_str(), "running" | "ready")
    }
}

/// Every thread, from `threads`.
pub fn threads(console: &mut Console) -> Vec<ThreadRow> {
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

/// `timers`: (pending timers, timer interrupts) per CPU, by CPU number.
pub fn timers(console: &mut Console) -> Vec<(u64, u64)> {
    let reply = console.expect_ok("timers", COMMAND_TIMEOUT);
    let mut lines = reply.lines.iter().skip_while(|l| !l.starts_with("CPU"));
    lines.next();
    lines
        .filter(|l| !l.trim().is_empty())
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

/// The demo workload's totals, from `work`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    /// Sleep timers armed.
    pub armed: u64,
    /// Of those, fired.
    pub fired: u64,
    /// Wake-ups counted through the workers.
    pub wakeups: u64,
    /// Demo threads running.
    pub running: u64,
    /// Heap bytes in use.
    pub heap: u64,
}

/// Reads `work`.
pub fn work(console: &mut Console) -> Work {
    let reply = console.expect_ok("work", COMMAND_TIMEOUT);
    let field = |console: &mut Console, prefix: &str, at: usize| -> u64 {
        let line = reply.lines.iter().find(|l| l.starts_with(prefix));
        line.and_then(|l| l.split_whitespace().nth(at))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| console.fail(&format!("`work` has no {prefix:?} line")))
    };
    let running = field(console, "running", 1);
    let heap = field(console, "heap", 1);
    let nums: Vec<u64> = (reply.summary().unwrap_or("").split_whitespace())
        .filter_map(|n| n.parse().ok())
        .collect();
    if nums.len() != 3 {
        console.fail(&format!("bad `work` status {:?}", reply.status));
    }
    Work {
        armed: nums[0],
        fired: nums[1],
        wakeups: nums[2],
        running,
        heap,
    }
}

/// `stop`, then waits (at most `timeout`) until every demo thread is gone
/// and armed = fired = wakeups; fails the test otherwise. Returns the
/// drained totals.
pub fn stop_and_drain(console: &mut Console, timeout: Duration) -> Work {
    console.expect_ok("stop", COMMAND_TIMEOUT);
    let deadline = Instant::now() + timeout;
    loop {
        let w = work(console);
        let listed = (threads(console).iter())
            .filter(|t| t.name.starts_with("demo/"))
            .count();
        if w.running == 0 && listed == 0 && w.armed == w.fired && w.fired == w.wakeups {
            return w;
        }
        if Instant::now() > deadline {
            console.fail(&format!(
                "the workload did not drain: {w:?}, {listed} demo threads listed"
            ));
        }
        sleep(Duration::from_millis(200));
    }
}
