//! The serial console's pure logic: line editing and command parsing.
//!
//! No I/O and no kernel state, so every byte sequence can be fed to it on
//! the host. The kernel moves bytes between the UART and [`LineEditor`],
//! then hands complete lines to [`parse`].
#![no_std]
#![forbid(unsafe_code)]

mod editor;
mod parse;

pub use editor::{Edit, LineEditor, MAX_LINE};
pub use parse::{parse, Command, ParseError, StateArg, HELP, MAX_NAME};
