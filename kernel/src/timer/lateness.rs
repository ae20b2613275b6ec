//! How late timers fire: the spread between a timer's deadline and the
//! moment its callback starts, in buckets (a fixed histogram, so recording
//! never allocates and works from any CPU's interrupt).

use core::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the buckets, in nanoseconds; the last is open.
const BOUNDS_NS: [u64; 12] = [
    1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
    5_000_000,
];

static BUCKETS: [AtomicU64; BOUNDS_NS.len() + 1] =
    [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1];
static MIN_NS: AtomicU64 = AtomicU64::new(u64::MAX);
static MAX_NS: AtomicU64 = AtomicU64::new(0);

pub(super) fn record(late_ns: u64) {
    let bucket = BOUNDS_NS
        .iter()
        .position(|&b| late_ns < b)
        .unwrap_or(BOUNDS_NS.len());
    BUCKETS[bucket].fetch_add(1, Ordering::Relaxed);
    MIN_NS.fetch_min(late_ns, Ordering::Relaxed);
    MAX_NS.fetch_max(late_ns, Ordering::Relaxed);
}

/// A summary of every timer fired so far.
#[derive(Clone, Copy, Debug)]
pub struct Lateness {
    pub fired: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    /// Upper bounds of the buckets holding the median and the 99th
    /// percentile (`u64::MAX` for the open bucket).
    pub median_below_ns: u64,
    pub p99_below_ns: u64,
}

pub fn summary() -> Lateness {
    let counts: [u64; BOUNDS_NS.len() + 1] =
        core::array::from_fn(|i| BUCKETS[i].load(Ordering::Relaxed));
    let fired: u64 = counts.iter().sum();
    let bound_at = |rank: u64| {
        let mut seen = 0;
        for (i, &c) in counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                return BOUNDS_NS.get(i).copied().unwrap_or(u64::MAX);
            }
        }
        0
    };
    Lateness {
        fired,
        min_ns: if fired == 0 {
            0
        } else {
            MIN_NS.load(Ordering::Relaxed)
        },
        max_ns: MAX_NS.load(Ordering::Relaxed),
        median_below_ns: bound_at(fired / 2),
        p99_below_ns: bound_at(fired * 99 / 100),
    }
}
