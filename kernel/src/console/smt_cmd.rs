//! `smt [on|off]`: shows or switches the SMT control (`crate::smt`).
//! Prints an information line, then exactly one status line.

use crate::smt::{self, SwitchError};
use alloc::vec::Vec;
use core::fmt;
use hotplug::CpuId;

/// `smt` with no argument shows the control; `on`/`off` switch it.
pub fn run(setting: Option<bool>) {
    match setting {
        None => {
            println!("smt: {}", Topology);
            println!("ok: smt {}", smt::control().name());
        }
        Some(true) => switch("on", "online", smt::enable),
        Some(false) => switch("off", "offline", smt::disable),
    }
}

/// `ok: smt off (cpu1 cpu3 offline in U us)`, or one line per member that
/// did not move and an `error:` naming them.
fn switch(word: &str, verb: &str, f: fn() -> Result<Vec<CpuId>, SwitchError>) {
    let start = arch::time::now_ns();
    let result = f();
    let us = (arch::time::now_ns() - start) / 1000;
    match result {
        Ok(members) if members.is_empty() => {
            println!("ok: smt {word} (no secondary thread is present)")
        }
        Ok(members) => println!("ok: smt {word} ({} {verb} in {us} us)", Cpus(&members)),
        Err(SwitchError::Failed(failures)) => {
            for failure in &failures {
                println!("smt: {failure}");
            }
            let cpus: Vec<CpuId> = failures.iter().map(|f| f.cpu).collect();
            println!(
                "error: smt {word}: {} did not go {verb}; smt is {}",
                Cpus(&cpus),
                smt::control().name()
            );
        }
        Err(e) => println!("error: smt {word}: {e}"),
    }
}

/// CPUs as `cpu1 cpu3 cpu5`.
struct Cpus<'a>(&'a [CpuId]);

impl fmt::Display for Cpus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, cpu) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{cpu}")?;
        }
        Ok(())
    }
}

/// What the control is built on: the thread width, the CPUID leaf it came
/// from, and the secondary threads.
struct Topology;

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match smt::layout() {
            Some(l) => write!(
                f,
                "thread bits {}, CPUID leaf {:#04x}",
                l.thread_bits, l.leaf
            )?,
            None => f.write_str("no CPUID topology leaf")?,
        }
        let secondaries = smt::secondaries();
        match secondaries.is_empty() {
            true => f.write_str("; secondary threads: none"),
            false => write!(f, "; secondary threads: {}", Cpus(&secondaries)),
        }
    }
}
