//! One CPU's timer queue: armed timers sorted by deadline, plus the two
//! other reasons its LAPIC timer may have to fire (the scheduler's slice
//! end and a bounded halt's wake-up).
//!
//! Deadlines are absolute nanoseconds on the monotonic clock. The queue
//! never allocates after [`TimerQueue::reserve`] as long as it holds no
//! more timers than reserved.

use alloc::vec::Vec;

/// One armed timer; `F` is what runs when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer<F> {
    /// Unique among armed timers, for cancelling.
    pub id: u64,
    /// When it fires (monotonic ns).
    pub deadline_ns: u64,
    /// What it runs.
    pub callback: F,
}

/// A CPU's timers and wake-up reasons.
#[derive(Debug)]
pub struct TimerQueue<F> {
    /// Sorted by deadline; timers with equal deadlines fire in arming order.
    timers: Vec<Timer<F>>,
    /// Whether the queue takes new timers (its CPU is up).
    pub live: bool,
    /// When the running thread's slice ends, if another thread waits.
    pub slice_end: Option<u64>,
    /// When a bounded halt on this CPU must wake up.
    pub halt_wakeup: Option<u64>,
}

impl<F> TimerQueue<F> {
    /// An empty, closed queue (usable in a `static`).
    pub const fn new() -> TimerQueue<F> {
        TimerQueue {
            timers: Vec::new(),
            live: false,
            slice_end: None,
            halt_wakeup: None,
        }
    }

    /// Makes room for `n` timers, so arming up to that many never allocates.
    pub fn reserve(&mut self, n: usize) {
        self.timers.reserve(n.saturating_sub(self.timers.len()));
    }

    /// Arms `timer`, after every timer with the same or an earlier deadline.
    pub fn insert(&mut self, timer: Timer<F>) {
        let at = self
            .timers
            .partition_point(|t| t.deadline_ns <= timer.deadline_ns);
        self.timers.insert(at, timer);
    }

    /// Removes the timer `id`; whether it was armed here.
    pub fn cancel(&mut self, id: u64) -> bool {
        match self.timers.iter().position(|t| t.id == id) {
            Some(at) => {
                self.timers.remove(at);
                true
            }
            None => false,
        }
    }

    /// The earliest timer due at `now`, taken out of the queue. A halt
    /// wake-up that is due is cleared on the way: it has done its job.
    pub fn pop_due(&mut self, now: u64) -> Option<Timer<F>> {
        if self.halt_wakeup.is_some_and(|t| t <= now) {
            self.halt_wakeup = None;
        }
        match self.timers.first() {
            Some(t) if t.deadline_ns <= now => Some(self.timers.remove(0)),
            _ => None,
        }
    }

    /// Whether the slice ended by `now`; clears it if so.
    pub fn take_expired_slice(&mut self, now: u64) -> bool {
        let over = self.slice_end.is_some_and(|t| t <= now);
        if over {
            self.slice_end = None;
        }
        over
    }

    /// When the LAPIC timer must fire next, if at all.
    pub fn next_event(&self) -> Option<u64> {
        [
            self.timers.first().map(|t| t.deadline_ns),
            self.slice_end,
            self.halt_wakeup,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Every armed timer, in deadline order, leaving the queue empty with
    /// room for `keep` timers (the CPU reuses it when it comes back).
    pub fn take_all(&mut self, keep: usize) -> Vec<Timer<F>> {
        core::mem::replace(&mut self.timers, Vec::with_capacity(keep))
    }

    /// How many timers are armed.
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}

impl<F> Default for TimerQueue<F> {
    fn default() -> Self {
        TimerQueue::new()
    }
}

/// How far ahead to program a one-shot timer for `at`, seen at `now`: at
/// least 1 ns, so a deadline already passed fires at once instead of never.
pub fn delay_ns(at: u64, now: u64) -> u64 {
    at.saturating_sub(now).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn timer(id: u64, deadline_ns: u64) -> Timer<()> {
        Timer {
            id,
            deadline_ns,
            callback: (),
        }
    }

    fn drain(q: &mut TimerQueue<()>, now: u64) -> Vec<u64> {
        core::iter::from_fn(|| q.pop_due(now))
            .map(|t| t.id)
            .collect()
    }

    #[test]
    fn timers_fire_in_deadline_order_and_fifo_among_equals() {
        let mut q = TimerQueue::new();
        for (id, at) in [(1, 30), (2, 10), (3, 30), (4, 20), (5, 10)] {
            q.insert(timer(id, at));
        }
        assert_eq!(drain(&mut q, 100), vec![2, 5, 4, 1, 3]);
    }

    #[test]
    fn only_due_timers_fire() {
        let mut q = TimerQueue::new();
        q.insert(timer(1, 10));
        q.insert(timer(2, 20));
        assert_eq!(drain(&mut q, 15), vec![1]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_event(), Some(20));
    }

    #[test]
    fn next_event_is_the_earliest_reason() {
        let mut q: TimerQueue<()> = TimerQueue::new();
        assert_eq!(q.next_event(), None);
        q.insert(timer(1, 50));
        q.slice_end = Some(40);
        q.halt_wakeup = Some(45);
        assert_eq!(q.next_event(), Some(40));
        assert!(q.take_expired_slice(40));
        assert!(!q.take_expired_slice(40));
        assert_eq!(q.next_event(), Some(45));
        assert!(q.pop_due(46).is_none());
        assert_eq!(q.halt_wakeup, None, "a due halt wake-up is cleared");
        assert_eq!(q.next_event(), Some(50));
    }

    #[test]
    fn cancel_removes_only_that_timer() {
        let mut q = TimerQueue::new();
        q.insert(timer(1, 10));
        q.insert(timer(2, 10));
        assert!(q.cancel(1));
        assert!(!q.cancel(1));
        assert_eq!(drain(&mut q, 10), vec![2]);
    }

    #[test]
    fn take_all_empties_in_order_and_keeps_room() {
        let mut q = TimerQueue::new();
        q.insert(timer(1, 20));
        q.insert(timer(2, 10));
        let moved: Vec<u64> = q.take_all(64).into_iter().map(|t| t.id).collect();
        assert_eq!(moved, vec![2, 1]);
        assert!(q.is_empty());
        assert!(q.timers.capacity() >= 64);
    }

    #[test]
    fn a_passed_deadline_is_programmed_one_ns_ahead() {
        assert_eq!(delay_ns(100, 40), 60);
        assert_eq!(delay_ns(100, 100), 1);
        assert_eq!(delay_ns(100, 500), 1);
    }
}
