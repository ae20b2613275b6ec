//! `arm_fault` accepts exactly the faults the next pass can fire (as Linux's
//! `fail_store`), and every fault it accepts does fire on that pass.

mod sim;

use hotplug::{CpuId, Direction, HotplugError, StepError};
use sim::{Down, Sim, Up};

#[test]
fn an_accepted_fault_fires_on_the_next_pass_and_a_refused_one_never_could() {
    let sim = Sim::new(2);
    let rows = sim.engine.table_rows();
    let (mut accepted, mut refused) = (0, 0);
    for from in rows.iter().filter(|r| r.can_rest) {
        for row in &rows {
            sim.go(1, from.name).unwrap();
            let next = if row.id > from.id { Up } else { Down };
            let fires = match next {
                Direction::Up => row.up_may_fail,
                Direction::Down => row.down_may_fail,
            };
            match sim.arm(1, row.name) {
                Ok(()) => {
                    assert!(fires, "{} from {}: accepted", row.name, from.name);
                    accepted += 1;
                    // Pass it: all the way up or down from here.
                    let result = match next {
                        Direction::Up => sim.up(1),
                        Direction::Down => sim.down(1),
                    };
                    let Err(HotplugError::StepFailed(f)) = result else {
                        panic!("{} from {}: did not fire: {result:?}", row.name, from.name);
                    };
                    assert_eq!(
                        (f.state, f.direction, f.error),
                        (row.id, next, StepError::Injected)
                    );
                    assert_eq!(f.settled, from.id);
                }
                Err(HotplugError::FaultNeverFires { direction, .. }) => {
                    assert!(!fires && row.may_fail, "{} from {}", row.name, from.name);
                    assert_eq!(direction, next);
                    refused += 1;
                }
                Err(HotplugError::CannotFail { .. }) => assert!(!row.may_fail, "{}", row.name),
                Err(e) => panic!("{} from {}: {e}", row.name, from.name),
            }
            assert_eq!(sim.engine.armed_fault(CpuId(1)), Ok(None));
        }
    }
    // Both verdicts occur: the sweep is not vacuous.
    assert!(
        accepted > 20 && refused > 5,
        "{accepted} accepted, {refused} refused"
    );
}
