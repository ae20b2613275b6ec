//! The pure logic of the kernel log buffer, host-tested.
//!
//! Kernel log lines that must not wait for the UART (anything printed
//! outside the console thread) go into a fixed-size ring of whole records
//! that the console drains. This crate decides what fits, what is dropped
//! and where the console is told about a drop; `arch::serial` wraps a
//! [`LogRing`] in its lock and does the I/O. It never allocates, locks or
//! touches hardware, so a push can run in an interrupt handler.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod line;
mod ring;

pub use line::LineBuf;
pub use ring::{LogRing, Push, Record, RECORD_HEADER_BYTES};
