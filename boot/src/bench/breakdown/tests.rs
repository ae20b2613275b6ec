use super::*;
use crate::trace::dump::parse_dump;

/// Two APs brought up one after the other, shaped like a real boot dump
/// (`trace dump` right after the first prompt), with a log line between.
const SEQUENTIAL: &str = "\
trace: 1000 1400 cpu0 step cpu1 cpu:prepare up ok
trace: 1400 1500 cpu0 step cpu1 threads:prepare up ok
trace: 1500 4000 cpu0 step cpu1 cpu:kick up ok
trace: 1600 1600 cpu0 init cpu1
trace: 1700 1700 cpu0 sipi cpu1
trace: 3000 3000 cpu1 alive cpu1
trace: 4100 4100 cpu0 request cpu1 1
trace: 4300 4500 cpu1 step cpu1 apic:starting up ok
trace: 4500 4900 cpu1 step cpu1 timers:starting up ok
trace: 5000 5000 cpu1 answer cpu1 1
smp: a kernel log line the console printed meanwhile
trace: 5000 5200 cpu0 step cpu2 cpu:prepare up ok
trace: 5200 5300 cpu0 step cpu2 threads:prepare up ok
trace: 5300 7300 cpu0 step cpu2 cpu:kick up ok
trace: 5400 5400 cpu0 init cpu2
trace: 5450 5450 cpu0 sipi cpu2
trace: 6450 6450 cpu2 alive cpu2
trace: 7400 7400 cpu0 request cpu2 1
trace: 7500 7700 cpu2 step cpu2 apic:starting up ok
trace: 7700 8300 cpu2 step cpu2 timers:starting up ok
trace: 8400 8400 cpu2 answer cpu2 1
";

fn events(text: &str) -> Vec<Event> {
    parse_dump(&text.lines().collect::<Vec<_>>()).expect("a well-formed dump")
}

fn state<'b>(b: &'b Breakdown, name: &str) -> &'b StateShare {
    b.states.iter().find(|s| s.state == name).expect(name)
}

#[test]
fn sums_each_state_over_the_cpus() {
    let b = breakdown(&events(SEQUENTIAL));
    assert_eq!((b.window_ns, b.cpus, b.complete), (7400, 2, 2));
    let kick = state(&b, "cpu:kick");
    assert!(kick.bp);
    // 2500 for cpu1, 2000 for cpu2: one after the other, so the wall
    // time is the sum.
    assert_eq!(
        kick.share,
        Share {
            cpus: 2,
            median_ns: 2500,
            sum_ns: 4500,
            wall_ns: 4500
        }
    );
    let timers = state(&b, "timers:starting");
    assert!(!timers.bp);
    assert_eq!((timers.share.sum_ns, timers.share.median_ns), (1000, 600));
    let names: Vec<&str> = b.states.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(
        names,
        [
            "cpu:prepare",
            "threads:prepare",
            "cpu:kick",
            "apic:starting",
            "timers:starting"
        ]
    );
    // cpu1 ends at its answer at 5000, where cpu2 starts: no gap.
    assert_eq!(b.between_cpus_ns, 0);
    // Callbacks cover everything but the request/answer gaps.
    assert_eq!(b.in_callbacks_ns, 3000 + 600 + 2300 + 800);
}

#[test]
fn the_phases_add_up_to_each_cpus_bring_up() {
    let b = breakdown(&events(SEQUENTIAL));
    let sums: Vec<u64> = b.phases.iter().map(|p| p.sum_ns).collect();
    // cpu1: 600 to INIT, 100, 1300 to alive, 1100 to the request, 200 to
    // the first AP step, 600 of AP steps, 100 to the answer; cpu2 likewise.
    assert_eq!(
        sums,
        [
            600 + 400,
            100 + 50,
            1300 + 1000,
            1100 + 950,
            200 + 100,
            600 + 800,
            100 + 100
        ]
    );
    assert_eq!(sums.iter().sum::<u64>(), 4000 + 3400);
    assert!(b
        .phases
        .iter()
        .all(|p| p.cpus == 2 && p.wall_ns == p.sum_ns));
}

#[test]
fn overlapping_cpus_count_once_in_the_wall_time() {
    // cpu2's kick starts while cpu1's is still waiting (a parallel kick).
    let text = SEQUENTIAL.replace(
        "trace: 5300 7300 cpu0 step cpu2 cpu:kick",
        "trace: 3500 5500 cpu0 step cpu2 cpu:kick",
    );
    let b = breakdown(&events(&text));
    let kick = state(&b, "cpu:kick");
    assert_eq!((kick.share.sum_ns, kick.share.wall_ns), (4500, 4000));
}

#[test]
fn the_time_between_cpus_is_what_no_cpus_bring_up_covers() {
    let text = SEQUENTIAL.replace(
        "trace: 5000 5200 cpu0 step cpu2 cpu:prepare",
        "trace: 5100 5200 cpu0 step cpu2 cpu:prepare",
    );
    let b = breakdown(&events(&text));
    assert_eq!(b.between_cpus_ns, 100);
    let sums: u64 = b.phases.iter().map(|p| p.sum_ns).sum();
    assert_eq!(sums + b.between_cpus_ns, b.window_ns);
}

#[test]
fn tracks_are_per_recording_cpu() {
    let b = breakdown(&events(SEQUENTIAL));
    let bp = &b.tracks[0];
    assert_eq!((bp.cpu, bp.busy_ns, bp.span_ns), (0, 3000 + 2300, 6300));
    let ap = &b.tracks[2];
    assert_eq!((ap.cpu, ap.busy_ns, ap.span_ns), (2, 800, 800));
}

/// A CPU whose SIPI fell out of an overflowed ring is not guessed at: it
/// is counted, but left out of the phases.
#[test]
fn a_cpu_missing_a_marker_is_left_out_of_the_phases() {
    let text = SEQUENTIAL.replace("trace: 1700 1700 cpu0 sipi cpu1\n", "");
    let b = breakdown(&events(&text));
    assert_eq!((b.cpus, b.complete), (2, 1));
    assert!(b.phases.iter().all(|p| p.cpus == 1));
    assert_eq!(state(&b, "cpu:kick").share.cpus, 2);
}

#[test]
fn teardown_steps_are_not_bring_up() {
    let text = format!("{SEQUENTIAL}trace: 9000 9900 cpu0 step cpu2 cpu:kick down ok\n");
    let b = breakdown(&events(&text));
    assert_eq!(state(&b, "cpu:kick").share.sum_ns, 4500);
}

#[test]
fn an_empty_dump_is_an_empty_breakdown() {
    let b = breakdown(&[]);
    assert_eq!((b.window_ns, b.cpus, b.in_callbacks_ns), (0, 0, 0));
    assert!(b.states.is_empty() && b.tracks.is_empty());
}
