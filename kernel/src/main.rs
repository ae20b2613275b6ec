//! The hotplug kernel: boot, bring up every CPU, then serve the console.
//!
//! This crate holds policy (which CPU comes up when, what a command does);
//! the hardware lives in `arch`, the state-machine algorithm in `hotplug`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

#[macro_use]
mod print;
#[macro_use]
mod percpu;
mod acpi_hotplug;
mod bench;
mod console;
mod cpuhp;
mod cpus;
mod crash;
mod demo;
mod irq_affinity;
mod lapic_rate;
mod panic;
mod percpu_threads;
mod rng;
mod sched;
mod smp_boot;
mod smt;
mod timer;
mod torture;
mod trace;
mod workqueue;

use arch::exit::{exit_qemu, ExitCode};
use bootloader_api::config::{BootloaderConfig, Mapping};
use bootloader_api::{entry_point, BootInfo};
use hotplug::CpuId;

/// Where the bootloader loads the (position-independent) kernel: fixed, so
/// that a debugger finds the ELF's symbols at their link address plus this
/// (`make debug`; `boot/src/debug.rs` keeps the same number).
const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

const BOOT_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    config.mappings.kernel_base = Mapping::FixedAddress(KERNEL_BASE);
    config.kernel_stack_size = 128 * 1024;
    config
};

entry_point!(kernel_main, config = &BOOT_CONFIG);

fn kernel_main(boot_info: &'static mut BootInfo) -> ! {
    // First of all, so that "the current CPU" means CPU 0 from here on.
    let adopted = arch::install::adopt_boot_cpu();
    // Before anything could enable interrupts.
    arch::pic::mask_all();
    arch::serial::init();
    println!("hotplug kernel: booting");
    if let Err(e) = adopted {
        fatal(format_args!("boot cpu: {e}"));
    }

    // The untouched BootInfo goes to arch first and only: its addresses are
    // trusted as the bootloader's (see `arch::memory::init`).
    let (memory, low) = arch::memory::init(boot_info, arch::smp::TRAMPOLINE_LOW_PAGES)
        .unwrap_or_else(|e| fatal(format_args!("memory: {e}")));
    println!(
        "memory: {} MiB usable, {} MiB heap, trampoline at {:#x}, heap grows to {} MiB",
        memory.usable_bytes >> 20,
        memory.heap_bytes >> 20,
        low.start().as_u64(),
        memory.heap_bound_bytes >> 20
    );

    let platform = arch::acpi::discover().unwrap_or_else(|e| fatal(format_args!("acpi: {e}")));
    let (tsc_hz, tsc_source) = arch::time::init(platform.hpet);
    println!("time: TSC {} MHz ({:?})", tsc_hz / 1_000_000, tsc_source);
    // I/O APICs masked, ACPI mode on, CPU hotplug block modern and checked
    // against the MADT; nothing routed yet. Never fatal: the line says what
    // is missing.
    let setup = arch::platform::init(platform.hardware, &platform.cpus);
    println!("acpi: {setup}");

    let table = cpus::init(&platform.cpus).unwrap_or_else(|e| fatal(format_args!("cpus: {e}")));
    println!(
        "cpus: {} possible, {} present",
        table.possible, table.present
    );

    smp_boot::init_boot_cpu().unwrap_or_else(|e| fatal(format_args!("boot cpu: {e}")));
    // As soon as the LAPIC can send IPIs: firmware's AP loops stop costing
    // host time from here on.
    smp_boot::park_firmware_aps();
    timer::init();
    sched::init();
    crash::init();
    cpuhp::init();
    if let Err(e) = bench::init() {
        fatal(format_args!("bench: {e}"));
    }
    if let Err(e) = trace::init() {
        fatal(format_args!("trace: {e}"));
    }
    percpu_threads::create(CpuId::BOOT)
        .unwrap_or_else(|e| fatal(format_args!("cpu0 threads: {e:?}")));
    percpu_threads::unpark_all(CpuId::BOOT);
    // Before any AP takes memory: on a small machine the APs are the ones
    // left offline, never the console. Bound threads start parked, so it
    // only runs once bring-up is over.
    let console = sched::spawn(
        alloc::string::String::from("console"),
        Some(CpuId::BOOT),
        console::thread_body,
        0,
    )
    .unwrap_or_else(|e| fatal(format_args!("console thread: {e}")));
    if let Err(e) = arch::smp::init(low, cpuhp::ap_main) {
        fatal(format_args!("smp: trampoline: {e}"));
    }
    arch::cpu::enable_interrupts();
    smp_boot::bring_up_all();
    // After boot bring-up, so a CPU hot-added meanwhile is an event; after
    // the console has its stack (physical hotplug is optional, the console
    // is not); before its prompt, so the `acpihp:` line comes first.
    acpi_hotplug::init(&setup);
    sched::unpark(&console);
    // The boot context is CPU 0's idle thread from here on.
    sched::idle_loop(|| false, || false);
    fatal(format_args!("cpu0 left its idle loop"))
}

/// Boot cannot continue: report and exit QEMU with the failure code.
fn fatal(what: core::fmt::Arguments) -> ! {
    println!("fatal: {what}");
    exit_qemu(ExitCode::Failure)
}
