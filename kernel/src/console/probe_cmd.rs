//! `probe <cpus>`: kick CPUs the firmware marked not present, outside the
//! state machine (`smp_boot::probe`), to show that a CPU that never
//! answers costs one deadline and nothing else.
//!
//! A list is refused whole if it names a present CPU; otherwise each member
//! is kicked in turn and gets one line. It owns only the console's side.

use super::cpu_list::{self, Members, Named, Scope};
use hotplug::CpuId;
use shell::{CpuList, CpuSet};

/// `probe all`: every CPU the firmware marked not present that the boot
/// CPU's APIC mode can reach.
const NOT_PRESENT: Scope = Scope {
    includes: |entry| !entry.is_present() && entry.addressable(),
    what: "CPU marked not present",
};

/// Kicks each CPU of a list in turn (each costs a deadline); a list naming
/// a present CPU is refused before any kick.
pub fn run(cpus: CpuList) {
    let set = match cpu_list::resolve(cpus, &NOT_PRESENT) {
        Ok(Members::One(cpu)) => {
            match probe_one(cpu) {
                Ok(()) => println!("ok: {cpu} answered and was put back into wait-for-SIPI"),
                Err(e) => println!("error: {cpu}: {e}"),
            }
            return;
        }
        Ok(Members::Many(set)) => set,
        Err(refusal) => return println!("error: {refusal}"),
    };
    let present: CpuSet = (set.iter())
        .filter(|c| crate::cpus::get(CpuId(*c)).is_some_and(|e| e.is_present()))
        .collect();
    if !present.is_empty() {
        return println!("error: {}: present: use online", Named(&present));
    }
    let mut silent = CpuSet::new();
    for cpu in set.iter().map(CpuId) {
        match probe_one(cpu) {
            Ok(()) => println!("{cpu}: answered and was put back into wait-for-SIPI"),
            Err(e) => {
                println!("{cpu}: {e}");
                silent.insert(cpu.0);
            }
        }
    }
    match silent.is_empty() {
        true => println!(
            "ok: {} answered and were put back into wait-for-SIPI",
            Named(&set)
        ),
        false => println!("error: {} did not start (left offline)", Named(&silent)),
    }
}

/// One probe; the error says how long it took and that the CPU stays
/// offline.
fn probe_one(cpu: CpuId) -> Result<(), alloc::string::String> {
    let start = arch::time::now_ns();
    crate::smp_boot::probe(cpu).map_err(|e| {
        let ms = (arch::time::now_ns() - start) / 1_000_000;
        alloc::format!("{e} (after {ms} ms; left offline)")
    })
}
