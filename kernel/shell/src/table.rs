//! Pairing [`COMMANDS`] with the code that runs them.
//!
//! The kernel builds one `CommandTable` of handlers in a `static`. Its
//! length is `COMMANDS.len()` by type, and [`CommandTable::new`] is a
//! `const fn` that panics unless entry `i` names command `i`, so a command
//! without a handler, a handler without a command, a duplicate or a swap
//! is a compile error in the kernel, not a surprise at the console. This
//! module never runs a handler; it only hands the right one back.

use crate::args::Args;
use crate::commands::COMMANDS;
use crate::parse::{parse, ParseError};

/// One handler per command, in [`COMMANDS`] order.
#[derive(Debug)]
pub struct CommandTable<H> {
    handlers: [(&'static str, H); COMMANDS.len()],
}

impl<H> CommandTable<H> {
    /// The table, checked: entry `i` must be `(COMMANDS[i].name, handler)`.
    /// Used in a `static` or `const`, a mismatch fails the build.
    pub const fn new(handlers: [(&'static str, H); COMMANDS.len()]) -> Self {
        let mut i = 0;
        while i < COMMANDS.len() {
            assert!(
                crate::spec::same_name(handlers[i].0, COMMANDS[i].name),
                "handler table out of step with shell::COMMANDS"
            );
            i += 1;
        }
        CommandTable { handlers }
    }

    /// Parses `line` (see [`parse`]) and returns the named command's
    /// handler with its arguments; `Ok(None)` for an empty line.
    pub fn parse<'a>(
        &self,
        line: Result<&'a [u8], ()>,
    ) -> Result<Option<(&H, Args<'a>)>, ParseError<'a>> {
        Ok(parse(line)?.map(|invocation| (&self.handlers[invocation.index].1, invocation.args)))
    }
}
