//! Rollback from every failable state, both directions, both sides; errors
//! during rollback. (APs that stop answering: `lost_ap.rs`.)

mod sim;

use hotplug::{CpuId, Direction, Failure, HotplugError, LogKind, StateId, StepError};
use sim::{take_trace, Down, Sim, Up};

fn failure(result: Result<(), HotplugError>) -> Failure {
    match result {
        Err(HotplugError::StepFailed(f)) => f,
        other => panic!("expected a step failure, got {other:?}"),
    }
}

/// The failable states with a callback for `dir`, from a fresh machine.
fn failable(dir: Direction) -> Vec<(StateId, &'static str)> {
    let sim = Sim::new(1);
    (sim.engine.table_rows().into_iter())
        .filter(|r| r.may_fail && sim::has_callback(r.name, dir))
        .map(|r| (r.id, r.name))
        .collect()
}

#[test]
fn rollback_from_every_failable_state_going_up() {
    let states = failable(Up);
    assert_eq!(states.len(), 7);
    for (state, name) in states {
        let sim = Sim::new(3);
        let online = sim.engine.online_state();
        let prev = StateId(state.0 - 1);
        sim.arm(1, name).unwrap();
        let f = failure(sim.up(1));
        assert_eq!(
            (f.cpu, f.state, f.direction, f.error),
            (CpuId(1), state, Up, StepError::Injected)
        );
        assert_eq!((f.settled, f.rollback_errors), (StateId::OFFLINE, 0));
        // Bring-ups below the failed state, then their teardowns in reverse.
        let mut expected = sim.expected(1, StateId::OFFLINE, prev);
        expected.extend(sim.expected(1, prev, StateId::OFFLINE));
        assert_eq!(take_trace(), expected, "{name}");
        assert_eq!(sim.state(1), "offline", "{name}");
        assert_eq!(sim.engine.armed_fault(CpuId(1)), Ok(None));
        assert_eq!(sim.engine.last_error(CpuId(1)), Ok(Some(f)));
        // The fault is consumed: the next operations work.
        sim.up(1).unwrap();
        assert_eq!(take_trace(), sim.expected(1, StateId::OFFLINE, online));
        sim.down(1).unwrap();
        assert_eq!(sim.state(1), "offline");
    }
}

#[test]
fn rollback_from_every_failable_state_going_down() {
    let states = failable(Down)
        .into_iter()
        .filter(|&(_, name)| name != "cpu:kick")
        .collect::<Vec<_>>();
    assert_eq!(states.len(), 5);
    for (state, name) in states {
        let sim = Sim::new(3);
        let online = sim.engine.online_state();
        sim.up(1).unwrap();
        take_trace();
        sim.arm(1, name).unwrap();
        let f = failure(sim.down(1));
        assert_eq!(
            (f.cpu, f.state, f.direction, f.error),
            (CpuId(1), state, Down, StepError::Injected)
        );
        assert_eq!((f.settled, f.rollback_errors), (online, 0));
        // Teardowns above the failed state, then their bring-ups back.
        let mut expected = sim.expected(1, online, state);
        expected.extend(sim.expected(1, state, online));
        assert_eq!(take_trace(), expected, "{name}");
        assert_eq!(sim.state(1), "online", "{name}");
        sim.down(1).unwrap();
        assert_eq!(take_trace(), sim.expected(1, online, StateId::OFFLINE));
        sim.up(1).unwrap();
        assert_eq!(sim.state(1), "online");
    }
}

#[test]
fn rollback_from_a_partial_state_returns_there() {
    let sim = Sim::new(2);
    sim.go(1, "sched:online").unwrap();
    sim.arm(1, "workqueue:online").unwrap();
    let from = sim.id("sched:online");
    take_trace();
    let f = failure(sim.up(1));
    assert_eq!(f.settled_name, "sched:online");
    let bp_sync = sim.id("bp:sync");
    let mut expected = sim.expected(1, from, bp_sync);
    expected.extend(sim.expected(1, bp_sync, from));
    assert_eq!(take_trace(), expected);
    sim.arm(1, "mm:prepare").unwrap();
    let f = failure(sim.go(1, "offline"));
    assert_eq!((f.name, f.settled_name), ("mm:prepare", "sched:online"));
    assert_eq!(sim.state(1), "sched:online");
    sim.up(1).unwrap();
}

#[test]
fn a_fault_fires_once_in_whichever_direction_comes_next() {
    let sim = Sim::new(3);
    // notify:online has no teardown: on an online CPU, whose next pass of it
    // is a teardown, the fault could never fire, so it is refused.
    sim.up(1).unwrap();
    let notify = sim.id("notify:online");
    assert_eq!(
        sim.arm(1, "notify:online"),
        Err(HotplugError::FaultNeverFires {
            cpu: CpuId(1),
            state: notify,
            name: "notify:online",
            direction: Down,
            no_callback: true,
        })
    );
    sim.down(1).unwrap();
    assert_eq!(sim.engine.armed_fault(CpuId(1)), Ok(None));
    // From offline the next pass is a bring-up, which it has.
    sim.arm(1, "notify:online").unwrap();
    assert_eq!(failure(sim.up(1)).direction, Up);
    sim.up(1).unwrap();
    sim.arm(1, "sched:online").unwrap();
    assert_eq!(failure(sim.down(1)).direction, Down);
    sim.down(1).unwrap();
    // A fault on one CPU never fires on another.
    sim.arm(1, "mm:prepare").unwrap();
    sim.up(2).unwrap();
    assert_eq!(
        sim.engine.armed_fault(CpuId(1)),
        Ok(Some(sim.id("mm:prepare")))
    );
}

#[test]
fn errors_during_rollback_are_logged_and_rollback_goes_on() {
    let sim = Sim::new(2);
    let failed = StepError::failed("simulated failure");
    // A BP teardown fails while undoing an AP failure.
    sim::fail_always(1, sim.id("timers:prepare"), Down);
    sim.arm(1, "sched:online").unwrap();
    let f = failure(sim.up(1));
    assert_eq!(
        (f.name, f.rollback_errors, f.settled_name),
        ("sched:online", 1, "offline")
    );
    assert_eq!(sim.state(1), "offline");
    let rollback_log = sim
        .logs()
        .into_iter()
        .find(|l| l.kind == LogKind::RollbackFailed(failed));
    assert_eq!(rollback_log.map(|l| l.name), Some("timers:prepare"));
    sim::clear_failures();
    sim.up(1).unwrap();

    // An AP teardown fails while undoing a failure in a later AP batch.
    sim.down(1).unwrap();
    sim::fail_always(1, sim.id("sched:online"), Down);
    sim.arm(1, "workqueue:online").unwrap();
    let f = failure(sim.up(1));
    assert_eq!(
        (f.name, f.rollback_errors, f.settled_name),
        ("workqueue:online", 1, "offline")
    );
    sim::clear_failures();

    // A bring-up fails while rolling a failed teardown forward.
    sim.up(1).unwrap();
    sim::fail_always(1, sim.id("timers:prepare"), Up);
    sim.arm(1, "mm:prepare").unwrap();
    let f = failure(sim.down(1));
    assert_eq!(
        (f.name, f.direction, f.rollback_errors, f.settled_name),
        ("mm:prepare", Down, 1, "online")
    );
    assert_eq!(sim.state(1), "online");
    sim::clear_failures();
    sim.down(1).unwrap();
    sim.up(1).unwrap();
}

/// Waiting for a parked AP cannot be rolled forward from, so a fault on the
/// kick is refused while the CPU is up (its next pass is that teardown) and
/// fires on the bring-up when armed while the CPU is down.
#[test]
fn kick_fault_is_refused_going_down_and_fires_going_up() {
    let sim = Sim::new(3);
    sim.up(1).unwrap();
    let kick = sim.engine.lookup("cpu:kick").unwrap();
    let refused = sim.arm(1, "cpu:kick").unwrap_err();
    assert_eq!(
        refused,
        HotplugError::FaultNeverFires {
            cpu: CpuId(1),
            state: kick,
            name: "cpu:kick",
            direction: Down,
            no_callback: false,
        }
    );
    assert_eq!(
        refused.to_string(),
        "cpu1: cpu:kick: a fault would never fire: its next pass is a teardown \
         and that callback may not fail"
    );
    sim.down(1).unwrap();
    assert_eq!(sim.state(1), "offline");
    sim.arm(1, "cpu:kick").unwrap();
    assert_eq!(sim.engine.armed_fault(CpuId(1)), Ok(Some(kick)));
    let f = failure(sim.up(1));
    assert_eq!(
        (f.state, f.direction, f.error),
        (kick, Up, StepError::Injected)
    );
    assert_eq!(sim.state(1), "offline");
    sim.up(1).unwrap();
    assert_eq!(sim.state(1), "online");
}
