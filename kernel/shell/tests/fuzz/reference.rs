//! A second parser, written for obviousness rather than speed: every
//! command's arguments spelled out by hand, numbers read digit by digit
//! into a `u128`, error texts written out in full.

use std::collections::BTreeSet;

use shell::{CpuList, StateArg, Value};

/// What a line parsed to, in a form both parsers can give: the command
/// and its argument slots, or the error text.
pub type Outcome<'a> = Result<Option<(&'static str, Vec<Option<Value<'a>>>)>, String>;

/// The argument shapes the README lists.
#[derive(Clone, Copy)]
enum Shape {
    /// One CPU only (`crash`, `irq`).
    Cpu,
    /// A CPU, `all`, or a list in Linux's cpulist format.
    Cpus,
    State,
    StateOrNone,
    NewName,
    Name,
    Threads,
    Ops,
    HangEvery,
    Seed,
    Cycles,
    Delay,
    Stack,
    TraceAction,
    CalibrateMode,
    IrqLine,
    Switch,
}

/// Command name, its argument shapes, how many of them are required.
const COMMANDS: [(&str, &[Shape], usize); 26] = [
    ("help", &[], 0),
    ("cpus", &[], 0),
    ("states", &[], 0),
    ("online", &[Shape::Cpus], 1),
    ("offline", &[Shape::Cpus], 1),
    ("target", &[Shape::Cpus, Shape::State], 2),
    ("fail", &[Shape::Cpus, Shape::StateOrNone], 2),
    ("hang", &[Shape::Cpus, Shape::StateOrNone], 2),
    ("register", &[Shape::NewName], 1),
    ("unregister", &[Shape::Name], 1),
    ("autoonline", &[Shape::Switch], 0),
    ("smt", &[Shape::Switch], 0),
    ("threads", &[], 0),
    ("timers", &[], 0),
    ("timer", &[Shape::Cpus, Shape::Delay], 2),
    ("spawn", &[Shape::Threads], 1),
    ("stop", &[], 0),
    ("work", &[], 0),
    ("crash", &[Shape::Cpu, Shape::Stack], 1),
    ("probe", &[Shape::Cpus], 1),
    ("torture", &[Shape::Ops, Shape::Seed, Shape::HangEvery], 1),
    ("bench", &[Shape::Cycles], 0),
    ("calibrate", &[Shape::CalibrateMode], 0),
    ("trace", &[Shape::TraceAction], 0),
    ("irq", &[Shape::IrqLine, Shape::Cpu], 0),
    ("poweroff", &[], 0),
];

/// The decimal value of an all-digit word (saturating: no word is long
/// enough for that to matter below `u128::MAX`), or `None`.
fn decimal(word: &str) -> Option<u128> {
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(word.chars().fold(0u128, |n, c| {
        n.saturating_mul(10)
            .saturating_add(u128::from(c as u8 - b'0'))
    }))
}

fn state(word: &str) -> Result<StateArg<'_>, String> {
    match decimal(word) {
        Some(n) if n <= 65535 => Ok(StateArg::Index(n as u16)),
        Some(_) => Err(format!("'{word}' is not a valid state index")),
        None => Ok(StateArg::Name(word)),
    }
}

/// A list written with a `,` or with a `-` anywhere but first: items
/// split at `,`, each `n` or `first-last`, every number at most 1023.
/// `Err` is the reason after `is not a valid CPU list: `.
fn cpu_list(word: &str) -> Result<BTreeSet<u32>, String> {
    let mut cpus = BTreeSet::new();
    for item in word.split(',') {
        if item.is_empty() {
            return Err("an empty item".to_string());
        }
        let (first, last) = match item.find('-') {
            Some(dash) => (&item[..dash], &item[dash + 1..]),
            None => (item, item),
        };
        if first.is_empty() {
            return Err(format!("the range '{item}' has no start"));
        }
        if last.is_empty() {
            return Err(format!("the range '{item}' has no end"));
        }
        let mut ends = [0u32; 2];
        for (end, text) in ends.iter_mut().zip([first, last]) {
            *end = match decimal(text) {
                None => return Err(format!("'{text}' is not a CPU number")),
                Some(n) if n > 1023 => {
                    return Err(format!(
                        "'{text}' is past 1023, the highest CPU number there can be"
                    ))
                }
                Some(n) => n as u32,
            };
        }
        if ends[0] > ends[1] {
            return Err(format!("the range {}-{} runs backwards", ends[0], ends[1]));
        }
        cpus.extend(ends[0]..=ends[1]);
    }
    Ok(cpus)
}

fn written_as_list(word: &str) -> bool {
    word.contains(',') || word.chars().skip(1).any(|c| c == '-')
}

fn in_range(word: &str, min: u128, max: u128) -> Option<u128> {
    decimal(word).filter(|n| *n >= min && *n <= max)
}

fn value<'a>(command: &str, shape: Shape, word: &'a str) -> Result<Value<'a>, String> {
    let bad = |what: &str| format!("'{word}' is not a valid {what}");
    match shape {
        Shape::Cpu => match in_range(word, 0, u32::MAX as u128) {
            Some(n) => Ok(Value::Cpu(n as u32)),
            None if word == "all" || (written_as_list(word) && cpu_list(word).is_ok()) => Err(
                format!("'{command}' takes one CPU number, not a list ('{word}')"),
            ),
            None => Err(bad("CPU number")),
        },
        Shape::Cpus if word == "all" => Ok(Value::Cpus(CpuList::All)),
        Shape::Cpus if written_as_list(word) => match cpu_list(word) {
            Ok(cpus) => Ok(Value::Cpus(CpuList::Set(cpus.into_iter().collect()))),
            Err(why) => Err(format!("'{word}' is not a valid CPU list: {why}")),
        },
        Shape::Cpus => in_range(word, 0, u32::MAX as u128)
            .map(|n| Value::Cpus(CpuList::One(n as u32)))
            .ok_or(bad("CPU number")),
        Shape::State => state(word).map(Value::State),
        Shape::StateOrNone if word == "none" => Ok(Value::StateOrNone(None)),
        Shape::StateOrNone => state(word).map(|s| Value::StateOrNone(Some(s))),
        Shape::NewName => {
            let allowed = word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ":_-".contains(c));
            let all_digits = word.chars().all(|c| c.is_ascii_digit());
            if (1..=32).contains(&word.len()) && allowed && !all_digits && word != "none" {
                Ok(Value::Name(word))
            } else {
                Err(format!(
                    "'{word}' is not a valid state name (1-32 of a-z 0-9 : _ -, not all digits)"
                ))
            }
        }
        Shape::Name => Ok(Value::Name(word)),
        Shape::Threads => in_range(word, 0, u32::MAX as u128)
            .map(|n| Value::Count(n as u32))
            .ok_or(bad("thread count")),
        Shape::Ops => in_range(word, 1, 1_000_000)
            .map(|n| Value::Count(n as u32))
            .ok_or(bad("operation count (1-1000000)")),
        Shape::HangEvery => in_range(word, 1, 1_000_000)
            .map(|n| Value::Count(n as u32))
            .ok_or(bad("hang interval (1-1000000)")),
        Shape::Seed => in_range(word, 0, u64::MAX as u128)
            .map(|n| Value::Seed(n as u64))
            .ok_or(bad("seed")),
        Shape::Cycles => in_range(word, 1, 1000)
            .map(|n| Value::Count(n as u32))
            .ok_or(bad("cycle count (1-1000)")),
        Shape::Delay => in_range(word, 1, 60_000)
            .map(|n| Value::Count(n as u32))
            .ok_or(bad("delay in ms (1-60000)")),
        Shape::Stack if word == "stack" => Ok(Value::Flag(true)),
        Shape::Stack => Err(format!("'{command}': unexpected argument '{word}'")),
        Shape::IrqLine => match word {
            "sci" => Ok(Value::Word("sci")),
            "serial" => Ok(Value::Word("serial")),
            _ => Err(format!("'{command}': unexpected argument '{word}'")),
        },
        Shape::CalibrateMode => match word {
            "shared" => Ok(Value::Word("shared")),
            "each" => Ok(Value::Word("each")),
            _ => Err(format!("'{command}': unexpected argument '{word}'")),
        },
        Shape::TraceAction => match word {
            "on" => Ok(Value::Word("on")),
            "off" => Ok(Value::Word("off")),
            "clear" => Ok(Value::Word("clear")),
            "dump" => Ok(Value::Word("dump")),
            "mark" => Ok(Value::Word("mark")),
            "cost" => Ok(Value::Word("cost")),
            _ => Err(format!("'{command}': unexpected argument '{word}'")),
        },
        Shape::Switch if word == "on" => Ok(Value::Switch(true)),
        Shape::Switch if word == "off" => Ok(Value::Switch(false)),
        Shape::Switch => Err(bad("setting (on or off)")),
    }
}

fn missing(command: &str, shape: Shape) -> String {
    let what = match shape {
        Shape::Cpu | Shape::Cpus => "CPU number",
        Shape::State | Shape::StateOrNone => "state (name or index)",
        Shape::NewName | Shape::Name => "state name",
        Shape::Threads => "thread count",
        Shape::Ops => "operation count",
        Shape::Delay => "delay in ms",
        Shape::Seed
        | Shape::Cycles
        | Shape::Stack
        | Shape::HangEvery
        | Shape::TraceAction
        | Shape::CalibrateMode
        | Shape::IrqLine
        | Shape::Switch => unreachable!("optional"),
    };
    format!("'{command}' needs a {what}")
}

/// Parses one line as the README describes it; `Err(())` is a line the
/// editor cut short.
pub fn parse(line: Result<&[u8], ()>) -> Outcome<'_> {
    let Ok(bytes) = line else {
        return Err("line too long (max 256 bytes)".to_string());
    };
    let printable = |b: &u8| (0x21..=0x7e).contains(b) || *b == b' ' || *b == b'\t';
    if !bytes.iter().all(printable) {
        return Err("line contains non-printable bytes".to_string());
    }
    let text = std::str::from_utf8(bytes).expect("printable ASCII is UTF-8");
    let words: Vec<&str> = text.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let Some((&name, rest)) = words.split_first() else {
        return Ok(None);
    };
    let Some(&(command, shapes, required)) = COMMANDS.iter().find(|c| c.0 == name) else {
        return Err(format!("unknown command '{name}' (try 'help')"));
    };
    let mut slots = Vec::new();
    for (i, &shape) in shapes.iter().enumerate() {
        match rest.get(i) {
            Some(word) => slots.push(Some(value(command, shape, word)?)),
            None if i < required => return Err(missing(command, shape)),
            None if matches!(shape, Shape::Stack) => slots.push(Some(Value::Flag(false))),
            None => slots.push(None),
        }
    }
    if let Some(extra) = rest.get(shapes.len()) {
        return Err(format!("'{command}': unexpected argument '{extra}'"));
    }
    Ok(Some((command, slots)))
}
