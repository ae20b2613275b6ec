//! `make trace`'s guest session: run a scenario on a booted guest with
//! tracing on, then read the whole trace back.
//!
//! The boot bring-up is already in the buffer (the kernel traces from boot
//! until the first prompt); `trace on` then records the scenario too.

use super::dump::parse_dump;
use super::Event;
use crate::console::Console;
use std::collections::HashMap;
use std::time::Duration;

/// The default scenario: an offline, an online, and an online that fails
/// at an armed fault and rolls back.
pub const DEFAULT_SCENARIO: &str = "offline 2; online 2; offline 2; fail 2 smp:online; online 2";

/// Deadline of one scenario command (a rollback under TCG included).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The commands of a `TRACE_CMDS`-style list: `;`-separated, blanks
/// dropped.
pub fn commands(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What one scenario command answered.
#[derive(Clone, Debug)]
pub struct Step {
    /// The command.
    pub command: String,
    /// Its status line (`ok...` or `error: ...`: a failing online is part
    /// of the default scenario).
    pub status: String,
}

/// Runs `commands` with tracing on and returns their statuses and every
/// event of the dump. Fails (with the console's report) if the dump is
/// malformed or its count disagrees with its lines.
pub fn run(console: &mut Console, commands: &[String]) -> (Vec<Step>, Vec<Event>) {
    console.expect_ok("trace on", STEP_TIMEOUT);
    let steps = commands
        .iter()
        .map(|command| {
            // Where the picture starts a new panel.
            console.expect_ok("trace mark", STEP_TIMEOUT);
            Step {
                command: command.clone(),
                status: console.command(command, STEP_TIMEOUT).status,
            }
        })
        .collect();
    console.expect_ok("trace off", STEP_TIMEOUT);
    let dump = console.expect_ok("trace dump", STEP_TIMEOUT);
    let events = parse_dump(&dump.lines).unwrap_or_else(|e| console.fail(&e.to_string()));
    let count = dump
        .summary()
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok());
    if count != Some(events.len()) {
        console.fail(&format!(
            "trace dump said {:?} but held {} event lines",
            dump.status,
            events.len()
        ));
    }
    (steps, events)
}

/// Each state's section (`prepare`, `starting`, `online`), from `states`
/// (columns `INDEX NAME SIDE FAIL SECTION ...`), for the picture's colours.
pub fn sections(console: &mut Console) -> HashMap<String, String> {
    let reply = console.expect_ok("states", STEP_TIMEOUT);
    (reply.lines.iter().skip(1))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() > 4)
        .map(|cols| (cols[1].to_owned(), cols[4].to_owned()))
        .collect()
}
