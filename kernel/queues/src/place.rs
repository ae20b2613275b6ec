//! Where work goes: choosing a CPU for an unbound thread, and the CPU that
//! takes over what a departing CPU held.

use hotplug::CpuId;

/// The CPU for a ready unbound thread among the first `n` CPUs: `prefer`
/// if it accepts unbound threads and has nothing queued (the thread's
/// cache is warm there), else the accepting CPU with the fewest queued
/// threads (the lowest number on a tie). `None` if no CPU accepts.
pub fn least_loaded(
    prefer: Option<CpuId>,
    n: usize,
    accepting: impl Fn(CpuId) -> bool,
    queued: impl Fn(CpuId) -> usize,
) -> Option<CpuId> {
    if let Some(cpu) = prefer.filter(|&c| c.index() < n && accepting(c) && queued(c) == 0) {
        return Some(cpu);
    }
    (0..n as u32)
        .map(CpuId)
        .filter(|&c| accepting(c))
        .min_by_key(|&c| queued(c))
}

/// The lowest-numbered CPU among the first `n`, other than `except`, for
/// which `ok` holds: where a departing CPU's timers and work items go.
pub fn first_other(n: usize, except: CpuId, ok: impl Fn(CpuId) -> bool) -> Option<CpuId> {
    (0..n as u32).map(CpuId).find(|&c| c != except && ok(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preferred_idle_cpu_wins() {
        let queued = [3, 0, 0, 5];
        let pick = least_loaded(Some(CpuId(2)), 4, |_| true, |c| queued[c.index()]);
        assert_eq!(pick, Some(CpuId(2)));
    }

    #[test]
    fn a_busy_preference_yields_to_the_least_loaded() {
        let queued = [3, 1, 2, 5];
        let pick = least_loaded(Some(CpuId(3)), 4, |_| true, |c| queued[c.index()]);
        assert_eq!(pick, Some(CpuId(1)));
    }

    #[test]
    fn cpus_that_do_not_accept_are_never_chosen() {
        let queued = [0, 0, 9, 4];
        let accepting = |c: CpuId| c.0 >= 2;
        assert_eq!(
            least_loaded(Some(CpuId(0)), 4, accepting, |c| queued[c.index()]),
            Some(CpuId(3))
        );
        assert_eq!(least_loaded(None, 4, |_| false, |_| 0), None);
    }

    #[test]
    fn a_preference_beyond_n_is_ignored() {
        assert_eq!(
            least_loaded(Some(CpuId(7)), 2, |_| true, |_| 0),
            Some(CpuId(0))
        );
    }

    #[test]
    fn ties_go_to_the_lowest_number() {
        assert_eq!(least_loaded(None, 4, |_| true, |_| 1), Some(CpuId(0)));
    }

    #[test]
    fn first_other_skips_the_departing_cpu() {
        assert_eq!(first_other(4, CpuId(0), |_| true), Some(CpuId(1)));
        assert_eq!(first_other(4, CpuId(1), |c| c.0 != 0), Some(CpuId(2)));
        assert_eq!(first_other(1, CpuId(0), |_| true), None);
    }
}
