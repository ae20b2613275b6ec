//! The kernel's side of the hotplug state machine: the concrete state
//! table, the lock-step transport (IPI out, halt until answered), the AP's
//! request loop, and run-time demo states.
//!
//! The algorithm (stepping, rollback, faults, registration) is the
//! `hotplug` crate's; nothing here decides what runs when.

mod callbacks;
mod demo;
mod states;
mod transport;

pub use demo::{demo_calls, register_demo, unregister_demo};
pub use transport::{ap_main, hotplug_thread_body, Kernel};

use crate::cpus;
use core::time::Duration;
use hotplug::{Config, Engine, Table};
use spin::Once;

/// How long the control CPU waits for an AP to answer one request. Linux
/// waits 10 s; a healthy AP under TCG answers within milliseconds.
const AP_TIMEOUT: Duration = Duration::from_secs(2);

static ENGINE: Once<Engine> = Once::new();

/// Builds the engine over the CPU table. Called once on the boot CPU.
pub fn init() -> &'static Engine {
    ENGINE.call_once(|| {
        let table = Table::new(states::STATES, "online", states::DYNAMIC_SLOTS)
            .expect("checked at compile time by `states`");
        let engine = Engine::new(
            table,
            cpus::all().len(),
            Config {
                ap_timeout: AP_TIMEOUT,
            },
        );
        for entry in cpus::all()
            .iter()
            .filter(|e| e.presence == arch::acpi::Presence::Present)
        {
            engine
                .mark_present(entry.cpu)
                .expect("CPU numbers come from the same table");
        }
        transport::init();
        engine
    })
}

/// The engine, if [`init`] ran (crash reports may come earlier).
pub fn try_engine() -> Option<&'static Engine> {
    ENGINE.get()
}

/// The engine; panics before [`init`].
pub fn engine() -> &'static Engine {
    ENGINE.get().expect("cpuhp::init not called")
}
