//! Failures inside a set operation: one member failing at every failable
//! state in both directions (it alone rolls back to where it started, the
//! others reach the target), and APs lost in a set (forced offline alone).

mod sim;

use std::time::Duration;

use hotplug::{CpuId, Direction, Failure, SetOutcome, StateId, StepError};
use sim::{take_trace, Call, Down, Sim, Up};

/// As in lost_ap.rs: short, but never missed by a healthy AP thread.
const DEADLINE: Duration = Duration::from_millis(1000);

/// The failable states with a callback for `dir`, from a fresh machine.
fn failable(dir: Direction) -> Vec<(StateId, &'static str)> {
    let sim = Sim::new(1);
    (sim.engine.table_rows().into_iter())
        .filter(|r| r.may_fail && sim::has_callback(r.name, dir))
        .map(|r| (r.id, r.name))
        .collect()
}

/// The one failure of `outcome`, which must be `cpu`'s.
fn only_failure(outcome: &SetOutcome, cpu: u32) -> Failure {
    assert_eq!(outcome.failures.len(), 1, "{outcome:?}");
    let f = outcome.failures[0];
    assert_eq!(f.cpu, CpuId(cpu));
    assert_eq!(outcome.failure_of(CpuId(cpu)), Some(&f));
    f
}

/// A walk that fails entering `failed` (going up) or leaving it (going
/// down), then rolls back to `from`.
fn failed_walk(sim: &Sim, cpu: u32, from: StateId, failed: StateId, dir: Direction) -> Vec<Call> {
    let reached = match dir {
        Up => StateId(failed.0 - 1),
        Down => failed,
    };
    let mut calls = sim.expected(cpu, from, reached);
    calls.extend(sim.expected(cpu, reached, from));
    calls
}

#[test]
fn one_member_failing_at_every_state_going_up_rolls_back_alone() {
    let states = failable(Up);
    assert_eq!(states.len(), 7);
    for (state, name) in states {
        let sim = Sim::new(4);
        let (online, kick_point) = (sim.engine.online_state(), sim.kick_point());
        let offline = StateId::OFFLINE;
        sim.arm(2, name).unwrap();
        let outcome = sim.many(&[1, 2, 3], "online").unwrap();
        let f = only_failure(&outcome, 2);
        assert_eq!(
            (f.state, f.direction, f.error, f.forced_offline),
            (state, Up, StepError::Injected, false),
            "{name}"
        );
        assert_eq!((f.settled, f.rollback_errors), (offline, 0), "{name}");
        assert_eq!(outcome.reached, [CpuId(1), CpuId(3)]);
        let mut expected = sim.expected(1, offline, kick_point);
        if state <= kick_point {
            // Failed in phase one: back to offline before cpu3 begins.
            expected.extend(failed_walk(&sim, 2, offline, state, Up));
            expected.extend(sim.expected(3, offline, kick_point));
            expected.extend(sim.expected(1, kick_point, online));
        } else {
            expected.extend(sim.expected(2, offline, kick_point));
            expected.extend(sim.expected(3, offline, kick_point));
            expected.extend(sim.expected(1, kick_point, online));
            // From the kick point, rolled back past it to its own start.
            let mut walk = sim.expected(2, kick_point, StateId(state.0 - 1));
            walk.extend(sim.expected(2, StateId(state.0 - 1), offline));
            expected.extend(walk);
        }
        expected.extend(sim.expected(3, kick_point, online));
        assert_eq!(take_trace(), expected, "{name}");
        assert_eq!(
            (sim.state(1), sim.state(2), sim.state(3)),
            ("online", "offline", "online"),
            "{name}"
        );
        assert_eq!(sim.engine.last_error(CpuId(2)), Ok(Some(f)));
        assert_eq!(sim.engine.last_error(CpuId(1)), Ok(None));
        let status = sim.engine.status(CpuId(2)).unwrap();
        assert_eq!(status.target, status.state, "{name}");
        // The fault is consumed: the set comes up whole now.
        assert!(sim.many(&[1, 2, 3], "online").unwrap().all_reached());
    }
}

#[test]
fn one_member_failing_at_every_state_going_down_rolls_back_alone() {
    let states: Vec<_> = (failable(Down).into_iter())
        .filter(|&(_, name)| name != "cpu:kick")
        .collect();
    assert_eq!(states.len(), 5);
    for (state, name) in states {
        let sim = Sim::new(4);
        let online = sim.engine.online_state();
        let offline = StateId::OFFLINE;
        sim.many(&[1, 2, 3], "online").unwrap();
        take_trace();
        sim.arm(2, name).unwrap();
        let outcome = sim.many(&[1, 2, 3], "offline").unwrap();
        let f = only_failure(&outcome, 2);
        assert_eq!(
            (f.state, f.direction, f.error, f.settled),
            (state, Down, StepError::Injected, online),
            "{name}"
        );
        assert_eq!(outcome.reached, [CpuId(1), CpuId(3)]);
        let mut expected = sim.expected(1, online, offline);
        expected.extend(failed_walk(&sim, 2, online, state, Down));
        expected.extend(sim.expected(3, online, offline));
        assert_eq!(take_trace(), expected, "{name}");
        assert_eq!(
            (sim.state(1), sim.state(2), sim.state(3)),
            ("offline", "online", "offline"),
            "{name}"
        );
        assert_eq!(sim.engine.last_error(CpuId(2)), Ok(Some(f)));
    }
}

#[test]
fn a_member_failing_in_a_mixed_set_returns_to_its_own_start() {
    let sim = Sim::new(4);
    sim.up(1).unwrap();
    sim.go(3, "mm:prepare").unwrap();
    sim.arm(3, "sched:online").unwrap();
    // cpu1 down, cpu2 and cpu3 up, to a state past sched:online.
    let outcome = sim.many(&[1, 2, 3], "bp:sync").unwrap();
    let f = only_failure(&outcome, 3);
    assert_eq!((f.name, f.settled_name), ("sched:online", "mm:prepare"));
    assert_eq!(
        (sim.state(1), sim.state(2), sim.state(3)),
        ("bp:sync", "bp:sync", "mm:prepare")
    );
}

#[test]
fn an_ap_lost_in_a_set_going_up_is_forced_offline_alone() {
    let sim = Sim::build(4, 4, DEADLINE);
    // cpu2 ignores its first request: the first run of AP steps.
    sim::hang_next(2);
    let outcome = sim.many(&[1, 2, 3], "online").unwrap();
    let f = only_failure(&outcome, 2);
    assert_eq!(
        (f.name, f.error, f.forced_offline, f.settled_name),
        ("sched:starting", StepError::Timeout, true, "offline")
    );
    assert_eq!(outcome.reached, [CpuId(1), CpuId(3)]);
    assert_eq!((sim::forced(1), sim::forced(2), sim::forced(3)), (0, 1, 0));
    assert_eq!(
        (sim.state(1), sim.state(2), sim.state(3)),
        ("online", "offline", "online")
    );
    assert_eq!(
        sim.engine.status(CpuId(2)).unwrap().target,
        StateId::OFFLINE
    );
    // It comes back with the next set.
    assert!(sim.many(&[1, 2, 3], "online").unwrap().all_reached());
}

#[test]
fn an_ap_lost_in_a_set_going_down_is_a_failure_though_it_ends_offline() {
    let sim = Sim::build(4, 4, DEADLINE);
    sim.many(&[1, 2, 3], "online").unwrap();
    sim.hang(1, "workqueue:online").unwrap();
    let outcome = sim.many(&[1, 2, 3], "offline").unwrap();
    let f = only_failure(&outcome, 1);
    assert_eq!(
        (f.name, f.direction, f.error, f.forced_offline),
        ("workqueue:online", Down, StepError::Timeout, true)
    );
    assert_eq!(outcome.reached, [CpuId(2), CpuId(3)]);
    assert!((1..4).all(|cpu| sim.state(cpu) == "offline"));
    assert_eq!(sim::forced(1), 1);
    assert!(sim.many(&[1, 2, 3], "online").unwrap().all_reached());
}
