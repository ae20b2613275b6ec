//! What a command looks like: its name, its arguments and one line of help.
//!
//! Owns the *shape* of the command language (argument kinds, their limits,
//! their synopsis) and how `help` and the README print it. It never reads
//! input and never names a kernel function: parsing is in `parse`, and the
//! kernel pairs each spec with its handler in a [`crate::CommandTable`].

use core::fmt;

/// What one argument must look like, and what it becomes once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A logical CPU number: plain decimal, fits in `u32`. A list given
    /// here is refused with [`crate::ParseError::NotAList`].
    Cpu,
    /// CPUs in Linux's cpulist format ([`crate::CpuList`]): one number
    /// (as [`ArgKind::Cpu`]), `all`, or ranges and commas.
    CpuList,
    /// A hotplug state: all digits is an index (fits in `u16`), anything
    /// else is a name looked up by the kernel.
    State,
    /// Like [`ArgKind::State`], but the word `none` means "no state".
    StateOrNone,
    /// A name for a new state: 1 to [`MAX_NAME`] of `a-z 0-9 : _ -`, not all
    /// digits (that would read as an index) and not `none`.
    NewStateName,
    /// The name of an existing state, any word; the kernel checks it.
    StateName,
    /// A plain decimal count in `min..=max`.
    Count {
        /// What the count counts, for error lines (`thread count`).
        what: &'static str,
        /// Smallest accepted value.
        min: u32,
        /// Largest accepted value.
        max: u32,
    },
    /// A random seed: plain decimal, fits in `u64`.
    Seed,
    /// A literal word that turns an option on (`crash 1 stack`).
    Keyword(&'static str),
    /// One word out of a fixed set (`trace dump`).
    OneOf(&'static [&'static str]),
    /// A setting: the word `on` or `off`.
    Switch,
}

impl ArgKind {
    /// The noun an error line uses for a missing argument (`'online' needs
    /// a CPU number`).
    pub const fn noun(&self) -> &'static str {
        match self {
            ArgKind::Cpu | ArgKind::CpuList => "CPU number",
            ArgKind::State | ArgKind::StateOrNone => "state (name or index)",
            ArgKind::NewStateName | ArgKind::StateName => "state name",
            ArgKind::Count { what, .. } => what,
            ArgKind::Seed => "seed",
            ArgKind::Keyword(word) => word,
            ArgKind::OneOf(_) => "word",
            ArgKind::Switch => "setting (on or off)",
        }
    }
}

/// One argument of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    /// The placeholder `help` shows (`cpu` prints as `<cpu>`); a
    /// [`ArgKind::Keyword`] prints as its word instead.
    pub placeholder: &'static str,
    /// What the argument must look like.
    pub kind: ArgKind,
    /// May be left out; only trailing arguments may be optional.
    pub optional: bool,
}

impl ArgSpec {
    /// A required argument.
    pub const fn required(placeholder: &'static str, kind: ArgKind) -> Self {
        ArgSpec {
            placeholder,
            kind,
            optional: false,
        }
    }

    /// An argument that may be left out.
    pub const fn optional(placeholder: &'static str, kind: ArgKind) -> Self {
        ArgSpec {
            placeholder,
            kind,
            optional: true,
        }
    }
}

impl fmt::Display for ArgSpec {
    /// `<cpu>`, `[seed]`, `[stack]`, `<state|none>`, `[on|off]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (open, close) = if self.optional {
            ("[", "]")
        } else {
            ("<", ">")
        };
        match self.kind {
            ArgKind::Keyword(word) if self.optional => write!(f, "[{word}]"),
            ArgKind::Keyword(word) => write!(f, "{word}"),
            ArgKind::OneOf(words) => {
                f.write_str(open)?;
                for (i, word) in words.iter().enumerate() {
                    let bar = if i > 0 { "|" } else { "" };
                    write!(f, "{bar}{word}")?;
                }
                f.write_str(close)
            }
            ArgKind::StateOrNone => write!(f, "{open}{}|none{close}", self.placeholder),
            ArgKind::Switch => write!(f, "{open}on|off{close}"),
            _ => write!(f, "{open}{}{close}", self.placeholder),
        }
    }
}

/// One console command, without its handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// The first word of the line.
    pub name: &'static str,
    /// The words after it, in order.
    pub args: &'static [ArgSpec],
    /// One line for `help`.
    pub help: &'static str,
}

impl CommandSpec {
    /// The command as `help` and the README write it: `target <cpu> <state>`.
    pub const fn synopsis(&self) -> Synopsis<'_> {
        Synopsis(self)
    }
}

/// The display of [`CommandSpec::synopsis`].
#[derive(Clone, Copy, Debug)]
pub struct Synopsis<'s>(&'s CommandSpec);

impl Synopsis<'_> {
    /// How many characters the synopsis prints, for alignment.
    fn len(&self) -> usize {
        let mut counter = Counter(0);
        // `Counter` never fails, so neither does this.
        let _ = self.write_to(&mut counter);
        counter.0
    }

    fn write_to(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(self.0.name)?;
        for arg in self.0.args {
            write!(out, " {arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Synopsis<'_> {
    /// Honours a width (`{:<22}`) by padding on the right.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)?;
        for _ in self.len()..f.width().unwrap_or(0) {
            f.write_str(" ")?;
        }
        Ok(())
    }
}

/// `help`'s output: one line per command, synopsis then help text, the
/// help texts aligned.
#[derive(Clone, Copy, Debug)]
pub struct Help<'t>(pub &'t [CommandSpec]);

impl fmt::Display for Help<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .0
            .iter()
            .map(|spec| spec.synopsis().len())
            .max()
            .unwrap_or(0);
        for (i, spec) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{:<width$}  {}", spec.synopsis(), spec.help)?;
        }
        Ok(())
    }
}

/// A writer that only counts (the crate is `no_std` without `alloc`, so
/// there is no `String` to measure).
struct Counter(usize);

impl fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Longest name `register` accepts.
pub const MAX_NAME: usize = 32;

/// `a == b` for `&str` in a `const fn`.
pub(crate) const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
