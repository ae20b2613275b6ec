//! Property test: random targets (of one CPU or of a set of CPUs moved
//! together), faults and registrations across several CPUs, checking after every operation that each CPU's state is one the
//! table defines and equals its net bring-ups, and that every state's
//! bring-up and teardown calls on a CPU alternate, bring-up first. A second
//! property adds hangs: a CPU forced offline has its AP states cut off by
//! INIT (no teardown runs), and must end `offline` and come back.

mod sim;

use std::collections::HashMap;
use std::time::Duration;

use hotplug::{CpuId, Direction, HotplugError, StateId};
use proptest::prelude::*;
use proptest::sample::Index;
use sim::{take_trace, Down, Sim, Up};

const CPUS: u32 = 4;
const NAMES: [&str; 4] = ["dyn:a", "dyn:b", "dyn:c", "dyn:d"];

#[derive(Clone, Debug)]
enum Op {
    Target(u32, Index),
    /// The CPUs whose bits are set, moved together (`set_target_many`).
    TargetSet(u8, Index),
    Arm(u32, Index),
    Disarm(u32),
    Register(usize),
    Unregister(Index),
    Hang(u32, Index),
}

fn op_or_hang() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => op(),
        3 => (1..CPUS, any::<Index>()).prop_map(|(c, i)| Op::Hang(c, i)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // cpu0 (the boot CPU) is mostly refused, so it is picked less often.
    prop_oneof![
        6 => (1..CPUS, any::<Index>()).prop_map(|(c, i)| Op::Target(c, i)),
        1 => any::<Index>().prop_map(|i| Op::Target(0, i)),
        3 => (0u8..1 << CPUS, any::<Index>()).prop_map(|(m, i)| Op::TargetSet(m, i)),
        5 => (1..CPUS, any::<Index>()).prop_map(|(c, i)| Op::Arm(c, i)),
        1 => (0..CPUS).prop_map(Op::Disarm),
        1 => (0..NAMES.len()).prop_map(Op::Register),
        1 => any::<Index>().prop_map(Op::Unregister),
    ]
}

/// What the trace says so far, per (cpu, state): net bring-ups.
#[derive(Default)]
struct Ledger {
    net: HashMap<(u32, u16), i32>,
}

impl Ledger {
    /// Folds in new calls, checking that they alternate.
    fn absorb(&mut self, sim: &Sim) -> Result<(), TestCaseError> {
        for call in take_trace().into_iter().filter(|c| c.ok) {
            let name = sim.engine.state_name(StateId(call.state)).unwrap_or("dyn");
            if !sim::has_callback(name, Direction::Down) {
                continue;
            }
            let net = self.net.entry((call.cpu, call.state)).or_default();
            *net += if call.dir == Direction::Up { 1 } else { -1 };
            prop_assert!((0..=1).contains(net), "{:?} breaks alternation", call);
        }
        Ok(())
    }

    /// INIT stopped `cpu`: whatever its AP states did is gone with it.
    /// Anything but a BP state counts, including a dynamic state whose
    /// slot was freed by the very `unregister` that lost the CPU.
    fn forget_ap_states(&mut self, sim: &Sim, cpu: u32) {
        let rows = sim.engine.table_rows();
        self.net.retain(|&(c, state), _| {
            let bp = rows
                .iter()
                .any(|r| r.id.0 == state && r.side == hotplug::Side::Bp);
            c != cpu || bp
        });
    }

    /// Each CPU's state equals its net bring-ups, and is a defined state.
    fn check(&self, sim: &Sim) -> Result<(), TestCaseError> {
        let rows = sim.engine.table_rows();
        for cpu in 0..CPUS {
            let state = sim.engine.state_of(CpuId(cpu)).unwrap();
            prop_assert!(
                rows.iter().any(|r| r.id == state),
                "cpu{} at {}",
                cpu,
                state
            );
            for id in 1..sim.engine.online_state().0 {
                let row = rows.iter().find(|r| r.id.0 == id);
                // cpu0 was brought up by hand: only dynamic states ran on it.
                let counted = row.is_some_and(|r| {
                    sim::has_callback(r.name, Direction::Down) && (cpu != 0 || r.dynamic)
                });
                let want = i32::from(counted && StateId(id) <= state);
                let got = self.net.get(&(cpu, id)).copied().unwrap_or(0);
                prop_assert_eq!(got, want, "cpu{} state {} (cpu at {})", cpu, id, state);
            }
        }
        Ok(())
    }
}

fn apply(sim: &Sim, op: &Op, ledger: &mut Ledger) -> Result<(), TestCaseError> {
    let e = &sim.engine;
    let rows = e.table_rows();
    match *op {
        Op::Target(cpu, ref pick) => {
            let before = e.state_of(CpuId(cpu)).unwrap();
            let target = rows[pick.index(rows.len())].id;
            match e.set_target(&sim.backend, CpuId(cpu), target) {
                Ok(()) => prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), target),
                Err(HotplugError::StepFailed(f)) if f.forced_offline => {
                    prop_assert_eq!(f.settled, StateId::OFFLINE);
                    prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), StateId::OFFLINE);
                    ledger.absorb(sim)?;
                    ledger.forget_ap_states(sim, cpu);
                }
                Err(HotplugError::StepFailed(f)) => {
                    prop_assert_eq!(f.settled, before);
                    prop_assert_eq!(f.rollback_errors, 0);
                    prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), before);
                    prop_assert_eq!(e.armed_fault(CpuId(cpu)).unwrap(), None);
                }
                Err(_) => prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), before),
            }
        }
        Op::TargetSet(mask, ref pick) => {
            let target = rows[pick.index(rows.len())].id;
            apply_set(sim, mask, target, ledger)?;
        }
        Op::Arm(cpu, ref pick) => {
            let state = rows[pick.index(rows.len())].id;
            let here = e.state_of(CpuId(cpu)).unwrap();
            let armed = e.arm_fault(CpuId(cpu), Some(state));
            // Refused only for a pass that could not fire: a bring-up above
            // the CPU's state, a teardown at or below it.
            let refused = match armed {
                Err(HotplugError::CannotFail { .. }) => true,
                Err(HotplugError::FaultNeverFires { direction, .. }) => {
                    direction == if state > here { Up } else { Down }
                }
                _ => false,
            };
            prop_assert!(armed.is_ok() || refused, "arm: {:?}", armed);
        }
        Op::Disarm(cpu) => e.arm_fault(CpuId(cpu), None).unwrap(),
        Op::Register(name) => {
            let up = Some(sim::up as hotplug::Callback);
            let forced_before = forced_counts();
            let result = e.register(&sim.backend, NAMES[name], up, Some(sim::down));
            let refused = matches!(
                result,
                Err(HotplugError::DuplicateName(_) | HotplugError::NoFreeSlot)
            );
            let lost = matches!(result, Err(HotplugError::RegisterFailed(f)) if f.forced_offline);
            prop_assert!(result.is_ok() || refused || lost, "register: {:?}", result);
            absorb_forced(sim, ledger, &forced_before)?;
        }
        Op::Unregister(ref pick) => {
            let dynamic: Vec<_> = rows.iter().filter(|r| r.dynamic).collect();
            if !dynamic.is_empty() {
                let id = dynamic[pick.index(dynamic.len())].id;
                let forced_before = forced_counts();
                e.unregister(&sim.backend, id).unwrap();
                absorb_forced(sim, ledger, &forced_before)?;
            }
        }
        Op::Hang(cpu, ref pick) => {
            let state = rows[pick.index(rows.len())].id;
            match e.arm_hang(CpuId(cpu), Some(state)) {
                Ok(()) | Err(HotplugError::CannotHang { .. }) => {}
                Err(other) => prop_assert!(false, "hang: {:?}", other),
            }
        }
    }
    Ok(())
}

/// A set operation: refused with nothing moved, or every member at the
/// target except those that failed, each of which is back where it
/// started (or forced offline) with its fault consumed.
fn apply_set(
    sim: &Sim,
    mask: u8,
    target: StateId,
    ledger: &mut Ledger,
) -> Result<(), TestCaseError> {
    let e = &sim.engine;
    let members: Vec<CpuId> = (0..CPUS)
        .filter(|c| mask & 1 << c != 0)
        .map(CpuId)
        .collect();
    let before: Vec<StateId> = (0..CPUS).map(|c| e.state_of(CpuId(c)).unwrap()).collect();
    let outcome = match e.set_target_many(&sim.backend, &members, target) {
        Ok(outcome) => outcome,
        Err(refused) => {
            prop_assert!(!members.is_empty() || refused == HotplugError::EmptySet);
            for cpu in 0..CPUS {
                prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), before[cpu as usize]);
            }
            return Ok(());
        }
    };
    let cpus = |list: &[CpuId]| list.iter().map(|c| c.0).collect::<Vec<_>>();
    let failed: Vec<CpuId> = outcome.failures.iter().map(|f| f.cpu).collect();
    let mut all = [cpus(&outcome.reached), cpus(&failed)].concat();
    all.sort();
    prop_assert_eq!(all, cpus(&members), "every member reached or failed, once");
    ledger.absorb(sim)?;
    for cpu in 0..CPUS {
        let (id, was) = (CpuId(cpu), before[cpu as usize]);
        let now = e.state_of(id).unwrap();
        match outcome.failure_of(id) {
            None if members.contains(&id) => prop_assert_eq!(now, target),
            None => prop_assert_eq!(now, was, "cpu{} is no member", cpu),
            Some(f) if f.forced_offline => {
                prop_assert_eq!(now, StateId::OFFLINE);
                ledger.forget_ap_states(sim, cpu);
            }
            Some(f) => {
                prop_assert_eq!((now, f.settled, f.rollback_errors), (was, was, 0));
                prop_assert_eq!(e.armed_fault(id).unwrap(), None);
            }
        }
        prop_assert_eq!(e.status(id).unwrap().target, now);
    }
    Ok(())
}

fn forced_counts() -> Vec<usize> {
    (0..CPUS).map(sim::forced).collect()
}

/// Folds in the trace, then forgets the AP states of every CPU forced
/// offline since `before`, which must now be offline.
fn absorb_forced(sim: &Sim, ledger: &mut Ledger, before: &[usize]) -> Result<(), TestCaseError> {
    ledger.absorb(sim)?;
    for cpu in 0..CPUS {
        if sim::forced(cpu) != before[cpu as usize] {
            prop_assert_eq!(sim.state(cpu), "offline");
            ledger.forget_ap_states(sim, cpu);
        }
    }
    Ok(())
}

/// Every CPU, however it ended, can still go fully up and down.
fn all_cycle(sim: &Sim, ledger: &mut Ledger) -> Result<(), TestCaseError> {
    for cpu in 1..CPUS {
        sim.engine.arm_fault(CpuId(cpu), None).unwrap();
        sim.engine.arm_hang(CpuId(cpu), None).unwrap();
        sim.up(cpu).unwrap();
        sim.down(cpu).unwrap();
    }
    ledger.absorb(sim)?;
    ledger.check(sim)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_cpu_consistent(ops in prop::collection::vec(op(), 1..48)) {
        let sim = Sim::new(CPUS as usize);
        let mut ledger = Ledger::default();
        for op in &ops {
            apply(&sim, op, &mut ledger)?;
            ledger.absorb(&sim)?;
            ledger.check(&sim)?;
        }
        all_cycle(&sim, &mut ledger)?;
    }
}

proptest! {
    // Each hang that fires costs the deadline, so fewer and shorter runs.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_with_hangs_end_offline_or_consistent(
        ops in prop::collection::vec(op_or_hang(), 1..32)
    ) {
        let sim = Sim::build(CPUS as usize, CPUS as usize, Duration::from_millis(500));
        let mut ledger = Ledger::default();
        for op in &ops {
            apply(&sim, op, &mut ledger)?;
            ledger.absorb(&sim)?;
            ledger.check(&sim)?;
        }
        all_cycle(&sim, &mut ledger)?;
    }
}
