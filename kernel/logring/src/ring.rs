//! A byte ring of whole records: push stores all of a record or none of it.
//!
//! Every record is a header (its length, and how many records were dropped
//! right before it) followed by its bytes, both possibly wrapping around
//! the end of the array. A record that does not fit is dropped and
//! counted; the count travels with the next record that fits, so the
//! consumer can say "N lines dropped" exactly where they went missing.

/// Bytes in front of every stored record: its length and the number of
/// records dropped just before it, each a little-endian `u32`.
pub const RECORD_HEADER_BYTES: usize = 8;

/// What [`LogRing::push`] did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Stored whole. `was_empty`: the ring had nothing to drain before,
    /// the moment to wake a sleeping consumer.
    Stored {
        /// Whether the consumer had nothing to drain before this push.
        was_empty: bool,
    },
    /// It did not fit (or is longer than the whole ring): dropped, counted.
    Dropped,
}

/// One record taken by [`LogRing::pop`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Bytes copied into the caller's buffer (a record longer than the
    /// buffer is cut to it; the rest is discarded).
    pub len: usize,
    /// Records dropped right before this one. A record with `len == 0` and
    /// a count here reports drops after the newest stored record.
    pub dropped_before: u32,
}

/// A ring of `N` bytes holding whole records, oldest first.
#[derive(Debug)]
pub struct LogRing<const N: usize> {
    bytes: [u8; N],
    /// Index of the oldest stored byte.
    start: usize,
    /// Stored bytes, headers included.
    used: usize,
    /// Records dropped since the newest stored one (not yet reported).
    dropped_pending: u32,
    /// Records dropped since the ring was made.
    dropped_total: u64,
}

impl<const N: usize> Default for LogRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LogRing<N> {
    /// An empty ring; `const` so it can sit in a static.
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            start: 0,
            used: 0,
            dropped_pending: 0,
            dropped_total: 0,
        }
    }

    /// Stores `record` whole if it fits in the free space, else drops it
    /// and counts it. An empty record stores nothing.
    pub fn push(&mut self, record: &[u8]) -> Push {
        let was_empty = !self.has_pending();
        if record.is_empty() {
            return Push::Stored { was_empty };
        }
        let Ok(len) = u32::try_from(record.len()) else {
            return self.drop_one(1);
        };
        if RECORD_HEADER_BYTES + record.len() > N - self.used {
            return self.drop_one(1);
        }
        let mut header = [0u8; RECORD_HEADER_BYTES];
        header[..4].copy_from_slice(&len.to_le_bytes());
        header[4..].copy_from_slice(&self.dropped_pending.to_le_bytes());
        self.dropped_pending = 0;
        self.write_end(&header);
        self.write_end(record);
        Push::Stored { was_empty }
    }

    /// Counts `n` records as dropped without offering them (a producer
    /// that could not even take the lock in time reports them here).
    pub fn note_dropped(&mut self, n: u32) {
        if n > 0 {
            self.drop_one(n);
        }
    }

    /// Takes the oldest record into `out`; or, once the ring is empty, a
    /// zero-length record carrying drops not yet reported. `None` when
    /// there is nothing at all.
    pub fn pop(&mut self, out: &mut [u8]) -> Option<Record> {
        if self.used == 0 {
            let dropped_before = core::mem::take(&mut self.dropped_pending);
            return (dropped_before > 0).then_some(Record {
                len: 0,
                dropped_before,
            });
        }
        let mut header = [0u8; RECORD_HEADER_BYTES];
        self.read_start(&mut header);
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let dropped_before = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let copied = len.min(out.len());
        self.read_start(&mut out[..copied]);
        self.skip(len - copied);
        Some(Record {
            len: copied,
            dropped_before,
        })
    }

    /// Whether a [`LogRing::pop`] would return something.
    pub fn has_pending(&self) -> bool {
        self.used > 0 || self.dropped_pending > 0
    }

    /// Bytes stored, headers included.
    pub fn used_bytes(&self) -> usize {
        self.used
    }

    /// Records dropped since the ring was made.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    fn drop_one(&mut self, n: u32) -> Push {
        self.dropped_pending = self.dropped_pending.saturating_add(n);
        self.dropped_total += u64::from(n);
        Push::Dropped
    }

    /// Appends `data` after the newest byte; the caller checked it fits.
    fn write_end(&mut self, data: &[u8]) {
        let at = (self.start + self.used) % N;
        let first = data.len().min(N - at);
        self.bytes[at..at + first].copy_from_slice(&data[..first]);
        self.bytes[..data.len() - first].copy_from_slice(&data[first..]);
        self.used += data.len();
    }

    /// Moves the oldest `out.len()` bytes into `out`; they are stored.
    fn read_start(&mut self, out: &mut [u8]) {
        let first = out.len().min(N - self.start);
        out[..first].copy_from_slice(&self.bytes[self.start..self.start + first]);
        let rest = out.len() - first;
        out[first..].copy_from_slice(&self.bytes[..rest]);
        self.skip(out.len());
    }

    fn skip(&mut self, n: usize) {
        self.start = (self.start + n) % N;
        self.used -= n;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn pop_text<const N: usize>(ring: &mut LogRing<N>) -> Option<(Vec<u8>, u32)> {
        let mut out = [0u8; 64];
        ring.pop(&mut out)
            .map(|r| (out[..r.len].to_vec(), r.dropped_before))
    }

    #[test]
    fn records_come_out_whole_and_in_order() {
        let mut ring = LogRing::<64>::new();
        assert_eq!(ring.push(b"one\n"), Push::Stored { was_empty: true });
        assert_eq!(ring.push(b"two\n"), Push::Stored { was_empty: false });
        assert_eq!(pop_text(&mut ring), Some((b"one\n".to_vec(), 0)));
        assert_eq!(pop_text(&mut ring), Some((b"two\n".to_vec(), 0)));
        assert_eq!(pop_text(&mut ring), None);
        assert!(!ring.has_pending());
    }

    #[test]
    fn a_record_that_does_not_fit_is_dropped_whole_and_counted() {
        // 32 bytes: one 8+16 record fits, a second does not.
        let mut ring = LogRing::<32>::new();
        let line = [b'a'; 16];
        assert!(matches!(ring.push(&line), Push::Stored { .. }));
        assert_eq!(ring.push(&line), Push::Dropped);
        assert_eq!(ring.push(b"x"), Push::Dropped, "1 + 8 > 8 bytes free");
        assert_eq!(ring.dropped_total(), 2);
        assert_eq!(ring.used_bytes(), RECORD_HEADER_BYTES + 16);
        assert_eq!(pop_text(&mut ring), Some((line.to_vec(), 0)));
        // The drops came after the only record: reported once it is empty.
        assert_eq!(pop_text(&mut ring), Some((Vec::new(), 2)));
        assert_eq!(pop_text(&mut ring), None);
    }

    #[test]
    fn drops_are_reported_where_they_happened() {
        let mut ring = LogRing::<32>::new();
        ring.push(&[b'a'; 20]);
        ring.push(b"lost");
        ring.push(b"lost");
        assert_eq!(pop_text(&mut ring).map(|(_, d)| d), Some(0));
        ring.push(b"after");
        assert_eq!(pop_text(&mut ring), Some((b"after".to_vec(), 2)));
        assert_eq!(pop_text(&mut ring), None);
    }

    #[test]
    fn an_exact_fit_is_stored() {
        let mut ring = LogRing::<24>::new();
        let line = [b'z'; 24 - RECORD_HEADER_BYTES];
        assert!(matches!(ring.push(&line), Push::Stored { .. }));
        assert_eq!(ring.used_bytes(), 24);
        assert_eq!(ring.push(&[]), Push::Stored { was_empty: false });
        assert_eq!(pop_text(&mut ring), Some((line.to_vec(), 0)));
    }

    #[test]
    fn a_record_longer_than_the_ring_is_dropped() {
        let mut ring = LogRing::<16>::new();
        assert_eq!(ring.push(&[b'x'; 100]), Push::Dropped);
        assert_eq!(pop_text(&mut ring), Some((Vec::new(), 1)));
    }

    #[test]
    fn records_wrap_around_the_end() {
        let mut ring = LogRing::<40>::new();
        for round in 0..50u8 {
            let line = [b'a' + round % 26; 13];
            assert!(matches!(ring.push(&line), Push::Stored { .. }));
            assert_eq!(pop_text(&mut ring), Some((line.to_vec(), 0)));
        }
        assert_eq!(ring.used_bytes(), 0);
    }

    #[test]
    fn a_short_buffer_cuts_the_record_and_skips_the_rest() {
        let mut ring = LogRing::<64>::new();
        ring.push(b"0123456789");
        ring.push(b"next");
        let mut out = [0u8; 4];
        assert_eq!(
            ring.pop(&mut out),
            Some(Record {
                len: 4,
                dropped_before: 0
            })
        );
        assert_eq!(&out, b"0123");
        assert_eq!(pop_text(&mut ring), Some((b"next".to_vec(), 0)));
    }

    #[test]
    fn noted_drops_count_like_pushed_ones() {
        let mut ring = LogRing::<64>::new();
        ring.note_dropped(3);
        ring.push(b"x");
        assert_eq!(pop_text(&mut ring), Some((b"x".to_vec(), 3)));
        assert_eq!(ring.dropped_total(), 3);
    }
}
