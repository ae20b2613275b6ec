//! How late timers fire: the spread between a timer's deadline and the
//! moment its callback starts, in fixed buckets, so recording never
//! allocates and works from any CPU's interrupt.

use core::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the buckets, in nanoseconds; the last bucket is open.
const BOUNDS_NS: [u64; 12] = [
    1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
    5_000_000,
];

/// A histogram of timer lateness, shared by every CPU.
pub struct Lateness {
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    min_ns: AtomicU64,
    max_ns: AtomicU64,
}

/// A summary of every timer recorded so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatenessSummary {
    /// Timers recorded.
    pub fired: u64,
    /// The least lateness seen (0 before the first).
    pub min_ns: u64,
    /// The greatest lateness seen.
    pub max_ns: u64,
    /// Upper bound of the bucket holding the median (`u64::MAX` for the
    /// open bucket).
    pub median_below_ns: u64,
    /// Upper bound of the bucket holding the 99th percentile.
    pub p99_below_ns: u64,
}

impl Lateness {
    /// An empty histogram (usable in a `static`).
    pub const fn new() -> Lateness {
        Lateness {
            buckets: [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1],
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
        }
    }

    /// Counts one timer that fired `late_ns` after its deadline.
    pub fn record(&self, late_ns: u64) {
        let bucket = BOUNDS_NS
            .iter()
            .position(|&b| late_ns < b)
            .unwrap_or(BOUNDS_NS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.min_ns.fetch_min(late_ns, Ordering::Relaxed);
        self.max_ns.fetch_max(late_ns, Ordering::Relaxed);
    }

    /// What has been recorded so far.
    pub fn summary(&self) -> LatenessSummary {
        let counts: [u64; BOUNDS_NS.len() + 1] =
            core::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed));
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
        LatenessSummary {
            fired,
            min_ns: if fired == 0 {
                0
            } else {
                self.min_ns.load(Ordering::Relaxed)
            },
            max_ns: self.max_ns.load(Ordering::Relaxed),
            median_below_ns: bound_at(fired / 2),
            p99_below_ns: bound_at(fired * 99 / 100),
        }
    }
}

impl Default for Lateness {
    fn default() -> Self {
        Lateness::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_summary_is_all_zero() {
        let l = Lateness::new();
        let s = l.summary();
        assert_eq!(
            (s.fired, s.min_ns, s.max_ns, s.median_below_ns),
            (0, 0, 0, 0)
        );
    }

    #[test]
    fn buckets_bound_median_and_p99() {
        let l = Lateness::new();
        for _ in 0..98 {
            l.record(1_500); // the 2 us bucket
        }
        l.record(7_000_000); // open bucket
        l.record(7_000_000);
        let s = l.summary();
        assert_eq!(s.fired, 100);
        assert_eq!((s.min_ns, s.max_ns), (1_500, 7_000_000));
        assert_eq!(s.median_below_ns, 2_000);
        assert_eq!(s.p99_below_ns, u64::MAX);
    }

    #[test]
    fn a_bound_itself_falls_in_the_next_bucket() {
        let l = Lateness::new();
        l.record(1_000);
        assert_eq!(l.summary().median_below_ns, 2_000);
    }
}
