//! CPU lists: the examples Linux's cpulist format documents, every
//! refusal the console names, and properties over random sets and words
//! (printing then parsing gives the set back, the printed form is the
//! shortest one, parsing never panics and agrees with a `BTreeSet` model).

use std::collections::BTreeSet;

use proptest::prelude::*;
use shell::{CpuList, CpuSet, ListError, MAX_LIST_CPUS};

fn set(cpus: &[u32]) -> CpuSet {
    cpus.iter().copied().collect()
}

#[test]
fn the_documented_forms_parse() {
    assert_eq!(CpuList::parse("3"), Ok(CpuList::One(3)));
    assert_eq!(CpuList::parse("all"), Ok(CpuList::All));
    assert_eq!(
        CpuList::parse("1-7"),
        Ok(CpuList::Set(set(&[1, 2, 3, 4, 5, 6, 7])))
    );
    assert_eq!(
        CpuList::parse("2,4-6,15"),
        Ok(CpuList::Set(set(&[2, 4, 5, 6, 15])))
    );
    // Overlaps and any order are one set.
    assert_eq!(CpuSet::parse("5,1-3,2"), Ok(set(&[1, 2, 3, 5])));
    assert_eq!(CpuSet::parse("0-1023").map(|s| s.len()), Ok(MAX_LIST_CPUS));
    // One number is any u32 (the kernel says which exist), a list's are
    // below MAX_LIST_CPUS.
    assert_eq!(CpuList::parse("4294967295"), Ok(CpuList::One(u32::MAX)));
}

#[test]
fn bad_lists_say_why() {
    let why = |word| CpuList::parse(word).unwrap_err();
    assert_eq!(why("3-1"), Some(ListError::Backwards { first: 3, last: 1 }));
    assert_eq!(why("1,,2"), Some(ListError::EmptyItem));
    assert_eq!(why(",1"), Some(ListError::EmptyItem));
    assert_eq!(why("1,"), Some(ListError::EmptyItem));
    assert_eq!(why("1-"), Some(ListError::NoEnd("1-")));
    assert_eq!(why("2,-4"), Some(ListError::NoStart("-4")));
    assert_eq!(why("1-x"), Some(ListError::NotANumber("x")));
    assert_eq!(why("1-+2"), Some(ListError::NotANumber("+2")));
    assert_eq!(why("all,1"), Some(ListError::NotANumber("all")));
    assert_eq!(why("1-1024"), Some(ListError::TooBig("1024")));
    assert_eq!(
        why("0,99999999999999999999"),
        Some(ListError::TooBig("99999999999999999999"))
    );
    // Not written as a list: a bad number, worded by the caller.
    for word in ["-1", "+1", "x", "", "ALL", "99999999999"] {
        assert_eq!(CpuList::parse(word), Err(None), "{word:?}");
    }
}

#[test]
fn sets_print_in_canonical_form() {
    assert_eq!(set(&[]).to_string(), "");
    assert_eq!(set(&[0]).to_string(), "0");
    assert_eq!(
        set(&[0, 1, 3, 7, 8, 9, 10, 11, 12, 13, 14]).to_string(),
        "0-1,3,7-14"
    );
    assert_eq!(set(&[1023, 0, 63, 64]).to_string(), "0,63-64,1023");
    assert_eq!(CpuList::All.to_string(), "all");
    assert_eq!(CpuList::One(7).to_string(), "7");
}

#[test]
fn insert_remove_and_count() {
    let mut s = CpuSet::new();
    assert!(s.is_empty());
    assert!(s.insert(1023));
    assert!(!s.insert(1024), "past the bitset");
    assert!(s.insert(5));
    assert_eq!((s.len(), s.contains(5), s.contains(6)), (2, true, false));
    s.remove(5);
    s.remove(4000);
    assert_eq!(s.iter().collect::<Vec<_>>(), [1023]);
    assert_eq!(s.ranges().collect::<Vec<_>>(), [(1023, 1023)]);
}

/// A set of CPUs, with runs so that ranges appear.
fn any_set() -> impl Strategy<Value = BTreeSet<u32>> {
    prop::collection::vec((0u32..MAX_LIST_CPUS as u32, 0u32..8), 0..40).prop_map(|runs| {
        runs.into_iter()
            .flat_map(|(start, len)| start..(start + len).min(MAX_LIST_CPUS as u32))
            .collect()
    })
}

/// A valid list as a person might write it: items in any order, ranges
/// and single numbers, overlapping, with leading zeros.
fn any_list_text() -> impl Strategy<Value = (String, BTreeSet<u32>)> {
    let item = (
        0u32..MAX_LIST_CPUS as u32,
        0u32..20,
        any::<bool>(),
        0usize..2,
    );
    prop::collection::vec(item, 1..12).prop_map(|items| {
        let mut model = BTreeSet::new();
        let words: Vec<String> = items
            .into_iter()
            .map(|(first, len, range, zeros)| {
                let last = (first + len).min(MAX_LIST_CPUS as u32 - 1);
                let pad = "0".repeat(zeros);
                if range {
                    model.extend(first..=last);
                    format!("{pad}{first}-{last}")
                } else {
                    model.insert(first);
                    format!("{pad}{first}")
                }
            })
            .collect();
        (words.join(","), model)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn printing_then_parsing_gives_the_set_back(cpus in any_set()) {
        let ours: CpuSet = cpus.iter().copied().collect();
        let text = ours.to_string();
        if cpus.is_empty() {
            prop_assert_eq!(text, "");
        } else {
            prop_assert_eq!(CpuSet::parse(&text), Ok(ours));
            prop_assert_eq!(ours.iter().collect::<BTreeSet<_>>(), cpus);
            // Shortest form: no two items touch or overlap, all in order.
            let ranges: Vec<(u32, u32)> = ours.ranges().collect();
            for pair in ranges.windows(2) {
                prop_assert!(pair[0].1 + 1 < pair[1].0, "{:?} in {}", pair, text);
            }
            prop_assert_eq!(ranges.len(), text.split(',').count());
        }
    }

    #[test]
    fn a_written_list_parses_to_its_model((text, model) in any_list_text()) {
        let parsed = CpuSet::parse(&text).unwrap();
        prop_assert_eq!(parsed.iter().collect::<BTreeSet<_>>(), model);
        prop_assert_eq!(parsed.len(), parsed.iter().count());
        // Canonical form is a fixed point.
        let canonical = parsed.to_string();
        prop_assert_eq!(CpuSet::parse(&canonical).unwrap().to_string(), canonical);
    }

    #[test]
    fn parsing_never_panics(word in "[0-9,\\-a-z+]{0,24}") {
        let _ = CpuList::parse(&word);
        let _ = CpuSet::parse(&word);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(word in any::<String>()) {
        let _ = CpuList::parse(&word);
    }
}
