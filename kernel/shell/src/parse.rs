//! Command parsing: one line in, the command it names and its typed
//! arguments (or the reason it is not a command) out.
//!
//! Owns the word-level rules (what is text, what is a number, what is a
//! state name) and the `error:` texts for them. It never decides whether a
//! CPU or a state exists: that needs the kernel, which gets the typed
//! [`Args`] and answers itself.

use core::fmt;

use crate::args::{Args, StateArg, Value};
use crate::commands::COMMANDS;
use crate::cpulist::{CpuList, ListError};
use crate::spec::{ArgKind, ArgSpec, CommandSpec, MAX_NAME};

/// A parsed line that names a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// The command's position in [`COMMANDS`] (and in every
    /// [`crate::CommandTable`]).
    pub index: usize,
    /// The command's arguments, one slot per [`ArgSpec`].
    pub args: Args<'a>,
}

/// Why a line is not a command. Displayed after `error: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// The editor cut the line short at [`crate::MAX_LINE`] bytes.
    TooLong,
    /// A byte that is neither printable ASCII nor a space or tab.
    NotText,
    /// The first word names no command.
    Unknown(&'a str),
    /// A required argument is missing.
    Missing {
        /// The command.
        command: &'static str,
        /// What is missing (`CPU number`).
        what: &'static str,
    },
    /// A word after the last argument, or a wrong keyword.
    Unexpected {
        /// The command.
        command: &'static str,
        /// The word.
        arg: &'a str,
    },
    /// A word that should be a number of this kind and is not, or is out
    /// of the kind's range (or, for [`ArgKind::Switch`], is neither `on`
    /// nor `off`).
    BadNumber {
        /// The kind of number expected ([`ArgKind::Cpu`], a count, ...).
        kind: ArgKind,
        /// The word.
        arg: &'a str,
    },
    /// A name `register` cannot give a state.
    BadName(&'a str),
    /// A word written as a CPU list ([`CpuList::looks_like_list`]) that is
    /// not a valid one.
    BadList {
        /// The word.
        arg: &'a str,
        /// What is wrong with it.
        why: ListError<'a>,
    },
    /// A CPU list (or `all`) given to a command that takes one CPU.
    NotAList {
        /// The command.
        command: &'static str,
        /// The word.
        arg: &'a str,
    },
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "line too long (max {} bytes)", crate::MAX_LINE),
            ParseError::NotText => write!(f, "line contains non-printable bytes"),
            ParseError::Unknown(word) => write!(f, "unknown command '{word}' (try 'help')"),
            ParseError::Missing { command, what } => write!(f, "'{command}' needs a {what}"),
            ParseError::Unexpected { command, arg } => {
                write!(f, "'{command}': unexpected argument '{arg}'")
            }
            ParseError::BadNumber { kind, arg } => {
                write!(f, "'{arg}' is not a valid ")?;
                match kind {
                    ArgKind::State | ArgKind::StateOrNone => write!(f, "state index"),
                    // A count over all of `u32` has no range worth showing.
                    ArgKind::Count { what, min, max } if (*min, *max) != (0, u32::MAX) => {
                        write!(f, "{what} ({min}-{max})")
                    }
                    kind => write!(f, "{}", kind.noun()),
                }
            }
            ParseError::BadName(name) => write!(
                f,
                "'{name}' is not a valid state name (1-{MAX_NAME} of a-z 0-9 : _ -, not all digits)"
            ),
            ParseError::BadList { arg, why } => write!(f, "'{arg}' is not a valid CPU list: {why}"),
            ParseError::NotAList { command, arg } => {
                write!(f, "'{command}' takes one CPU number, not a list ('{arg}')")
            }
        }
    }
}

/// Parses one line against [`COMMANDS`]. `line` is `Err` if the editor
/// cut it short. An empty (or all-blank) line is `Ok(None)`.
pub fn parse(line: Result<&[u8], ()>) -> Result<Option<Invocation<'_>>, ParseError<'_>> {
    let bytes = line.map_err(|()| ParseError::TooLong)?;
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
    {
        return Err(ParseError::NotText);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
    let mut words = text.split_ascii_whitespace();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let (index, spec) = COMMANDS
        .iter()
        .enumerate()
        .find(|(_, spec)| spec.name == name)
        .ok_or(ParseError::Unknown(name))?;
    let mut args = Args::new(spec);
    for (index, arg) in spec.args.iter().enumerate() {
        let value = match words.next() {
            Some(word) => Some(parse_arg(spec, arg, word)?),
            None if !arg.optional => {
                return Err(ParseError::Missing {
                    command: spec.name,
                    what: arg.kind.noun(),
                })
            }
            None => match arg.kind {
                ArgKind::Keyword(_) => Some(Value::Flag(false)),
                _ => None,
            },
        };
        args.set(index, value);
    }
    match words.next() {
        Some(arg) => Err(ParseError::Unexpected {
            command: spec.name,
            arg,
        }),
        None => Ok(Some(Invocation { index, args })),
    }
}

fn parse_arg<'a>(
    spec: &CommandSpec,
    arg: &ArgSpec,
    word: &'a str,
) -> Result<Value<'a>, ParseError<'a>> {
    let bad_number = ParseError::BadNumber {
        kind: arg.kind,
        arg: word,
    };
    match arg.kind {
        ArgKind::Cpu => match CpuList::parse(word) {
            Ok(CpuList::One(cpu)) => Ok(Value::Cpu(cpu)),
            Ok(_) => Err(ParseError::NotAList {
                command: spec.name,
                arg: word,
            }),
            Err(_) => Err(bad_number),
        },
        ArgKind::CpuList => match CpuList::parse(word) {
            Ok(cpus) => Ok(Value::Cpus(cpus)),
            Err(Some(why)) => Err(ParseError::BadList { arg: word, why }),
            Err(None) => Err(bad_number),
        },
        ArgKind::State => parse_state(word).map(Value::State).ok_or(bad_number),
        ArgKind::StateOrNone if word == "none" => Ok(Value::StateOrNone(None)),
        ArgKind::StateOrNone => parse_state(word)
            .map(|state| Value::StateOrNone(Some(state)))
            .ok_or(bad_number),
        ArgKind::NewStateName if valid_new_name(word) => Ok(Value::Name(word)),
        ArgKind::NewStateName => Err(ParseError::BadName(word)),
        ArgKind::StateName => Ok(Value::Name(word)),
        ArgKind::Count { min, max, .. } => parse_decimal(word)
            .filter(|n| (min..=max).contains(n))
            .map(Value::Count)
            .ok_or(bad_number),
        ArgKind::Seed => word
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| word.parse::<u64>().ok())
            .flatten()
            .map(Value::Seed)
            .ok_or(bad_number),
        ArgKind::Keyword(keyword) if word == keyword => Ok(Value::Flag(true)),
        ArgKind::Keyword(_) => Err(ParseError::Unexpected {
            command: spec.name,
            arg: word,
        }),
        ArgKind::OneOf(words) => match words.iter().find(|w| **w == word) {
            Some(known) => Ok(Value::Word(known)),
            None => Err(ParseError::Unexpected {
                command: spec.name,
                arg: word,
            }),
        },
        ArgKind::Switch => match word {
            "on" => Ok(Value::Switch(true)),
            "off" => Ok(Value::Switch(false)),
            _ => Err(bad_number),
        },
    }
}

/// All digits is an index (and must fit in `u16`); `None` means a bad
/// index. Anything else is a name.
fn parse_state(word: &str) -> Option<StateArg<'_>> {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        parse_decimal(word)
            .and_then(|n| u16::try_from(n).ok())
            .map(StateArg::Index)
    } else {
        Some(StateArg::Name(word))
    }
}

fn valid_new_name(name: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b":_-".contains(&b);
    (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(allowed)
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name != "none"
}

/// Plain decimal, no sign, no overflow.
fn parse_decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
