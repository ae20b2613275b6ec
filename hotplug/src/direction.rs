//! Which way a CPU moves through the table.
//!
//! Owns only [`Direction`]; the walks decide which way to go.

/// Which way a CPU moves through the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Towards `online`: `bring_up` callbacks, lowest state first.
    Up,
    /// Towards `offline`: `tear_down` callbacks, highest state first.
    Down,
}

impl Direction {
    /// The other way: the direction a rollback goes.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        }
    }
}

impl core::fmt::Display for Direction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Direction::Up => "bring-up",
            Direction::Down => "teardown",
        })
    }
}
