//! Callback order, sides, batching, partial targets, refusals and queries.

mod sim;

use hotplug::{CpuId, HotplugError, LogKind, StateId};
use sim::{take_trace, Down, Sim, Up};

#[test]
fn bring_up_and_teardown_run_every_step_in_order_on_the_right_cpu() {
    let sim = Sim::new(3);
    let online = sim.engine.online_state();
    sim.up(1).unwrap();
    assert_eq!(take_trace(), sim.expected(1, StateId::OFFLINE, online));
    assert_eq!(sim.state(1), "online");
    // Both starting steps ran in one interrupts-off window.
    assert_eq!(sim::irq_windows(), 1);
    sim.down(1).unwrap();
    assert_eq!(take_trace(), sim.expected(1, online, StateId::OFFLINE));
    assert_eq!(sim.state(1), "offline");
    assert_eq!(sim::irq_windows(), 2);
    assert!(sim.logs().is_empty());
}

#[test]
fn each_run_of_ap_steps_is_one_request() {
    let sim = Sim::new(2);
    // Up: sched:starting..rcu:online, then workqueue:online..notify:online.
    sim.up(1).unwrap();
    assert_eq!(sim.requests(), 2);
    sim.down(1).unwrap();
    assert_eq!(sim.requests(), 4);
    // Prepare steps alone involve no AP.
    sim.go(1, "timers:prepare").unwrap();
    assert_eq!(sim.requests(), 4);
}

#[test]
fn partial_targets_up_and_down() {
    let sim = Sim::new(2);
    let path = [
        "timers:prepare",
        "sched:online",
        "bp:sync",
        "online",
        "workqueue:online",
        "timers:starting",
        "sched:online",
        "mm:prepare",
        "offline",
    ];
    let mut from = StateId::OFFLINE;
    for name in path {
        sim.go(1, name).unwrap();
        let to = sim.id(name);
        assert_eq!(take_trace(), sim.expected(1, from, to), "{name}");
        assert_eq!(sim.state(1), name);
        let status = sim.engine.status(CpuId(1)).unwrap();
        assert_eq!((status.state, status.target), (to, to));
        from = to;
    }
}

#[test]
fn cpus_move_independently() {
    let sim = Sim::new(4);
    sim.up(1).unwrap();
    sim.up(2).unwrap();
    sim.go(3, "sched:online").unwrap();
    sim.down(1).unwrap();
    assert_eq!(
        [sim.state(0), sim.state(1), sim.state(2), sim.state(3)],
        ["online", "offline", "online", "sched:online"]
    );
}

#[test]
fn refusals_change_nothing() {
    let sim = Sim::build(4, 3, std::time::Duration::from_secs(5));
    let e = &sim.engine;
    let b = &sim.backend;
    let offline = StateId::OFFLINE;
    let empty_slot = StateId(sim.id("notify:online").0 + 1);
    let past_end = StateId(e.online_state().0 + 1);

    assert_eq!(
        e.set_target_by_name(b, CpuId(1), "nope"),
        Err(HotplugError::UnknownStateName)
    );
    assert_eq!(
        e.set_target(b, CpuId(1), empty_slot),
        Err(HotplugError::NoSuchState(empty_slot))
    );
    assert_eq!(
        e.set_target(b, CpuId(1), past_end),
        Err(HotplugError::NoSuchState(past_end))
    );
    assert_eq!(
        e.set_target(b, CpuId(9), offline),
        Err(HotplugError::CpuOutOfRange(CpuId(9)))
    );
    assert_eq!(
        e.cpu_up(b, CpuId(3)),
        Err(HotplugError::CpuNotPresent(CpuId(3)))
    );
    assert_eq!(
        e.cpu_down(b, CpuId(0)),
        Err(HotplugError::LastOnlineCpu(CpuId(0)))
    );
    let kick = sim.id("cpu:kick");
    assert!(matches!(
        e.set_target(b, CpuId(1), kick),
        Err(HotplugError::TargetNotStoppable { state, name: "cpu:kick" }) if state == kick
    ));
    for name in ["sched:starting", "rcu:online", "offline", "online"] {
        assert!(
            matches!(sim.arm(1, name), Err(HotplugError::CannotFail { name: n, .. }) if n == name),
            "{name}"
        );
    }
    assert_eq!(
        e.arm_fault(CpuId(1), Some(empty_slot)),
        Err(HotplugError::NoSuchState(empty_slot))
    );
    assert_eq!(
        e.arm_fault(CpuId(9), None),
        Err(HotplugError::CpuOutOfRange(CpuId(9)))
    );
    // Equal to the current state: Ok, nothing runs.
    sim.down(1).unwrap();
    e.cpu_up(b, CpuId(0)).unwrap();
    assert!(take_trace().is_empty());
    assert_eq!(sim.requests(), 0);

    sim.up(1).unwrap();
    take_trace();
    assert_eq!(
        e.cpu_down(b, CpuId(0)),
        Err(HotplugError::BootCpu(CpuId(0)))
    );
    assert_eq!(sim.go(0, "bp:sync"), Err(HotplugError::BootCpu(CpuId(0))));
    assert!(take_trace().is_empty());
    assert_eq!(
        [sim.state(0), sim.state(1), sim.state(2)],
        ["online", "online", "offline"]
    );
    assert_eq!(e.armed_fault(CpuId(1)), Ok(None));
}

#[test]
fn errors_of_steps_that_may_not_fail_are_logged_and_ignored() {
    let sim = Sim::new(2);
    sim::fail_always(1, sim.id("rcu:online"), Up);
    sim::fail_always(1, sim.id("timers:starting"), Down);
    sim.up(1).unwrap();
    sim.down(1).unwrap();
    assert_eq!(sim.state(1), "offline");
    let kinds: Vec<_> = sim.logs().iter().map(|l| (l.name, l.kind)).collect();
    let failed = hotplug::StepError::failed("simulated failure");
    assert_eq!(
        kinds,
        [
            ("rcu:online", LogKind::IgnoredFailure(failed)),
            ("timers:starting", LogKind::IgnoredFailure(failed)),
        ]
    );
    assert_eq!(sim.engine.last_error(CpuId(1)), Ok(None));
}

#[test]
fn queries_describe_the_table_and_the_cpus() {
    let sim = Sim::new(3);
    let rows: Vec<String> = sim
        .engine
        .table_rows()
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        rows,
        [
            "0 offline bp no-fail prepare no-fail no-fail can-rest \
             first: every CPU that is not running rests here, parked",
            "1 mm:prepare bp may-fail prepare may-fail may-fail can-rest first: memory for the rest",
            "2 timers:prepare bp may-fail prepare may-fail may-fail can-rest before the kick",
            "3 cpu:kick bp may-fail prepare may-fail no-fail cant-rest last BP step: starts the AP",
            "4 sched:starting ap no-fail starting no-fail no-fail can-rest first on the AP",
            "5 timers:starting ap no-fail starting no-fail no-fail can-rest after sched:starting",
            "6 sched:online ap may-fail online may-fail may-fail can-rest interrupts on",
            "7 rcu:online ap no-fail online no-fail no-fail can-rest a no-fail online step",
            "8 bp:sync bp may-fail online may-fail may-fail can-rest a BP step between AP runs",
            "9 workqueue:online ap may-fail online may-fail may-fail can-rest after bp:sync",
            "10 notify:online ap may-fail online may-fail no-fail can-rest a step without teardown",
            "14 online ap no-fail online no-fail no-fail can-rest \
             last: the CPU has passed every step and is fully up",
        ]
    );
    let stoppable: Vec<bool> = sim.engine.table_rows().iter().map(|r| r.can_rest).collect();
    assert_eq!(stoppable.iter().filter(|s| !**s).count(), 1);
    assert_eq!(sim.engine.possible_cpus(), 3);

    sim.arm(1, "sched:online").unwrap();
    let err = sim.up(1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cpu1: sched:online bring-up failed: injected fault; rolled back to offline"
    );
    let status = sim.engine.status(CpuId(1)).unwrap();
    assert_eq!(
        (status.state_name, status.present, status.armed_fault),
        ("offline", true, None)
    );
    assert_eq!(
        status.last_error.map(|f| f.state),
        Some(sim.id("sched:online"))
    );
    let log: Vec<String> = sim.logs().iter().map(|l| l.to_string()).collect();
    assert_eq!(log, ["cpu1: sched:online bring-up failed: injected fault"]);
    sim.arm(2, "mm:prepare").unwrap();
    assert_eq!(
        sim.engine.armed_fault(CpuId(2)),
        Ok(Some(sim.id("mm:prepare")))
    );
    sim.engine.arm_fault(CpuId(2), None).unwrap();
    assert_eq!(sim.engine.armed_fault(CpuId(2)), Ok(None));
    sim.up(2).unwrap();
    let states: Vec<_> = (sim.engine.cpu_statuses().iter())
        .map(|s| (s.cpu, s.state_name))
        .collect();
    let expected = [
        (CpuId(0), "online"),
        (CpuId(1), "offline"),
        (CpuId(2), "online"),
    ];
    assert_eq!(states, expected);
    let _ = Down;
}
