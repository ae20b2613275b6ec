//! A context's state word: what it is doing in the low byte, and in the
//! bits above, its home CPU plus one (0: none). A context adopted on a CPU
//! keeps its frames on that CPU's own stack, so only that CPU may resume
//! it; keeping the home in the same word as the state lets one
//! compare-and-swap check both.
//!
//! It never touches a context: it only packs and unpacks the word.

/// The context holds registers saved by a switch (or a fresh first
/// frame) and may be resumed.
pub(super) const SAVED: u32 = 0;
/// The context runs on some CPU (or is being switched out of it).
pub(super) const RUNNING: u32 = 1;
/// Nothing to resume: a boot context not adopted yet, or one whose CPU
/// stopped running it without saving it (parked, or forced down).
pub(super) const VACANT: u32 = 2;
/// Its stack was given back; it never runs again.
pub(super) const RETIRED: u32 = 3;
/// No home CPU: any CPU may resume the context.
pub(super) const NO_HOME: u32 = 0;

/// The state part of `word`.
pub(super) const fn state(word: u32) -> u32 {
    word & 0xff
}

/// The home part of `word` (CPU index plus one, or [`NO_HOME`]).
pub(super) const fn home(word: u32) -> u32 {
    word >> 8
}

/// The word for `state` at `home`.
pub(super) const fn make(state: u32, home: u32) -> u32 {
    home << 8 | state
}

/// The home value of CPU `index`.
pub(super) const fn home_of(index: usize) -> u32 {
    index as u32 + 1
}
