//! Property test: random targets, faults and registrations across several
//! CPUs, checking after every operation that each CPU's state is one the
//! table defines and equals its net bring-ups, and that every state's
//! bring-up and teardown calls on a CPU alternate, bring-up first.

mod sim;

use std::collections::HashMap;

use hotplug::{CpuId, Direction, HotplugError, StateId};
use proptest::prelude::*;
use proptest::sample::Index;
use sim::{take_trace, Down, Sim, Up};

const CPUS: u32 = 4;
const NAMES: [&str; 4] = ["dyn:a", "dyn:b", "dyn:c", "dyn:d"];

#[derive(Clone, Debug)]
enum Op {
    Target(u32, Index),
    Arm(u32, Index),
    Disarm(u32),
    Register(usize),
    Unregister(Index),
}

fn op() -> impl Strategy<Value = Op> {
    // cpu0 (the boot CPU) is mostly refused, so it is picked less often.
    prop_oneof![
        6 => (1..CPUS, any::<Index>()).prop_map(|(c, i)| Op::Target(c, i)),
        1 => any::<Index>().prop_map(|i| Op::Target(0, i)),
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

fn apply(sim: &Sim, op: &Op) -> Result<(), TestCaseError> {
    let e = &sim.engine;
    let rows = e.table_rows();
    match *op {
        Op::Target(cpu, ref pick) => {
            let before = e.state_of(CpuId(cpu)).unwrap();
            let target = rows[pick.index(rows.len())].id;
            match e.set_target(&sim.backend, CpuId(cpu), target) {
                Ok(()) => prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), target),
                Err(HotplugError::StepFailed(f)) => {
                    prop_assert_eq!(f.settled, before);
                    prop_assert_eq!(f.rollback_errors, 0);
                    prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), before);
                    prop_assert_eq!(e.armed_fault(CpuId(cpu)).unwrap(), None);
                }
                Err(_) => prop_assert_eq!(e.state_of(CpuId(cpu)).unwrap(), before),
            }
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
            let result = e.register(&sim.backend, NAMES[name], up, Some(sim::down));
            let refused = matches!(
                result,
                Err(HotplugError::DuplicateName(_) | HotplugError::NoFreeSlot)
            );
            prop_assert!(result.is_ok() || refused, "register: {:?}", result);
        }
        Op::Unregister(ref pick) => {
            let dynamic: Vec<_> = rows.iter().filter(|r| r.dynamic).collect();
            if !dynamic.is_empty() {
                let id = dynamic[pick.index(dynamic.len())].id;
                e.unregister(&sim.backend, id).unwrap();
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_cpu_consistent(ops in prop::collection::vec(op(), 1..48)) {
        let sim = Sim::new(CPUS as usize);
        let mut ledger = Ledger::default();
        for op in &ops {
            apply(&sim, op)?;
            ledger.absorb(&sim)?;
            ledger.check(&sim)?;
        }
        // However it ended, every CPU can still go fully up and down.
        for cpu in 1..CPUS {
            sim.engine.arm_fault(CpuId(cpu), None).unwrap();
            sim.up(cpu).unwrap();
            sim.down(cpu).unwrap();
        }
        ledger.absorb(&sim)?;
        ledger.check(&sim)?;
    }
}
