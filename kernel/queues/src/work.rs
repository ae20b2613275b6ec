//! One CPU's queue of deferred work items.
//!
//! A closed queue (its worker is parked for hotplug) refuses new items and
//! hands back what it held, so the caller can move them to an open CPU:
//! no item is ever left on an offline CPU.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Work items in arrival order, and whether the queue takes more.
#[derive(Debug)]
pub struct WorkQueue<W> {
    items: VecDeque<W>,
    open: bool,
}

impl<W> WorkQueue<W> {
    /// An empty, closed queue (usable in a `static`).
    pub const fn new() -> WorkQueue<W> {
        WorkQueue {
            items: VecDeque::new(),
            open: false,
        }
    }

    /// Makes room for `n` items, so queueing that many never allocates.
    pub fn reserve(&mut self, n: usize) {
        self.items.reserve(n.saturating_sub(self.items.len()));
    }

    /// Whether the queue takes items.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Opens the queue (its worker runs).
    pub fn open(&mut self) {
        self.open = true;
    }

    /// Queues `item` last, or gives it back if the queue is closed.
    pub fn push(&mut self, item: W) -> Result<(), W> {
        if !self.open {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    /// The oldest item, taken out.
    pub fn pop(&mut self) -> Option<W> {
        self.items.pop_front()
    }

    /// Closes the queue and returns what it held, oldest first.
    pub fn close(&mut self) -> Vec<W> {
        self.open = false;
        self.items.drain(..).collect()
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<W> Default for WorkQueue<W> {
    fn default() -> Self {
        WorkQueue::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn a_closed_queue_refuses_and_returns_the_item() {
        let mut q = WorkQueue::new();
        assert_eq!(q.push(1), Err(1));
        q.open();
        assert_eq!(q.push(1), Ok(()));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn items_run_in_arrival_order() {
        let mut q = WorkQueue::new();
        q.open();
        for i in 0..5 {
            q.push(i).unwrap();
        }
        let order: Vec<i32> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn closing_hands_back_everything_in_order() {
        let mut q = WorkQueue::new();
        q.open();
        q.push('a').unwrap();
        q.push('b').unwrap();
        assert_eq!(q.close(), vec!['a', 'b']);
        assert!(q.is_empty());
        assert!(!q.is_open());
        assert_eq!(q.push('c'), Err('c'));
    }
}
