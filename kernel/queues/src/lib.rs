//! The pure logic of the kernel's per-CPU queues, host-tested.
//!
//! The kernel's scheduler, timers and deferred work keep one queue per CPU
//! and move what is queued when a CPU goes down. What is ordered how, and
//! where a moved item lands, is decided here, without locks, interrupts or
//! hardware, so host tests can check it; the kernel wraps these types in
//! its per-CPU locks and adds the IPIs. The LAPIC timer's rate arithmetic
//! (what CPUID's crystal clock makes of it, whether a quick measurement
//! agrees) lives here for the same reason. This crate never touches
//! hardware or a lock.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod lateness;
mod place;
mod timer;
mod timer_rate;
mod work;

pub use lateness::{Lateness, LatenessSummary};
pub use place::{first_other, least_loaded};
pub use timer::{delay_ns, Timer, TimerQueue};
pub use timer_rate::{
    core_crystal_hz, display_family_model, rate_agrees, ticks_per_ms, CrystalLeaf,
};
pub use work::WorkQueue;
