//! The console's commands: the one list that `help`, the parser, the
//! kernel's handler table and the README's console table all follow.
//!
//! Adding a command here without a handler in the kernel's table
//! (`kernel/src/console/commands.rs`) does not compile, and adding it
//! without a README row fails `tests/readme.rs`. This module holds data
//! only: no parsing, no kernel calls.

use crate::spec::{ArgKind, ArgSpec, CommandSpec};

/// Most cycles per AP one `bench` run may do.
pub const MAX_BENCH_CYCLES: u32 = 1000;

/// Most operations one `torture` run may do.
pub const MAX_TORTURE_OPS: u32 = 1_000_000;

/// Latest deadline `timer` may arm, in milliseconds from now.
pub const MAX_TIMER_MS: u32 = 60_000;

/// What `trace` may be asked to do.
pub const TRACE_ACTIONS: [&str; 6] = ["on", "off", "clear", "dump", "mark", "cost"];

/// How APs find their LAPIC timer rate (`calibrate`): take the boot
/// CPU's after a short check, or calibrate fully on every online.
pub const CALIBRATE_MODES: [&str; 2] = ["shared", "each"];

/// The device interrupts the kernel routes (`irq`).
pub const IRQ_LINES: [&str; 2] = ["sci", "serial"];

/// Where a command may apply to each of several CPUs.
const CPUS: ArgSpec = ArgSpec::required("cpus", ArgKind::CpuList);
const STATE: ArgSpec = ArgSpec::required("state", ArgKind::State);

/// Every command, in `help` order.
pub const COMMANDS: [CommandSpec; 26] = [
    CommandSpec {
        name: "help",
        args: &[],
        help: "this list",
    },
    CommandSpec {
        name: "cpus",
        args: &[],
        help: "every possible CPU: number, APIC id, state, presence, APIC mode; then the online, present and possible lists",
    },
    CommandSpec {
        name: "states",
        args: &[],
        help: "the hotplug state table, in bring-up order",
    },
    CommandSpec {
        name: "online",
        args: &[CPUS],
        help: "bring CPUs all the way up (a list such as 1-3,5, or all: every present CPU)",
    },
    CommandSpec {
        name: "offline",
        args: &[CPUS],
        help: "take CPUs all the way down (they park; all: every online CPU but the boot CPU)",
    },
    CommandSpec {
        name: "target",
        args: &[CPUS, STATE],
        help: "move CPUs up or down to a state (name or index)",
    },
    CommandSpec {
        name: "fail",
        args: &[CPUS, ArgSpec::required("state", ArgKind::StateOrNone)],
        help: "make that state's callback fail once on those CPUs; none disarms",
    },
    CommandSpec {
        name: "hang",
        args: &[CPUS, ArgSpec::required("state", ArgKind::StateOrNone)],
        help: "make that AP state's callback hang once on those CPUs (forced offline); none disarms",
    },
    CommandSpec {
        name: "register",
        args: &[ArgSpec::required("name", ArgKind::NewStateName)],
        help: "add a demo state (counts its calls per CPU) before `online`",
    },
    CommandSpec {
        name: "unregister",
        args: &[ArgSpec::required("name", ArgKind::StateName)],
        help: "remove a demo state",
    },
    CommandSpec {
        name: "autoonline",
        args: &[ArgSpec::optional("setting", ArgKind::Switch)],
        help: "whether a hot-added CPU comes online at once (default on); no argument shows it",
    },
    CommandSpec {
        name: "smt",
        args: &[ArgSpec::optional("setting", ArgKind::Switch)],
        help: "SMT control (Linux's smt/control): off takes every secondary thread offline and keeps it so, on brings them back; no argument shows on, off or notsupported",
    },
    CommandSpec {
        name: "threads",
        args: &[],
        help: "every kernel thread: id, name, CPU, state",
    },
    CommandSpec {
        name: "timers",
        args: &[],
        help: "every possible CPU: pending timers, timer interrupts taken",
    },
    CommandSpec {
        name: "timer",
        args: &[
            CPUS,
            ArgSpec::required(
                "ms",
                ArgKind::Count {
                    what: "delay in ms",
                    min: 1,
                    max: MAX_TIMER_MS,
                },
            ),
        ],
        help: "debug: arm a timer on each of those CPUs from here and wait until they fire",
    },
    CommandSpec {
        name: "spawn",
        args: &[ArgSpec::required(
            "n",
            ArgKind::Count {
                what: "thread count",
                min: 0,
                max: u32::MAX,
            },
        )],
        help: "start n unbound demo threads (sleep on timers, count wakeups)",
    },
    CommandSpec {
        name: "stop",
        args: &[],
        help: "demo threads exit after their current sleep",
    },
    CommandSpec {
        name: "work",
        args: &[],
        help: "demo totals: timers armed and fired, wakeups counted",
    },
    CommandSpec {
        name: "crash",
        args: &[
            ArgSpec::required("cpu", ArgKind::Cpu),
            ArgSpec::optional("stack", ArgKind::Keyword("stack")),
        ],
        help: "debug: an exception on that CPU, or a thread there overflowing its stack (one CPU: the first crash ends the machine)",
    },
    CommandSpec {
        name: "probe",
        args: &[CPUS],
        help: "debug: kick CPUs the firmware marked not present (expect timeouts; all: every such CPU)",
    },
    CommandSpec {
        name: "torture",
        args: &[
            ArgSpec::required(
                "ops",
                ArgKind::Count {
                    what: "operation count",
                    min: 1,
                    max: MAX_TORTURE_OPS,
                },
            ),
            ArgSpec::optional("seed", ArgKind::Seed),
            ArgSpec::optional(
                "hang-every",
                ArgKind::Count {
                    what: "hang interval",
                    min: 1,
                    max: MAX_TORTURE_OPS,
                },
            ),
        ],
        help: "random online/offline/target with random faults (and hangs), under load; checks nothing is lost",
    },
    CommandSpec {
        name: "bench",
        args: &[ArgSpec::optional(
            "cycles",
            ArgKind::Count {
                what: "cycle count",
                min: 1,
                max: MAX_BENCH_CYCLES,
            },
        )],
        help: "time offline/online cycles on every AP, with each state's median",
    },
    CommandSpec {
        name: "calibrate",
        args: &[ArgSpec::optional(
            "mode",
            ArgKind::OneOf(&CALIBRATE_MODES),
        )],
        help: "LAPIC timer rate of an AP coming online: cpu0's after a check (shared), or its own (each); no argument shows it",
    },
    CommandSpec {
        name: "trace",
        args: &[ArgSpec::optional("action", ArgKind::OneOf(&TRACE_ACTIONS))],
        help: "hotplug trace: state and event count; on, off, clear, dump the events, or mark where an operation starts",
    },
    CommandSpec {
        name: "irq",
        args: &[
            ArgSpec::optional("line", ArgKind::OneOf(&IRQ_LINES)),
            ArgSpec::optional("cpu", ArgKind::Cpu),
        ],
        help: "device interrupts and the CPU each goes to; with a line and a CPU, aim it there (one CPU: a line has one destination)",
    },
    CommandSpec {
        name: "poweroff",
        args: &[],
        help: "power the machine off (exits QEMU)",
    },
];

/// The table's own rules, checked when the crate compiles: names are
/// unique, no command takes more than [`crate::args::MAX_ARGS`] arguments, and
/// only trailing arguments are optional (otherwise a left-out middle
/// argument would shift the rest).
const _: () = {
    let mut i = 0;
    while i < COMMANDS.len() {
        let args = COMMANDS[i].args;
        assert!(
            args.len() <= crate::args::MAX_ARGS,
            "a command takes too many arguments"
        );
        let mut a = 1;
        while a < args.len() {
            assert!(
                args[a].optional || !args[a - 1].optional,
                "a required argument follows an optional one"
            );
            a += 1;
        }
        let mut j = i + 1;
        while j < COMMANDS.len() {
            assert!(
                !crate::spec::same_name(COMMANDS[i].name, COMMANDS[j].name),
                "two commands share a name"
            );
            j += 1;
        }
        i += 1;
    }
};
