//! Parsing `trace dump` output. Format: `kernel/src/trace/event.rs`.
//!
//! Every line that starts with `trace:` must be a well-formed event, else
//! the whole dump is refused with an error naming the line; other lines
//! (kernel log lines the console printed in between) are skipped.

use super::{Direction, Event, Kind, StepResult};
use std::fmt;

/// The prefix of every event line.
pub const PREFIX: &str = "trace:";

/// A dump line that is not an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpError {
    /// 1-based line number in the text parsed.
    pub line: usize,
    /// The line.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trace dump line {}: {}: {:?}",
            self.line, self.why, self.text
        )
    }
}

impl std::error::Error for DumpError {}

/// Every event of a dump (the lines of a `trace dump` reply), in order.
pub fn parse_dump<S: AsRef<str>>(lines: &[S]) -> Result<Vec<Event>, DumpError> {
    let mut events = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line = line.as_ref().trim_end();
        if !line.starts_with(PREFIX) {
            continue;
        }
        let event = parse_line(line).map_err(|why| DumpError {
            line: index + 1,
            text: line.to_owned(),
            why,
        })?;
        events.push(event);
    }
    Ok(events)
}

/// One `trace:` line.
pub fn parse_line(line: &str) -> Result<Event, String> {
    let rest = line
        .strip_prefix(PREFIX)
        .ok_or(format!("does not start with {PREFIX:?}"))?;
    let words: Vec<&str> = rest.split_ascii_whitespace().collect();
    let (head, detail) = match words.len() {
        n if n >= 5 => words.split_at(5),
        n => return Err(format!("{n} fields, an event has at least 5")),
    };
    let start_ns = number(head[0], "start time")?;
    let end_ns = number(head[1], "end time")?;
    if end_ns < start_ns {
        return Err(format!("ends ({end_ns}) before it starts ({start_ns})"));
    }
    let ran_on = cpu(head[2])?;
    let cpu = cpu(head[4])?;
    let want = |n: usize| {
        if detail.len() == n {
            Ok(())
        } else {
            Err(format!(
                "'{}' takes {n} more fields, got {}",
                head[3],
                detail.len()
            ))
        }
    };
    let kind = match head[3] {
        "step" => {
            want(3)?;
            Kind::Step {
                state: detail[0].to_owned(),
                direction: match detail[1] {
                    "up" => Direction::Up,
                    "down" => Direction::Down,
                    other => return Err(format!("direction {other:?} is not up or down")),
                },
                result: match detail[2] {
                    "ok" => StepResult::Ok,
                    "failed" => StepResult::Failed,
                    "ignored" => StepResult::Ignored,
                    "injected" => StepResult::Injected,
                    other => return Err(format!("unknown result {other:?}")),
                },
            }
        }
        "request" => {
            want(1)?;
            Kind::Request(number(detail[0], "request id")?)
        }
        "answer" => {
            want(1)?;
            Kind::Answer(number(detail[0], "request id")?)
        }
        instant => {
            want(0)?;
            match instant {
                "init" => Kind::Init,
                "sipi" => Kind::Sipi,
                "alive" => Kind::Alive,
                "parked" => Kind::Parked,
                "forced-down" => Kind::ForcedDown,
                "mark" => Kind::Mark,
                other => return Err(format!("unknown event kind {other:?}")),
            }
        }
    };
    Ok(Event {
        start_ns,
        end_ns,
        ran_on,
        cpu,
        kind,
    })
}

fn number(word: &str, what: &str) -> Result<u64, String> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {word:?} is not a decimal number"));
    }
    word.parse()
        .map_err(|_| format!("{what} {word:?} does not fit in 64 bits"))
}

fn cpu(word: &str) -> Result<u32, String> {
    let digits = word
        .strip_prefix("cpu")
        .ok_or(format!("{word:?} is not a CPU (cpuN)"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{word:?} is not a CPU (cpuN)"));
    }
    digits
        .parse()
        .map_err(|_| format!("{word:?} is not a CPU number"))
}

#[cfg(test)]
mod tests;
