//! Sets of CPUs moved in one operation (`Engine::set_target_many`): the
//! two-phase order going up, members going down first, members that do
//! nothing, and refusals of the set as a whole. (Failures and lost APs in
//! a set: `set_failures.rs`.)

mod sim;

use hotplug::{CpuId, CpuStatus, HotplugError, StateId};
use sim::{take_trace, Call, Sim};

/// Every CPU's status, to compare before and after a refusal.
fn statuses(sim: &Sim) -> Vec<CpuStatus> {
    sim.engine.cpu_statuses()
}

/// Each member's walk from `from` to `to`, members in the order given.
fn walks(sim: &Sim, members: &[(u32, StateId)], to: StateId) -> Vec<Call> {
    (members.iter())
        .flat_map(|&(cpu, from)| sim.expected(cpu, from, to))
        .collect()
}

#[test]
fn going_up_every_member_reaches_the_kick_point_before_any_goes_on() {
    let sim = Sim::new(4);
    let (online, kick_point) = (sim.engine.online_state(), sim.kick_point());
    // Given out of order: the walks still go in CPU order.
    let outcome = sim.many(&[3, 1, 2], "online").unwrap();
    assert!(outcome.all_reached());
    assert_eq!(outcome.reached, [CpuId(1), CpuId(2), CpuId(3)]);
    let offline = StateId::OFFLINE;
    let members = [(1, offline), (2, offline), (3, offline)];
    let mut expected = walks(&sim, &members, kick_point);
    let at_kick = [(1, kick_point), (2, kick_point), (3, kick_point)];
    expected.extend(walks(&sim, &at_kick, online));
    let trace = take_trace();
    assert_eq!(trace, expected);
    // Every BP step up to the kick point came before any step after it.
    let last_phase_one = trace.iter().rposition(|c| c.state <= kick_point.0);
    let first_phase_two = trace.iter().position(|c| c.state > kick_point.0);
    assert!(last_phase_one < first_phase_two);
    for cpu in 1..4 {
        assert_eq!(sim.state(cpu), "online");
        let status = sim.engine.status(CpuId(cpu)).unwrap();
        assert_eq!(status.target, status.state);
    }
    assert!(sim.logs().is_empty());
}

#[test]
fn members_start_where_they_are_and_those_at_the_target_do_nothing() {
    let sim = Sim::new(5);
    let online = sim.engine.online_state();
    let kick_point = sim.kick_point();
    sim.go(2, "timers:starting").unwrap();
    sim.go(3, "mm:prepare").unwrap();
    sim.up(4).unwrap();
    take_trace();
    let requests = sim.requests();
    let outcome = sim.many(&[1, 2, 3, 4], "online").unwrap();
    assert_eq!(outcome.reached, [1, 2, 3, 4].map(CpuId));
    // cpu2 is past the kick point already: it only joins phase two.
    let mm = sim.id("mm:prepare");
    let mut expected = walks(&sim, &[(1, StateId::OFFLINE), (3, mm)], kick_point);
    let timers = sim.id("timers:starting");
    let phase_two = [(1, kick_point), (2, timers), (3, kick_point)];
    expected.extend(walks(&sim, &phase_two, online));
    assert_eq!(take_trace(), expected);
    // cpu4, online already, was sent nothing: two requests each (one per
    // run of AP steps) for cpu1, cpu2 and cpu3.
    assert_eq!(sim.requests() - requests, 6);
}

#[test]
fn a_target_below_the_kick_point_is_reached_in_phase_one() {
    let sim = Sim::new(3);
    sim.many(&[1, 2], "mm:prepare").unwrap();
    let mm = sim.id("mm:prepare");
    let offline = StateId::OFFLINE;
    assert_eq!(take_trace(), walks(&sim, &[(1, offline), (2, offline)], mm));
    assert_eq!((sim.state(1), sim.state(2)), ("mm:prepare", "mm:prepare"));
    assert_eq!(sim.requests(), 0);
}

#[test]
fn members_going_down_go_first_each_all_the_way() {
    let sim = Sim::new(5);
    let (online, kick_point) = (sim.engine.online_state(), sim.kick_point());
    sim.up(1).unwrap();
    sim.up(3).unwrap();
    sim.go(4, "sched:online").unwrap();
    take_trace();
    // cpu1 and cpu3 go down, cpu2 up, cpu4 is there already.
    let outcome = sim.many(&[1, 2, 3, 4], "sched:online").unwrap();
    assert_eq!(outcome.reached, [1, 2, 3, 4].map(CpuId));
    let target = sim.id("sched:online");
    let mut expected = walks(&sim, &[(1, online), (3, online)], target);
    expected.extend(walks(&sim, &[(2, StateId::OFFLINE)], kick_point));
    expected.extend(walks(&sim, &[(2, kick_point)], target));
    assert_eq!(take_trace(), expected);
    for cpu in 1..5 {
        assert_eq!(sim.state(cpu), "sched:online");
    }
    // And all of them down together, offline and online CPUs alike.
    sim.down(2).unwrap();
    take_trace();
    sim.many(&[1, 2, 3, 4], "offline").unwrap();
    let members = [(1, target), (3, target), (4, target)];
    assert_eq!(take_trace(), walks(&sim, &members, StateId::OFFLINE));
}

#[test]
fn the_boot_cpu_at_online_already_does_nothing() {
    let sim = Sim::new(3);
    let outcome = sim.many(&[0, 1, 2], "online").unwrap();
    assert_eq!(outcome.reached, [0, 1, 2].map(CpuId));
    assert!(take_trace().iter().all(|c| c.cpu != 0));
}

/// Checks that `result` is the refusal `want` and that nothing changed.
fn assert_refused(
    sim: &Sim,
    result: Result<hotplug::SetOutcome, HotplugError>,
    want: HotplugError,
) {
    let before = statuses(sim);
    assert_eq!(result, Err(want));
    assert_eq!(statuses(sim), before);
}

#[test]
fn refusals_of_the_set_change_nothing() {
    let sim = Sim::build(6, 5, std::time::Duration::from_secs(5));
    sim.up(1).unwrap();
    sim.up(2).unwrap();
    sim.go(3, "sched:online").unwrap();
    take_trace();
    let (before, requests) = (statuses(&sim), sim.requests());
    let cases: Vec<(&[u32], &str, HotplugError)> = vec![
        (&[], "online", HotplugError::EmptySet),
        (&[1, 3, 1], "online", HotplugError::DuplicateCpu(CpuId(1))),
        (&[2, 3, 9], "online", HotplugError::CpuOutOfRange(CpuId(9))),
        (&[3, 5], "online", HotplugError::CpuNotPresent(CpuId(5))),
        (&[0, 1], "sched:online", HotplugError::BootCpu(CpuId(0))),
        (
            &[3, 4],
            "cpu:kick",
            HotplugError::TargetNotStoppable {
                state: sim.id("cpu:kick"),
                name: "cpu:kick",
            },
        ),
        // cpu0, cpu1 and cpu2 are every online CPU: refused, though each
        // alone would be refused only as the boot CPU, or not at all.
        (&[0, 1, 2], "offline", HotplugError::NoCpuLeftOnline),
        (
            &[2, 1, 0, 3],
            "timers:prepare",
            HotplugError::NoCpuLeftOnline,
        ),
    ];
    for (cpus, target, want) in cases {
        assert_refused(&sim, sim.many(cpus, target), want);
        assert_eq!(statuses(&sim), before, "{cpus:?} to {target}");
    }
    assert!(take_trace().is_empty());
    assert_eq!(sim.requests(), requests);
    assert!(sim.logs().is_empty());
    // The same set without cpu0 is fine.
    sim.many(&[1, 2, 3], "offline").unwrap();
    assert!((1..4).all(|cpu| sim.state(cpu) == "offline"));
}

#[test]
fn a_set_of_one_is_refused_as_set_target_is() {
    let sim = Sim::new(2);
    // cpu0 alone, the last online CPU: the same refusal as `set_target`.
    let offline = StateId::OFFLINE;
    assert_eq!(
        sim.engine.set_target(&sim.backend, CpuId(0), offline),
        Err(HotplugError::LastOnlineCpu(CpuId(0)))
    );
    assert_refused(
        &sim,
        sim.many(&[0], "offline"),
        HotplugError::LastOnlineCpu(CpuId(0)),
    );
    sim.up(1).unwrap();
    assert_refused(
        &sim,
        sim.many(&[0], "offline"),
        HotplugError::BootCpu(CpuId(0)),
    );
}

#[test]
fn the_set_refusals_read_well_after_error() {
    let texts = [
        (HotplugError::EmptySet, "no CPUs given"),
        (
            HotplugError::DuplicateCpu(CpuId(3)),
            "cpu3 given more than once",
        ),
        (
            HotplugError::NoCpuLeftOnline,
            "refusing to offline every online CPU at once",
        ),
    ];
    for (error, text) in texts {
        assert_eq!(error.to_string(), text);
    }
}
