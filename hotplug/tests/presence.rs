//! Presence at run time (physical hot-add and hot-remove): a CPU can be
//! marked absent only while `offline`, an absent CPU refuses every move,
//! and marking it present again makes it usable as before.

mod sim;

use hotplug::{AbsentRefusal, CpuId, HotplugError, StateId};
use sim::Sim;

#[test]
fn an_offline_cpu_goes_absent_refuses_moves_and_comes_back() {
    let sim = Sim::new(3);
    sim.up(1).unwrap();
    sim.down(1).unwrap();
    sim.engine.mark_absent(CpuId(1)).unwrap();
    assert!(!sim.engine.status(CpuId(1)).unwrap().present);
    assert_eq!(sim.up(1), Err(HotplugError::CpuNotPresent(CpuId(1))));
    assert_eq!(
        sim.go(1, "offline"),
        Err(HotplugError::CpuNotPresent(CpuId(1)))
    );
    // Refused moves did not touch the CPU.
    assert_eq!(sim.state(1), "offline");

    sim.engine.mark_present(CpuId(1)).unwrap();
    sim.up(1).unwrap();
    assert_eq!(sim.state(1), "online");
    sim.down(1).unwrap();
    assert_eq!(sim.state(1), "offline");
}

#[test]
fn only_an_offline_cpu_can_go_absent() {
    let sim = Sim::new(3);
    sim.up(1).unwrap();
    let online = sim.engine.online_state();
    assert_eq!(
        sim.engine.mark_absent(CpuId(1)),
        Err(AbsentRefusal::NotOffline {
            cpu: CpuId(1),
            state: online
        })
    );
    // Resting at every intermediate state refuses too.
    let rows = sim.engine.table_rows();
    for row in rows
        .iter()
        .filter(|r| r.can_rest && r.id > StateId::OFFLINE && r.id < online)
    {
        sim.go(1, row.name).unwrap();
        assert_eq!(
            sim.engine.mark_absent(CpuId(1)),
            Err(AbsentRefusal::NotOffline {
                cpu: CpuId(1),
                state: row.id
            }),
            "at {}",
            row.name
        );
        assert!(sim.engine.status(CpuId(1)).unwrap().present);
    }
    // The boot CPU never is offline.
    assert!(matches!(
        sim.engine.mark_absent(CpuId::BOOT),
        Err(AbsentRefusal::NotOffline { .. })
    ));
    // Out of range is the engine's usual refusal.
    assert_eq!(
        sim.engine.mark_absent(CpuId(9)),
        Err(AbsentRefusal::Hotplug(HotplugError::CpuOutOfRange(CpuId(
            9
        ))))
    );
    // Still fully usable.
    sim.up(1).unwrap();
    assert_eq!(sim.state(1), "online");
}

#[test]
fn marking_an_absent_cpu_absent_again_is_harmless() {
    let sim = Sim::new(2);
    sim.engine.mark_absent(CpuId(1)).unwrap();
    sim.engine.mark_absent(CpuId(1)).unwrap();
    assert_eq!(sim.up(1), Err(HotplugError::CpuNotPresent(CpuId(1))));
    assert_eq!(
        HotplugError::CpuNotPresent(CpuId(1)).to_string(),
        "cpu1 is not present"
    );
}
