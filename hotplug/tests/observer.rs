//! Step observers: told about every callback on both sides, with its CPU,
//! state, direction, timing and outcome; added and removed at run time.

mod sim;

use std::sync::Mutex;

use hotplug::{CpuId, Side, StepError, StepEvent, StepObserver, StepOutcome, MAX_OBSERVERS};
use sim::{take_trace, Down, Sim, Up};

static EVENTS: Mutex<Vec<StepEvent>> = Mutex::new(Vec::new());

fn record(event: &StepEvent) {
    EVENTS.lock().unwrap().push(*event);
}

fn take_events() -> Vec<StepEvent> {
    std::mem::take(&mut *EVENTS.lock().unwrap())
}

static RECORDER: fn(&StepEvent) = record;

#[test]
fn every_callback_on_either_side_is_observed_with_its_timing() {
    let sim = Sim::new(3);
    let id = sim.engine.add_observer(&RECORDER).unwrap();
    take_events();
    sim.up(1).unwrap();
    sim.down(1).unwrap();
    let trace = take_trace();
    let events = take_events();
    // One event per callback run, in the order they ran, from the CPU that ran it.
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.cpu.0, e.state.0, e.direction, e.side == Side::Ap))
        .collect();
    let ran: Vec<_> = trace
        .iter()
        .map(|c| (c.cpu, c.state, c.dir, c.ran_on == c.cpu))
        .collect();
    assert_eq!(seen, ran);
    assert!(events.iter().any(|e| e.side == Side::Bp) && events.iter().any(|e| e.side == Side::Ap));
    for e in &events {
        assert_eq!(e.outcome, StepOutcome::Done, "{e:?}");
        assert!(e.start_ns <= e.end_ns, "{e:?}");
        assert_eq!(sim.engine.state_name(e.state), Some(e.name));
    }
    assert!(events.iter().any(|e| e.end_ns > 0), "the sim has a clock");
    assert!(sim.engine.remove_observer(id));
    assert!(!sim.engine.remove_observer(id));
    sim.up(1).unwrap();
    assert!(take_events().is_empty(), "a removed observer hears nothing");
}

#[test]
fn outcomes_tell_failures_ignored_errors_and_injected_faults_apart() {
    let sim = Sim::new(3);
    let id = sim.engine.add_observer(&RECORDER).unwrap();
    let failing = sim.id("sched:online");
    sim::fail_always(1, failing, Up);
    // rcu:online may not fail: its error is ignored and the walk goes on.
    let no_fail = sim.id("rcu:online");
    sim::fail_always(2, no_fail, Up);
    take_events();
    assert!(sim.up(1).is_err());
    sim.up(2).unwrap();
    sim::clear_failures();
    sim.arm(2, "workqueue:online").unwrap();
    assert!(sim.down(2).is_err());
    let events = take_events();
    let outcome = |cpu, state, dir| {
        (events.iter())
            .find(|e| e.cpu == CpuId(cpu) && e.state == state && e.direction == dir)
            .map(|e| e.outcome)
    };
    let simulated = StepError::failed("simulated failure");
    assert_eq!(
        outcome(1, failing, Up),
        Some(StepOutcome::Failed(simulated))
    );
    assert_eq!(
        outcome(2, no_fail, Up),
        Some(StepOutcome::Ignored(simulated))
    );
    let injected = events.iter().find(|e| e.outcome == StepOutcome::Injected);
    let injected = injected.expect("the armed fault is observed");
    assert_eq!(
        (injected.cpu, injected.name, injected.direction),
        (CpuId(2), "workqueue:online", Down)
    );
    assert_eq!(injected.start_ns, injected.end_ns);
    assert!(sim.engine.remove_observer(id));
}

struct Counter(Mutex<usize>);

impl StepObserver for Counter {
    fn step_ran(&self, _: &StepEvent) {
        *self.0.lock().unwrap() += 1;
    }
}

#[test]
fn observers_are_a_fixed_set_and_all_of_them_hear_each_event() {
    static COUNTERS: [Counter; MAX_OBSERVERS + 1] =
        [const { Counter(Mutex::new(0)) }; MAX_OBSERVERS + 1];
    let sim = Sim::new(2);
    let ids: Vec<_> = (COUNTERS[..MAX_OBSERVERS].iter())
        .map(|counter| sim.engine.add_observer(counter).unwrap())
        .collect();
    let full = sim
        .engine
        .add_observer(&COUNTERS[MAX_OBSERVERS])
        .unwrap_err();
    assert_eq!(full.to_string(), "all 4 step observer slots are taken");
    sim.up(1).unwrap();
    let runs = take_trace().len();
    assert!(runs > 0);
    for counter in &COUNTERS[..MAX_OBSERVERS] {
        assert_eq!(*counter.0.lock().unwrap(), runs);
    }
    assert_eq!(*COUNTERS[MAX_OBSERVERS].0.lock().unwrap(), 0);
    // A freed slot takes a new observer, which the old id cannot remove.
    assert!(sim.engine.remove_observer(ids[0]));
    let reused = sim.engine.add_observer(&COUNTERS[MAX_OBSERVERS]).unwrap();
    assert!(!sim.engine.remove_observer(ids[0]));
    sim.down(1).unwrap();
    assert_eq!(
        *COUNTERS[MAX_OBSERVERS].0.lock().unwrap(),
        take_trace().len()
    );
    assert!(sim.engine.remove_observer(reused));
}
