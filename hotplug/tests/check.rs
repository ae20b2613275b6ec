//! The table rules as `const fn`s: the same verdicts at compile time (a
//! `const` item) and at run time, and a panic message that names the step.

use hotplug::{assert_valid, check, check_layout, StateId, Step, StepError, Table, TableError};

fn cb(_: hotplug::CpuId, _: StateId) -> Result<(), StepError> {
    Ok(())
}

const KICK: Step = Step::prepare("cpu:kick", Some(cb), Some(cb));
const AP: Step = Step::online("ap:online", Some(cb), Some(cb));
const GOOD: &[Step] = &[Step::OFFLINE, KICK, AP, Step::ONLINE];

// Checked by the compiler: if the rules rejected GOOD, this file would not build.
const _: () = assert_valid(GOOD, "online", 4);
const GOOD_ANCHOR: Result<usize, TableError> = check_layout(GOOD, "online", 4);

#[test]
fn the_const_checker_accepts_a_good_table_and_finds_its_anchor() {
    assert_eq!(GOOD_ANCHOR, Ok(3));
    assert_eq!(check(GOOD), Ok(()));
    assert_eq!(check_layout(GOOD, "ap:online", 1), Ok(2));
}

#[test]
fn the_const_checker_rejects_what_table_new_rejects() {
    let bad: [(&[Step], TableError); 4] = [
        (&[Step::OFFLINE], TableError::TooShort),
        (&[KICK, Step::ONLINE], TableError::FirstNotOffline),
        (
            &[Step::OFFLINE, AP, KICK, Step::ONLINE],
            TableError::SectionOrder("cpu:kick"),
        ),
        (
            &[Step::OFFLINE, KICK, KICK, Step::ONLINE],
            TableError::DuplicateName("cpu:kick"),
        ),
    ];
    for (steps, error) in bad {
        assert_eq!(check(steps), Err(error));
        assert_eq!(check_layout(steps, "online", 0), Err(error));
    }
    assert_eq!(
        check_layout(GOOD, "cpu:kick", 1),
        Err(TableError::DynamicAnchorNotOnline("cpu:kick"))
    );
    assert_eq!(
        check_layout(GOOD, "nope", 1),
        Err(TableError::UnknownDynamicAnchor)
    );
}

#[test]
fn a_rejected_table_panics_with_the_rule_and_the_step() {
    static BAD: &[Step] = &[Step::OFFLINE, AP, KICK, Step::ONLINE];
    let panic = std::panic::catch_unwind(|| assert_valid(BAD, "online", 0)).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert_eq!(
        message,
        "invalid hotplug state table: cpu:kick: section out of order"
    );
    // The run-time constructor gives the same rule as a value.
    assert_eq!(
        Table::fixed(BAD).unwrap_err(),
        TableError::SectionOrder("cpu:kick")
    );
}
