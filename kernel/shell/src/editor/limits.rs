//! The editor's one size limit, in a leaf of its own so that the line,
//! the history and completion can all use it without importing each other.

/// Longest line kept; longer input is consumed but the line is rejected.
pub const MAX_LINE: usize = 256;
