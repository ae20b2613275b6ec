//! The ring against a model: any sequence of pushes and pops gives back
//! exactly the records a plain queue with the same free-space rule keeps,
//! whole and in order, with every drop counted once, where it happened.

use logring::{LogRing, Push, RECORD_HEADER_BYTES};
use proptest::prelude::*;
use std::collections::VecDeque;

const RING: usize = 128;

#[derive(Debug, Clone)]
enum Op {
    Push(Vec<u8>),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 1..60).prop_map(Op::Push),
        2 => Just(Op::Pop),
    ]
}

/// What the consumer sees: (record, drops reported right before it).
#[derive(Default)]
struct Model {
    records: VecDeque<(Vec<u8>, u32)>,
    pending: u32,
    used: usize,
}

impl Model {
    fn push(&mut self, record: Vec<u8>) -> bool {
        if RECORD_HEADER_BYTES + record.len() > RING - self.used {
            self.pending += 1;
            return false;
        }
        self.used += RECORD_HEADER_BYTES + record.len();
        self.records
            .push_back((record, std::mem::take(&mut self.pending)));
        true
    }

    fn pop(&mut self) -> Option<(Vec<u8>, u32)> {
        match self.records.pop_front() {
            Some((record, dropped)) => {
                self.used -= RECORD_HEADER_BYTES + record.len();
                Some((record, dropped))
            }
            None if self.pending > 0 => Some((Vec::new(), std::mem::take(&mut self.pending))),
            None => None,
        }
    }
}

proptest! {
    #[test]
    fn ring_matches_the_model(ops in prop::collection::vec(op(), 1..400)) {
        let mut ring = LogRing::<RING>::new();
        let mut model = Model::default();
        let (mut dropped, mut reported) = (0u64, 0u64);
        for op in ops {
            match op {
                Op::Push(record) => {
                    let stored = model.push(record.clone());
                    let pushed = ring.push(&record);
                    prop_assert_eq!(stored, matches!(pushed, Push::Stored { .. }));
                    dropped += u64::from(!stored);
                }
                Op::Pop => {
                    let mut out = [0u8; RING];
                    let got = ring.pop(&mut out).map(|r| (out[..r.len].to_vec(), r.dropped_before));
                    if let Some((_, d)) = &got {
                        reported += u64::from(*d);
                    }
                    prop_assert_eq!(got, model.pop());
                }
            }
            prop_assert_eq!(ring.used_bytes(), model.used);
            prop_assert_eq!(ring.dropped_total(), dropped);
        }
        // Draining to the end reports every drop exactly once.
        let mut out = [0u8; RING];
        while let Some(r) = ring.pop(&mut out) {
            reported += u64::from(r.dropped_before);
        }
        prop_assert_eq!(reported, dropped);
    }
}
