//! The structural rules a table must obey, and its index space.

use hotplug::{Section, Side, StateId, Step, StepError, Table, TableError};

fn cb(_: hotplug::CpuId, _: StateId) -> Result<(), StepError> {
    Ok(())
}

macro_rules! table {
    ($($step:expr),* $(,)?) => {{
        static STEPS: &[Step] = &[$($step),*];
        STEPS
    }};
}

const KICK: Step = Step::prepare("cpu:kick", Some(cb), Some(cb))
    .starts_ap()
    .why("starts the AP");
const AP: Step = Step::online("ap:online", Some(cb), Some(cb)).why("an AP step");

#[test]
fn a_good_table_numbers_dynamic_slots_before_their_anchor() {
    let steps = table![Step::OFFLINE, KICK, AP, Step::ONLINE];
    let table = Table::new(steps, "online", 2).unwrap();
    assert_eq!(table.state_count(), 6);
    assert_eq!(table.online(), StateId(5));
    assert_eq!(table.lookup("online"), Some(StateId(5)));
    assert_eq!(table.lookup("ap:online"), Some(StateId(2)));
    assert!(table.get(StateId(3)).is_none() && table.get(StateId(6)).is_none());
    assert!(table.is_dynamic(StateId(3)) && table.is_dynamic(StateId(4)));
    assert!(!table.is_dynamic(StateId(2)) && !table.is_dynamic(StateId(5)));
    let names: Vec<_> = table.iter().map(|(id, s)| (id.0, s.name)).collect();
    assert_eq!(
        names,
        [
            (0, "offline"),
            (1, "cpu:kick"),
            (2, "ap:online"),
            (5, "online")
        ]
    );
    let fixed = Table::fixed(steps).unwrap();
    assert_eq!(fixed.state_count(), 4);
    // The dynamic range may sit before any online-section step.
    assert!(Table::new(steps, "ap:online", 1).is_ok());
}

#[test]
fn bad_tables_are_rejected_with_the_reason() {
    let cases: [(&'static [Step], TableError); 9] = [
        (table![Step::OFFLINE], TableError::TooShort),
        (table![KICK, Step::ONLINE], TableError::FirstNotOffline),
        (table![Step::OFFLINE, KICK], TableError::LastNotOnline),
        (
            table![Step::OFFLINE, Step::online("online", Some(cb), None)],
            TableError::MarkerHasCallbacks("online"),
        ),
        (
            table![Step::OFFLINE, KICK, KICK, Step::ONLINE],
            TableError::DuplicateName("cpu:kick"),
        ),
        (
            table![Step::OFFLINE, AP, KICK, Step::ONLINE],
            TableError::SectionOrder("cpu:kick"),
        ),
        (
            table![
                Step::OFFLINE,
                Step::marker("x", Side::Ap, Section::Prepare),
                Step::ONLINE
            ],
            TableError::PrepareOnAp("x"),
        ),
        (
            table![
                Step::OFFLINE,
                Step::marker("x", Side::Bp, Section::Starting),
                Step::ONLINE
            ],
            TableError::StartingOnBp("x"),
        ),
        (
            table![
                Step::OFFLINE,
                Step {
                    bring_up_may_fail: true,
                    tear_down_may_fail: true,
                    ..Step::starting("x", Some(cb), None)
                },
                Step::ONLINE
            ],
            TableError::StartingMayFail("x"),
        ),
    ];
    for (steps, error) in cases {
        assert_eq!(Table::fixed(steps).unwrap_err(), error);
    }
    let steps = table![Step::OFFLINE, KICK, AP, Step::ONLINE];
    assert_eq!(
        Table::new(steps, "nope", 1).unwrap_err(),
        TableError::UnknownDynamicAnchor
    );
    assert_eq!(
        Table::new(steps, "cpu:kick", 1).unwrap_err(),
        TableError::DynamicAnchorNotOnline("cpu:kick")
    );
    assert_eq!(
        Table::new(steps, "online", 70_000).unwrap_err(),
        TableError::TooManyStates
    );
    assert_eq!(
        TableError::SectionOrder("x").to_string(),
        "x: section out of order"
    );
}

#[test]
fn step_constructors_set_side_section_and_failability() {
    let rows = [
        (
            Step::prepare("a", None, None),
            Side::Bp,
            Section::Prepare,
            true,
        ),
        (
            Step::starting("b", None, None),
            Side::Ap,
            Section::Starting,
            false,
        ),
        (
            Step::online("c", None, None),
            Side::Ap,
            Section::Online,
            true,
        ),
        (
            Step::bp_online("d", None, None),
            Side::Bp,
            Section::Online,
            true,
        ),
        (
            Step::online("e", None, None).no_fail(),
            Side::Ap,
            Section::Online,
            false,
        ),
    ];
    for (step, side, section, can_fail) in rows {
        assert_eq!(
            (step.side, step.section, step.can_fail()),
            (side, section, can_fail)
        );
    }
}
