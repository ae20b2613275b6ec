//! A parsed command's arguments, typed, and how a handler reads them.
//!
//! Owns the values the parser produced; it never parses. A handler reads
//! each argument through the getter for its spec's kind, and a getter that
//! does not match the spec answers [`ArgMismatch`] rather than a wrong
//! value or a panic.

use core::fmt;

use crate::cpulist::CpuList;
use crate::spec::{ArgKind, CommandSpec};

/// Most arguments any command takes (checked over the table at compile
/// time in `commands`).
pub const MAX_ARGS: usize = 3;

/// A state named on the command line: by index or by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateArg<'a> {
    /// All digits: the state's position in the table.
    Index(u16),
    /// Anything else: the state's name, looked up by the kernel.
    Name(&'a str),
}

/// One parsed argument; the variant follows the spec's [`ArgKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// From [`ArgKind::Cpu`].
    Cpu(u32),
    /// From [`ArgKind::CpuList`].
    Cpus(CpuList),
    /// From [`ArgKind::State`].
    State(StateArg<'a>),
    /// From [`ArgKind::StateOrNone`]: `None` for the word `none`.
    StateOrNone(Option<StateArg<'a>>),
    /// From [`ArgKind::NewStateName`] or [`ArgKind::StateName`].
    Name(&'a str),
    /// From [`ArgKind::Count`], within its range.
    Count(u32),
    /// From [`ArgKind::Seed`].
    Seed(u64),
    /// From [`ArgKind::Keyword`]: whether the word was given.
    Flag(bool),
    /// From [`ArgKind::OneOf`]: the word given, one of the set.
    Word(&'static str),
    /// From [`ArgKind::Switch`]: `on` is `true`.
    Switch(bool),
}

/// A command's arguments, in the order of its [`CommandSpec::args`]; an
/// optional argument that was left out is `None` (a keyword is
/// `Flag(false)` instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Args<'a> {
    spec: &'static CommandSpec,
    values: [Option<Value<'a>>; MAX_ARGS],
}

/// A handler read an argument as a kind its command's spec does not give
/// it: a bug in the kernel's handler table, reported instead of panicking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgMismatch {
    /// The command whose handler asked.
    pub command: &'static str,
    /// The argument position it asked for.
    pub index: usize,
    /// What it asked for.
    pub wanted: &'static str,
}

impl fmt::Display for ArgMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "internal: '{}' read argument {} as a {}, which the command table does not give it",
            self.command, self.index, self.wanted
        )
    }
}

impl<'a> Args<'a> {
    /// No arguments yet, for `spec`.
    pub(crate) fn new(spec: &'static CommandSpec) -> Self {
        Args {
            spec,
            values: [None; MAX_ARGS],
        }
    }

    /// Fills slot `index`; `index < MAX_ARGS` holds for every command in
    /// the table (the compile-time check in `commands`).
    pub(crate) fn set(&mut self, index: usize, value: Option<Value<'a>>) {
        if let Some(slot) = self.values.get_mut(index) {
            *slot = value;
        }
    }

    /// The command these arguments belong to.
    pub fn command(&self) -> &'static CommandSpec {
        self.spec
    }

    /// The value in slot `index`, `None` if an optional argument was left
    /// out or the command has fewer arguments.
    pub fn get(&self, index: usize) -> Option<Value<'a>> {
        self.values.get(index).copied().flatten()
    }

    /// Slot `index`, if the spec says it is an argument of the kind
    /// `wanted` names.
    fn slot(
        &self,
        index: usize,
        wanted: &'static str,
        is_kind: fn(&ArgKind) -> bool,
    ) -> Result<Option<Value<'a>>, ArgMismatch> {
        match self.spec.args.get(index) {
            Some(arg) if is_kind(&arg.kind) => Ok(self.get(index)),
            _ => Err(self.mismatch(index, wanted)),
        }
    }

    /// Slot `index` of a required argument, which the parser always fills.
    fn required(
        &self,
        index: usize,
        wanted: &'static str,
        is_kind: fn(&ArgKind) -> bool,
    ) -> Result<Value<'a>, ArgMismatch> {
        let optional = self.spec.args.get(index).is_some_and(|a| a.optional);
        match self.slot(index, wanted, is_kind)? {
            Some(value) if !optional => Ok(value),
            _ => Err(self.mismatch(index, wanted)),
        }
    }

    /// A required [`ArgKind::Cpu`] argument.
    pub fn cpu(&self, index: usize) -> Result<u32, ArgMismatch> {
        match self.required(index, "CPU number", |k| matches!(k, ArgKind::Cpu))? {
            Value::Cpu(cpu) => Ok(cpu),
            _ => Err(self.mismatch(index, "CPU number")),
        }
    }

    /// An optional [`ArgKind::Cpu`] argument.
    pub fn optional_cpu(&self, index: usize) -> Result<Option<u32>, ArgMismatch> {
        match self.slot(index, "CPU number", |k| matches!(k, ArgKind::Cpu))? {
            Some(Value::Cpu(cpu)) => Ok(Some(cpu)),
            None => Ok(None),
            Some(_) => Err(self.mismatch(index, "CPU number")),
        }
    }

    /// A required [`ArgKind::CpuList`] argument.
    pub fn cpus(&self, index: usize) -> Result<CpuList, ArgMismatch> {
        match self.required(index, "CPU list", |k| matches!(k, ArgKind::CpuList))? {
            Value::Cpus(cpus) => Ok(cpus),
            _ => Err(self.mismatch(index, "CPU list")),
        }
    }

    /// A required [`ArgKind::State`] argument.
    pub fn state(&self, index: usize) -> Result<StateArg<'a>, ArgMismatch> {
        match self.required(index, "state", |k| matches!(k, ArgKind::State))? {
            Value::State(state) => Ok(state),
            _ => Err(self.mismatch(index, "state")),
        }
    }

    /// A required [`ArgKind::StateOrNone`] argument.
    pub fn state_or_none(&self, index: usize) -> Result<Option<StateArg<'a>>, ArgMismatch> {
        let is_kind = |k: &ArgKind| matches!(k, ArgKind::StateOrNone);
        match self.required(index, "state or none", is_kind)? {
            Value::StateOrNone(state) => Ok(state),
            _ => Err(self.mismatch(index, "state or none")),
        }
    }

    /// A required [`ArgKind::NewStateName`] or [`ArgKind::StateName`]
    /// argument.
    pub fn name(&self, index: usize) -> Result<&'a str, ArgMismatch> {
        let is_kind = |k: &ArgKind| matches!(k, ArgKind::NewStateName | ArgKind::StateName);
        match self.required(index, "name", is_kind)? {
            Value::Name(name) => Ok(name),
            _ => Err(self.mismatch(index, "name")),
        }
    }

    /// A required [`ArgKind::Count`] argument.
    pub fn count(&self, index: usize) -> Result<u32, ArgMismatch> {
        match self.required(index, "count", |k| matches!(k, ArgKind::Count { .. }))? {
            Value::Count(n) => Ok(n),
            _ => Err(self.mismatch(index, "count")),
        }
    }

    /// An optional [`ArgKind::Count`] argument.
    pub fn optional_count(&self, index: usize) -> Result<Option<u32>, ArgMismatch> {
        match self.slot(index, "count", |k| matches!(k, ArgKind::Count { .. }))? {
            Some(Value::Count(n)) => Ok(Some(n)),
            None => Ok(None),
            Some(_) => Err(self.mismatch(index, "count")),
        }
    }

    /// An optional [`ArgKind::Seed`] argument.
    pub fn optional_seed(&self, index: usize) -> Result<Option<u64>, ArgMismatch> {
        match self.slot(index, "seed", |k| matches!(k, ArgKind::Seed))? {
            Some(Value::Seed(seed)) => Ok(Some(seed)),
            None => Ok(None),
            Some(_) => Err(self.mismatch(index, "seed")),
        }
    }

    /// An [`ArgKind::Keyword`] argument: whether it was given.
    pub fn flag(&self, index: usize) -> Result<bool, ArgMismatch> {
        match self.slot(index, "keyword", |k| matches!(k, ArgKind::Keyword(_)))? {
            Some(Value::Flag(on)) => Ok(on),
            _ => Err(self.mismatch(index, "keyword")),
        }
    }

    /// An optional [`ArgKind::OneOf`] argument: the word given, if any.
    pub fn optional_word(&self, index: usize) -> Result<Option<&'static str>, ArgMismatch> {
        match self.slot(index, "word", |k| matches!(k, ArgKind::OneOf(_)))? {
            Some(Value::Word(word)) => Ok(Some(word)),
            None => Ok(None),
            Some(_) => Err(self.mismatch(index, "word")),
        }
    }

    /// An optional [`ArgKind::Switch`] argument: `Some(true)` for `on`.
    pub fn optional_switch(&self, index: usize) -> Result<Option<bool>, ArgMismatch> {
        match self.slot(index, "setting", |k| matches!(k, ArgKind::Switch))? {
            Some(Value::Switch(on)) => Ok(Some(on)),
            None => Ok(None),
            Some(_) => Err(self.mismatch(index, "setting")),
        }
    }

    fn mismatch(&self, index: usize, wanted: &'static str) -> ArgMismatch {
        ArgMismatch {
            command: self.spec.name,
            index,
            wanted,
        }
    }
}
