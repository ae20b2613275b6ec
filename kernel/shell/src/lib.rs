//! The serial console's pure logic: line editing, the command table and
//! command parsing.
//!
//! No I/O and no kernel state, so every byte sequence can be fed to it on
//! the host. The kernel moves bytes between the UART and [`LineEditor`],
//! then hands complete lines to its [`CommandTable`], which parses them
//! against [`COMMANDS`] and gives back the handler to run with typed
//! [`Args`].
//!
//! [`COMMANDS`] is the single list of commands: `help` prints it
//! ([`Help`]), the parser follows it, the kernel's handler table must match
//! it at compile time ([`CommandTable::new`]) and `tests/readme.rs` fails
//! when the README's console table differs from it.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod commands;
mod cpulist;
mod editor;
mod parse;
mod spec;
mod table;

pub use args::{ArgMismatch, Args, StateArg, Value, MAX_ARGS};
pub use commands::{COMMANDS, MAX_BENCH_CYCLES, MAX_TORTURE_OPS};
pub use cpulist::{CpuList, CpuSet, ListError, MAX_LIST_CPUS};
pub use editor::{Edit, LineEditor, StateNames, HIDE, HISTORY_LINES, MAX_LINE};
pub use parse::{parse, Invocation, ParseError};
pub use spec::{ArgKind, ArgSpec, CommandSpec, Help, Synopsis, MAX_NAME};
pub use table::CommandTable;
