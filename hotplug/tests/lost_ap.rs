//! APs that stop answering: a request that times out, an AP that answers
//! too late, and armed hangs at every AP state in both directions. In every
//! case the control CPU forces the AP down and walks it to `offline`
//! running only the BP teardowns (which clean up after it), and the CPU can
//! come back.

mod sim;

use std::time::Duration;

use hotplug::{
    CpuId, Direction, Failure, HangRefusal, HotplugError, LogKind, Side, StateId, StepError,
};
use sim::{take_trace, Call, Down, Sim, Up};

/// The deadline the tests give an AP: short, so a hang costs little.
const DEADLINE: Duration = Duration::from_millis(200);

fn failure(result: Result<(), HotplugError>) -> Failure {
    match result {
        Err(HotplugError::StepFailed(f)) => f,
        other => panic!("expected a step failure, got {other:?}"),
    }
}

/// The BP teardowns a forced walk from `from` to `offline` runs.
fn bp_teardowns(sim: &Sim, cpu: u32, from: StateId) -> Vec<Call> {
    let mut calls = sim.expected(cpu, from, StateId::OFFLINE);
    calls.retain(|c| c.ran_on == 0);
    calls
}

/// After a forced offline: the engine says offline, nothing is pending,
/// and the CPU cycles normally again.
fn assert_recovers(sim: &Sim, cpu: u32) {
    assert_eq!(sim.state(cpu), "offline");
    let status = sim.engine.status(CpuId(cpu)).unwrap();
    assert_eq!(status.target, StateId::OFFLINE);
    sim.up(cpu).unwrap();
    assert_eq!(sim.state(cpu), "online");
    sim.down(cpu).unwrap();
    sim.up(cpu).unwrap();
}

#[test]
fn an_ap_that_never_answers_going_up_is_forced_offline() {
    let sim = Sim::build(2, 2, DEADLINE);
    sim::hang_next(1);
    let f = failure(sim.up(1));
    assert_eq!(
        (f.name, f.direction, f.error, f.forced_offline),
        ("sched:starting", Up, StepError::Timeout, true)
    );
    assert_eq!((f.settled_name, f.rollback_errors), ("offline", 0));
    assert_eq!(
        HotplugError::StepFailed(f).to_string(),
        "cpu1: sched:starting bring-up timed out; cpu1 forced offline"
    );
    assert_eq!(sim::forced(1), 1);
    let kick = sim.id("cpu:kick");
    let mut expected = sim.expected(1, StateId::OFFLINE, kick);
    expected.extend(bp_teardowns(&sim, 1, kick));
    assert_eq!(take_trace(), expected);
    let logged: Vec<_> = (sim.logs().into_iter())
        .map(|l| (l.name, l.direction, l.kind))
        .collect();
    assert_eq!(
        logged,
        [(
            "sched:starting",
            Up,
            LogKind::ForcedOffline(StepError::Timeout)
        )]
    );
    assert_recovers(&sim, 1);
}

/// Going down, a lost AP used to be "rolled forward" to `online` while it
/// was really parked or hung: it now ends `offline`, having run the BP
/// teardowns, the BP step between the two AP runs included.
#[test]
fn an_ap_that_never_answers_going_down_ends_offline_not_online() {
    let sim = Sim::build(2, 2, DEADLINE);
    sim.up(1).unwrap();
    take_trace();
    sim::hang_next(1);
    let f = failure(sim.down(1));
    assert_eq!(
        (f.name, f.direction, f.error, f.forced_offline),
        ("workqueue:online", Down, StepError::Timeout, true)
    );
    assert_eq!(
        f.to_string(),
        "cpu1: workqueue:online teardown timed out; cpu1 forced offline"
    );
    let online = sim.engine.online_state();
    assert_eq!(take_trace(), bp_teardowns(&sim, 1, online));
    assert!(take_trace().iter().all(|c| c.ran_on == 0));
    assert_recovers(&sim, 1);
}

#[test]
fn an_ap_that_answers_too_late_is_cut_off() {
    let sim = Sim::build(2, 2, Duration::from_millis(300));
    sim::slow_once(1, sim.id("sched:online"), Duration::from_millis(900));
    let f = failure(sim.up(1));
    assert_eq!(
        (f.name, f.error, f.forced_offline),
        ("sched:online", StepError::Timeout, true)
    );
    assert_eq!((f.settled_name, f.rollback_errors), ("offline", 0));
    // Let the slow callback wake up: it finds itself forced down and does
    // nothing more (no trace entry, no state change).
    std::thread::sleep(Duration::from_millis(800));
    let trace = take_trace();
    let on_ap: Vec<_> = trace.iter().filter(|c| c.ran_on == 1).collect();
    let names: Vec<_> = (on_ap.iter()).map(|c| (c.state, c.dir)).collect();
    let (starting, timers) = (sim.id("sched:starting"), sim.id("timers:starting"));
    assert_eq!(names, [(starting.0, Up), (timers.0, Up)]);
    assert_eq!(sim.state(1), "offline");
    assert_recovers(&sim, 1);
}

/// The AP states that have a callback for `dir`.
fn ap_states(sim: &Sim, dir: Direction) -> Vec<(StateId, &'static str)> {
    (sim.engine.table_rows().into_iter())
        .filter(|r| r.side == Side::Ap && sim::has_callback(r.name, dir))
        .map(|r| (r.id, r.name))
        .collect()
}

#[test]
fn a_hang_at_every_ap_state_going_up_ends_offline_and_recovers() {
    let names = ap_states(&Sim::new(1), Up);
    assert_eq!(names.len(), 6);
    for (state, name) in names {
        let sim = Sim::build(2, 2, DEADLINE);
        sim.hang(1, name).unwrap();
        assert_eq!(sim.engine.status(CpuId(1)).unwrap().armed_hang, Some(state));
        let f = failure(sim.up(1));
        assert_eq!(
            (f.state, f.direction, f.error, f.forced_offline),
            (state, Up, StepError::Timeout, true),
            "hang at {name}"
        );
        let reached = StateId(state.0 - 1);
        let mut expected = sim.expected(1, StateId::OFFLINE, reached);
        expected.extend(bp_teardowns(&sim, 1, reached));
        assert_eq!(take_trace(), expected, "hang at {name}");
        assert_eq!(sim.engine.status(CpuId(1)).unwrap().armed_hang, None);
        assert_recovers(&sim, 1);
    }
}

#[test]
fn a_hang_at_every_ap_state_going_down_ends_offline_and_recovers() {
    let names = ap_states(&Sim::new(1), Down);
    assert_eq!(names.len(), 5);
    for (state, name) in names {
        let sim = Sim::build(2, 2, DEADLINE);
        sim.up(1).unwrap();
        take_trace();
        sim.hang(1, name).unwrap();
        let f = failure(sim.down(1));
        assert_eq!(
            (f.state, f.direction, f.error, f.forced_offline),
            (state, Down, StepError::Timeout, true),
            "hang at {name}"
        );
        let online = sim.engine.online_state();
        let mut expected = sim.expected(1, online, state);
        expected.extend(bp_teardowns(&sim, 1, state));
        assert_eq!(take_trace(), expected, "hang at {name}");
        assert_recovers(&sim, 1);
    }
}

/// A hang that fires while a failed bring-up rolls back still ends with
/// the CPU forced offline, the rollback's timeout counted.
#[test]
fn a_hang_during_a_rollback_forces_the_cpu_offline() {
    let sim = Sim::build(2, 2, DEADLINE);
    sim.arm(1, "workqueue:online").unwrap();
    sim::hang_in(1, sim.id("sched:online"), Down);
    let f = failure(sim.up(1));
    assert_eq!(
        (f.name, f.direction, f.error),
        ("workqueue:online", Up, StepError::Injected)
    );
    assert_eq!((f.forced_offline, f.rollback_errors), (true, 1));
    assert_eq!(
        f.to_string(),
        "cpu1: workqueue:online bring-up failed: injected fault; cpu1 forced offline \
         with 1 rollback errors"
    );
    assert_eq!(sim::forced(1), 1);
    assert_recovers(&sim, 1);
}

#[test]
fn hangs_are_refused_where_they_could_not_fire() {
    let sim = Sim::new(2);
    let refused = sim.hang(1, "timers:prepare").unwrap_err();
    assert_eq!(
        refused,
        HotplugError::CannotHang {
            cpu: CpuId(1),
            state: sim.id("timers:prepare"),
            name: "timers:prepare",
            why: HangRefusal::ControlCpuStep,
        }
    );
    assert_eq!(
        refused.to_string(),
        "timers:prepare: runs on the control CPU, only AP states can hang"
    );
    sim.up(1).unwrap();
    // Its next pass is a teardown, and it has none.
    let refused = sim.hang(1, "notify:online").unwrap_err();
    assert!(matches!(
        refused,
        HotplugError::CannotHang {
            why: HangRefusal::NoCallback(Down),
            ..
        }
    ));
    assert_eq!(sim.engine.status(CpuId(1)).unwrap().armed_hang, None);
    // Disarming works and leaves the next operation alone.
    sim.hang(1, "sched:online").unwrap();
    sim.engine.arm_hang(CpuId(1), None).unwrap();
    sim.down(1).unwrap();
    assert_eq!(sim::forced(1), 0);
}

fn dyn_up(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    sim::up(cpu, state)
}

fn dyn_down(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    sim::down(cpu, state)
}

/// A CPU that stops answering while a dynamic state is unregistered or
/// registered is forced offline too; the others are unaffected.
#[test]
fn a_lost_cpu_during_registration_is_forced_offline() {
    let sim = Sim::build(3, 3, DEADLINE);
    sim.up(1).unwrap();
    sim.up(2).unwrap();
    let id = (sim.engine)
        .register(&sim.backend, "test:dyn", Some(dyn_up), Some(dyn_down))
        .unwrap();
    sim.hang(1, "test:dyn").unwrap();
    sim.engine.unregister(&sim.backend, id).unwrap();
    assert_eq!(sim.state(1), "offline");
    assert_eq!(sim.state(2), "online");
    assert_eq!(sim::forced(1), 1);

    sim::hang_next(2);
    let error = (sim.engine)
        .register(&sim.backend, "test:dyn2", Some(dyn_up), Some(dyn_down))
        .unwrap_err();
    let HotplugError::RegisterFailed(f) = error else {
        panic!("expected a registration failure, got {error:?}");
    };
    assert_eq!(
        (f.cpu, f.forced_offline, f.settled),
        (CpuId(2), true, StateId::OFFLINE)
    );
    assert_eq!(
        error.to_string(),
        "cpu2: test:dyn2 bring-up timed out; registration undone; cpu2 forced offline"
    );
    assert_eq!(sim.state(2), "offline");
    assert!(sim.engine.lookup("test:dyn2").is_none());
    assert_recovers(&sim, 1);
    assert_recovers(&sim, 2);
}
