//! The kernel's one hotplug engine: built over the CPU table from the
//! built-in state table, the first time anything asks for it.
//!
//! `kernel_main` builds the CPU table before anything can reach the engine
//! (it asks for it right after, through `cpuhp::init`), so the lazily built
//! engine always sees every possible CPU; nothing here can fail or panic
//! for want of initialisation.

use super::states;
use crate::cpus;
use core::time::Duration;
use hotplug::{Config, Engine, Table};
use spin::Once;

/// How long the control CPU waits for an AP to answer one request. Linux
/// waits 10 s; a healthy AP under TCG answers within milliseconds.
const AP_TIMEOUT: Duration = Duration::from_secs(2);

static ENGINE: Once<Engine> = Once::new();

/// The engine, built on first use.
pub fn engine() -> &'static Engine {
    ENGINE.call_once(build)
}

/// The engine if it exists: crash reports must not build it (they may run
/// before the CPU table, and must never allocate).
pub fn try_engine() -> Option<&'static Engine> {
    ENGINE.get()
}

fn build() -> Engine {
    let table = match Table::new(states::STATES, "online", states::DYNAMIC_SLOTS) {
        Ok(table) => table,
        // `states` asserts the same rules at compile time.
        Err(e) => unreachable!("the state table passed its compile-time check: {e}"),
    };
    let engine = Engine::new(
        table,
        cpus::all().len(),
        Config {
            ap_timeout: AP_TIMEOUT,
        },
    );
    let mut unaddressable = 0;
    for entry in cpus::all().iter().filter(|e| e.is_present()) {
        if !entry.addressable() {
            unaddressable += 1;
            continue;
        }
        // Both sides count the same table, so the CPU always exists.
        let _ = engine.mark_present(entry.cpu);
    }
    if unaddressable > 0 {
        println!(
            "cpus: {unaddressable} present CPUs have APIC ids xAPIC mode cannot address (above 254); they stay offline"
        );
    }
    engine
}
