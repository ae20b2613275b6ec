//! Property: whatever the arming order, timers fire in deadline order, in
//! arming order among equal deadlines, and none is lost or fires early.

use proptest::prelude::*;
use queues::{Timer, TimerQueue};

proptest! {
    #[test]
    fn fire_order_matches_a_stable_sort(
        deadlines in proptest::collection::vec(0u64..50, 0..64),
        now in 0u64..60,
    ) {
        let mut q = TimerQueue::new();
        for (id, &deadline_ns) in deadlines.iter().enumerate() {
            q.insert(Timer { id: id as u64, deadline_ns, callback: () });
        }
        let fired: Vec<(u64, u64)> = core::iter::from_fn(|| q.pop_due(now))
            .map(|t| (t.deadline_ns, t.id))
            .collect();
        let mut expected: Vec<(u64, u64)> = deadlines
            .iter()
            .enumerate()
            .map(|(id, &d)| (d, id as u64))
            .filter(|&(d, _)| d <= now)
            .collect();
        expected.sort_by_key(|&(d, _)| d); // stable: ids stay in arming order
        prop_assert_eq!(&fired, &expected);
        prop_assert_eq!(q.len() + fired.len(), deadlines.len());
        prop_assert!(q.next_event().is_none_or(|at| at > now));
    }
}
