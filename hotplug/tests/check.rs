//! The table rules as `const fn`s: the same verdicts at compile time (a
//! `const` item) and at run time, and a panic message that names the step.

use hotplug::{assert_valid, check, check_layout, StateId, Step, StepError, Table, TableError};

fn cb(_: hotplug::CpuId, _: StateId) -> Result<(), StepError> {
    Ok(())
}

const KICK: Step = Step::prepare("cpu:kick", Some(cb), Some(cb))
    .starts_ap()
    .why("starts the AP");
const AP: Step = Step::online("ap:online", Some(cb), Some(cb)).why("an AP step");
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

#[test]
fn the_ap_start_up_step_is_marked_once_and_sits_before_the_first_ap_step() {
    let plain_kick = Step::prepare("cpu:kick", Some(cb), Some(cb)).why("no mark");
    let early = Step::prepare("early", Some(cb), None)
        .starts_ap()
        .why("too early");
    let unmarked_stop = Step {
        cant_stop: false,
        ..KICK
    };
    let bad: [(&[Step], TableError); 5] = [
        (
            &[Step::OFFLINE, plain_kick, AP, Step::ONLINE],
            TableError::NoApStartup,
        ),
        (
            &[Step::OFFLINE, early, KICK, AP, Step::ONLINE],
            TableError::TwoApStartups("cpu:kick"),
        ),
        (
            &[Step::OFFLINE, early, plain_kick, AP, Step::ONLINE],
            TableError::ApStartupMisplaced("early"),
        ),
        (
            &[Step::OFFLINE, unmarked_stop, AP, Step::ONLINE],
            TableError::ApStartupCanStop("cpu:kick"),
        ),
        // `online` is an AP step, so even a table without others needs a kick.
        (&[Step::OFFLINE, Step::ONLINE], TableError::NoApStartup),
    ];
    for (steps, error) in bad {
        assert_eq!(check(steps), Err(error), "{steps:?}");
    }
    assert_eq!(check(&[Step::OFFLINE, KICK, Step::ONLINE]), Ok(()));
}

#[test]
fn the_ends_can_be_rested_at_and_every_callback_step_says_why() {
    let stuck_offline = Step::OFFLINE.cant_stop();
    let stuck_online = Step::ONLINE.cant_stop();
    let silent = Step::online("silent", Some(cb), None);
    let bad: [(&[Step], TableError); 3] = [
        (
            &[stuck_offline, KICK, AP, Step::ONLINE],
            TableError::EndCantStop("offline"),
        ),
        (
            &[Step::OFFLINE, KICK, AP, stuck_online],
            TableError::EndCantStop("online"),
        ),
        (
            &[Step::OFFLINE, KICK, silent, Step::ONLINE],
            TableError::MissingReason("silent"),
        ),
    ];
    for (steps, error) in bad {
        assert_eq!(check(steps), Err(error));
    }
    // A marker without callbacks needs no reason.
    let marker = Step::marker("mark", hotplug::Side::Ap, hotplug::Section::Online);
    assert_eq!(check(&[Step::OFFLINE, KICK, marker, Step::ONLINE]), Ok(()));
    assert_eq!(
        TableError::MissingReason("silent").to_string(),
        "silent: a step with callbacks needs a reason (why)"
    );
}

/// A backend for refusals only: a refused target never reaches the AP.
struct NoAp;

impl hotplug::Backend for NoAp {
    fn run_on_ap(
        &self,
        _: hotplug::CpuId,
        _: hotplug::ApRequest,
        _: std::time::Duration,
    ) -> Result<(), StepError> {
        panic!("a refused target must not run anything")
    }

    fn force_down(&self, _: hotplug::CpuId) -> Result<(), StepError> {
        panic!("a refused target must not lose a CPU")
    }
}

#[test]
fn a_target_at_a_cant_stop_state_is_refused_and_listed_as_such() {
    static STEPS: &[Step] = &[
        Step::OFFLINE,
        KICK,
        Step::online("ap:transit", Some(cb), Some(cb))
            .cant_stop()
            .why("a state walks only pass"),
        AP,
        Step::ONLINE,
    ];
    let table = Table::new(STEPS, "online", 0).unwrap();
    let engine = hotplug::Engine::new(table, 2, hotplug::Config::new());
    let cpu = hotplug::CpuId(1);
    engine.mark_present(cpu).unwrap();
    for (name, id) in [("cpu:kick", StateId(1)), ("ap:transit", StateId(2))] {
        let refused = engine.set_target(&NoAp, cpu, id).unwrap_err();
        assert_eq!(
            refused,
            hotplug::HotplugError::TargetNotStoppable { state: id, name }
        );
        assert!(refused.to_string().contains("cannot stop"), "{refused}");
    }
    let stoppable: Vec<_> = engine.table_rows().iter().map(|r| r.can_rest).collect();
    assert_eq!(stoppable, [true, false, false, true, true]);
    assert_eq!(engine.state_of(cpu), Ok(StateId::OFFLINE));
}
