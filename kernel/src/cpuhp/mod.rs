//! The kernel's side of the hotplug state machine: the concrete state
//! table, the lock-step transport (IPI out, halt until answered), the AP's
//! request loop, and run-time demo states.
//!
//! The algorithm (stepping, rollback, faults, registration) is the
//! `hotplug` crate's; nothing here decides what runs when.

mod callbacks;
mod demo;
mod instance;
mod park_request;
mod states;
mod transport;

pub use demo::{demo_calls, register_demo, unregister_demo};
pub use transport::{ap_main, Kernel};

pub use instance::{engine, try_engine};

/// Builds the engine and takes the hotplug IPI. Called once on the boot
/// CPU, after the CPU table and before any AP starts.
pub fn init() {
    engine();
    transport::init();
    crate::percpu_threads::set_hotplug_body(transport::hotplug_thread_body);
}
