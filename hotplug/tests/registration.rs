//! Run-time registration into the dynamic range.

mod sim;

use hotplug::{CpuId, HotplugError, LogKind, StateId, StepError};
use sim::{take_trace, Call, Down, Sim, Up};

fn register(sim: &Sim, name: &'static str) -> Result<StateId, HotplugError> {
    sim.engine
        .register(&sim.backend, name, Some(sim::up), Some(sim::down))
}

fn call(cpu: u32, state: StateId, dir: hotplug::Direction, ok: bool) -> Call {
    Call {
        cpu,
        state: state.0,
        dir,
        ran_on: cpu,
        irqs_off: false,
        ok,
    }
}

#[test]
fn register_runs_bring_up_at_once_on_each_cpu_past_the_slot() {
    let sim = Sim::new(4);
    sim.up(1).unwrap();
    sim.up(2).unwrap();
    sim.go(3, "sched:online").unwrap();
    take_trace();
    let id = register(&sim, "dyn:a").unwrap();
    assert_eq!(id, StateId(sim.id("notify:online").0 + 1));
    assert_eq!(sim.engine.lookup("dyn:a"), Some(id));
    let expected: Vec<_> = [0, 1, 2].map(|c| call(c, id, Up, true)).into();
    assert_eq!(take_trace(), expected);
    // A CPU below the slot runs it when it comes up, inside its AP runs
    // (rcu:online, then workqueue:online..online after bp:sync).
    let requests = sim.requests();
    sim.up(3).unwrap();
    assert!(take_trace().contains(&call(3, id, Up, true)));
    assert_eq!(sim.requests(), requests + 2);
    sim.down(3).unwrap();
    assert!(take_trace().contains(&call(3, id, Down, true)));
    let row = sim
        .engine
        .table_rows()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap();
    assert_eq!(
        row.to_string(),
        format!("{id} dyn:a ap may-fail online may-fail may-fail can-rest -")
    );
    assert!(row.dynamic);
}

#[test]
fn a_failure_on_the_kth_cpu_undoes_the_earlier_ones_and_frees_the_slot() {
    for k in 0..3 {
        let sim = Sim::new(4);
        sim.up(1).unwrap();
        sim.up(2).unwrap();
        take_trace();
        let slot = StateId(sim.id("notify:online").0 + 1);
        sim::fail_always(k, slot, Up);
        let err = register(&sim, "dyn:a").unwrap_err();
        let HotplugError::RegisterFailed(f) = err else {
            panic!("expected a registration failure, got {err:?}");
        };
        assert_eq!((f.cpu, f.state, f.direction), (CpuId(k), slot, Up));
        assert_eq!(
            (f.error, f.rollback_errors),
            (StepError::failed("simulated failure"), 0)
        );
        assert_eq!(sim.engine.last_error(CpuId(k)), Ok(Some(f)));
        let mut expected: Vec<_> = (0..k).map(|c| call(c, slot, Up, true)).collect();
        expected.push(call(k, slot, Up, false));
        expected.extend((0..k).rev().map(|c| call(c, slot, Down, true)));
        assert_eq!(take_trace(), expected, "k = {k}");
        assert_eq!(sim.engine.lookup("dyn:a"), None);
        assert!(sim.engine.table_rows().iter().all(|r| !r.dynamic));
        let logged: Vec<_> = sim.logs().iter().map(|l| (l.cpu, l.kind)).collect();
        let failed = LogKind::Failed(StepError::failed("simulated failure"));
        assert_eq!(logged, [(CpuId(k), failed)]);
        // Nothing is left behind: the same registration works once fixed.
        sim::clear_failures();
        assert_eq!(register(&sim, "dyn:a"), Ok(slot));
    }
}

#[test]
fn unregister_tears_down_on_each_cpu_past_the_state() {
    let sim = Sim::new(4);
    sim.up(1).unwrap();
    let id = register(&sim, "dyn:a").unwrap();
    sim.go(2, "sched:online").unwrap();
    take_trace();
    sim.engine.unregister(&sim.backend, id).unwrap();
    let expected: Vec<_> = [1, 0].map(|c| call(c, id, Down, true)).into();
    let mut trace = take_trace();
    trace.sort_by_key(|c| std::cmp::Reverse(c.cpu));
    assert_eq!(trace, expected);
    assert_eq!(sim.engine.lookup("dyn:a"), None);
    sim.down(1).unwrap();
    assert!(take_trace().iter().all(|c| c.state != id.0));
    // Teardown errors are logged; the state goes away regardless.
    sim.up(1).unwrap();
    let id = register(&sim, "dyn:b").unwrap();
    sim::fail_always(1, id, Down);
    sim.engine.unregister(&sim.backend, id).unwrap();
    assert_eq!(sim.engine.lookup("dyn:b"), None);
    assert_eq!(
        sim.logs().last().map(|l| (l.cpu, l.name)),
        Some((CpuId(1), "dyn:b"))
    );
}

#[test]
fn a_cpu_resting_at_a_dynamic_state_moves_below_it_when_it_goes() {
    let sim = Sim::new(3);
    let id = register(&sim, "dyn:a").unwrap();
    sim.go(1, "dyn:a").unwrap();
    sim.arm(1, "dyn:a").unwrap();
    sim.engine.unregister(&sim.backend, id).unwrap();
    assert_eq!(sim.state(1), "notify:online");
    assert_eq!(sim.engine.armed_fault(CpuId(1)), Ok(None));
    sim.up(1).unwrap();
    sim.down(1).unwrap();
}

#[test]
fn faults_fire_on_dynamic_states_like_any_other() {
    let sim = Sim::new(3);
    let id = register(&sim, "dyn:a").unwrap();
    sim.arm(1, "dyn:a").unwrap();
    let err = sim.up(1).unwrap_err();
    assert!(matches!(err, HotplugError::StepFailed(f) if f.state == id && f.direction == Up));
    assert_eq!(sim.state(1), "offline");
    sim.up(1).unwrap();
}

#[test]
fn duplicates_full_ranges_and_non_dynamic_states_are_refused() {
    let sim = Sim::new(2);
    let taken = HotplugError::DuplicateName("sched:online");
    assert_eq!(register(&sim, "sched:online"), Err(taken));
    let a = register(&sim, "dyn:a").unwrap();
    assert_eq!(
        register(&sim, "dyn:a"),
        Err(HotplugError::DuplicateName("dyn:a"))
    );
    register(&sim, "dyn:b").unwrap();
    register(&sim, "dyn:c").unwrap();
    assert_eq!(register(&sim, "dyn:d"), Err(HotplugError::NoFreeSlot));
    let static_state = sim.id("sched:online");
    let unregister = |id| sim.engine.unregister(&sim.backend, id);
    assert_eq!(
        unregister(static_state),
        Err(HotplugError::NotDynamic(static_state))
    );
    unregister(a).unwrap();
    assert_eq!(unregister(a), Err(HotplugError::NotDynamic(a)));
    // The freed slot is reused first.
    assert_eq!(register(&sim, "dyn:d"), Ok(a));
    let _ = Down;
}
