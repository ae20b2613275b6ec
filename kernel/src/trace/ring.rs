//! A fixed-size ring of events: allocated once, then never again; when
//! full, the oldest event goes and is counted.

use super::event::Event;
use alloc::vec::Vec;

/// One CPU's events, oldest first from `start`.
pub struct Ring {
    events: Vec<Event>,
    /// Where the oldest held event is, once the ring has wrapped.
    start: usize,
    /// Events pushed out to make room, since the last clear.
    dropped: u64,
}

impl Ring {
    /// A ring for `capacity` events, or `None` if the heap has no room.
    pub fn with_capacity(capacity: usize) -> Option<Ring> {
        let mut events = Vec::new();
        events.try_reserve_exact(capacity).ok()?;
        Some(Ring {
            events,
            start: 0,
            dropped: 0,
        })
    }

    /// Adds `event`, pushing out the oldest if full. Never allocates: the
    /// vector only grows up to the capacity reserved at creation.
    pub fn push(&mut self, event: Event) {
        if self.events.len() < self.events.capacity() {
            self.events.push(event);
        } else if let Some(oldest) = self.events.get_mut(self.start) {
            *oldest = event;
            self.start = (self.start + 1) % self.events.len();
            self.dropped += 1;
        } else {
            // A ring of capacity 0 (no memory was left for it).
            self.dropped += 1;
        }
    }

    /// Events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Events pushed out since the last clear.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Empties the ring and its drop count.
    pub fn clear(&mut self) {
        self.events.clear();
        self.start = 0;
        self.dropped = 0;
    }

    /// The held events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        let (newer, older) = self.events.split_at(self.start);
        older.iter().chain(newer)
    }
}
