//! The markdown tables `make bench` and `make bench-linux` print, pasted
//! as they are into BENCHMARKS.md. Owns only layout: every figure comes
//! in already measured.

use super::breakdown::{Breakdown, Share, PHASES};
use super::Measurement;

/// A markdown table of one kernel's measurements.
pub fn table(rows: &[Measurement]) -> String {
    let mut out = String::from(
        "| -smp | boot AP bring-up (ms) | online median (us) | offline median (us) | QEMU start to ready (s) |\n| ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let (on, off) = row.medians.map_or(("-".into(), "-".into()), |(on, off)| {
            (on.to_string(), off.to_string())
        });
        let ready = row
            .ready_ms
            .map_or("-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        out += &format!(
            "| {} | {:.1} | {on} | {off} | {ready} |\n",
            row.smp,
            row.bringup_us as f64 / 1000.0
        );
    }
    out
}

/// Linux's time over ours, per column, as a markdown table.
pub fn ratios(ours: &[Measurement], linux: &[Measurement]) -> String {
    let mut out = String::from(
        "| -smp | boot bring-up, Linux/ours | online, Linux/ours | offline, Linux/ours | QEMU start to ready, Linux/ours |\n| ---: | ---: | ---: | ---: | ---: |\n",
    );
    let ratio = |l: u64, o: u64| {
        if o == 0 {
            "-".to_string()
        } else {
            format!("{:.0}x", l as f64 / o as f64)
        }
    };
    for (o, l) in ours.iter().zip(linux) {
        let (on, off) = match (o.medians, l.medians) {
            (Some((oo, of)), Some((lo, lf))) => (ratio(lo, oo), ratio(lf, of)),
            _ => ("-".into(), "-".into()),
        };
        let ready = match (l.ready_ms, o.ready_ms) {
            (Some(l), Some(o)) => format!("{:.1}x", l as f64 / o.max(1) as f64),
            _ => "-".into(),
        };
        out += &format!(
            "| {} | {} | {on} | {off} | {ready} |\n",
            o.smp,
            ratio(l.bringup_us, o.bringup_us)
        );
    }
    out
}

/// The boot bring-up taken apart: per phase of one CPU's bring-up, per
/// state, and per CPU track. `kernel_us` is the kernel's own figure.
pub fn breakdown_table(b: &Breakdown, kernel_us: u64) -> String {
    let window = b.window_ns.max(1) as f64;
    let ms = |ns: u64| format!("{:.2}", ns as f64 / 1e6);
    let us = |ns: u64| format!("{:.1}", ns as f64 / 1e3);
    let pct = |ns: u64| format!("{:.0}%", 100.0 * ns as f64 / window);
    let mut out = format!(
        "Kernel's boot bring-up {:.2} ms; traced window (first to last event) {} ms; \
         {} CPUs brought up, {} with every marker; some callback running {} ms ({}).\n\n",
        kernel_us as f64 / 1000.0,
        ms(b.window_ns),
        b.cpus,
        b.complete,
        ms(b.in_callbacks_ns),
        pct(b.in_callbacks_ns)
    );
    out += "Per phase of one CPU's bring-up (the phases add up to the CPU's whole bring-up; with the time between CPUs, to the window when CPUs come up one at a time):\n\n\
        | phase | CPUs | median per CPU (us) | sum (ms) | wall (ms) | of window |\n\
        | --- | ---: | ---: | ---: | ---: | ---: |\n";
    let row = |name: &str, s: &Share| {
        format!(
            "| {name} | {} | {} | {} | {} | {} |\n",
            s.cpus,
            us(s.median_ns),
            ms(s.sum_ns),
            ms(s.wall_ns),
            pct(s.wall_ns)
        )
    };
    for (name, share) in PHASES.iter().zip(&b.phases) {
        out += &row(name, share);
    }
    out += &format!(
        "| between CPUs (no CPU coming up) | | | {} | {} | {} |\n",
        ms(b.between_cpus_ns),
        ms(b.between_cpus_ns),
        pct(b.between_cpus_ns)
    );
    out += "\nPer state (bring-up callbacks; `bp`: run by another CPU for the one coming up):\n\n\
        | state | side | CPUs | median per CPU (us) | sum (ms) | wall (ms) | of window |\n\
        | --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
    for s in &b.states {
        let side = if s.bp { "bp" } else { "ap" };
        out += &row(&format!("{} | {side}", s.state), &s.share);
    }
    out += "\nPer CPU track (time in callbacks recorded on that CPU):\n\n\
        | track | busy (ms) | span (ms) | busy of window |\n| --- | ---: | ---: | ---: |\n";
    let (bp, aps): (Vec<_>, Vec<_>) = b.tracks.iter().partition(|t| t.cpu == 0);
    for t in bp {
        out += &format!(
            "| cpu0 (control) | {} | {} | {} |\n",
            ms(t.busy_ns),
            ms(t.span_ns),
            pct(t.busy_ns)
        );
    }
    if !aps.is_empty() {
        let mut busy: Vec<u64> = aps.iter().map(|t| t.busy_ns).collect();
        busy.sort_unstable();
        let sum: u64 = busy.iter().sum();
        out += &format!(
            "| {} APs: min / median / max each | {} / {} / {} | | |\n| {} APs together | {} | | {} |\n",
            aps.len(),
            ms(busy[0]),
            ms(busy[busy.len() / 2]),
            ms(busy[busy.len() - 1]),
            aps.len(),
            ms(sum),
            pct(sum)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::breakdown;
    use crate::trace::dump::parse_dump;

    #[test]
    fn the_breakdown_table_has_every_phase_and_state() {
        let dump = "\
trace: 0 100 cpu0 step cpu1 cpu:prepare up ok
trace: 100 900 cpu0 step cpu1 cpu:kick up ok
trace: 150 150 cpu0 init cpu1
trace: 200 200 cpu0 sipi cpu1
trace: 600 600 cpu1 alive cpu1
trace: 1000 1000 cpu0 request cpu1 1
trace: 1100 1300 cpu1 step cpu1 timers:starting up ok
trace: 1400 1400 cpu1 answer cpu1 1";
        let b = breakdown(&parse_dump(&dump.lines().collect::<Vec<_>>()).unwrap());
        let text = breakdown_table(&b, 2);
        for name in PHASES {
            assert!(text.contains(&format!("| {name} | 1 |")), "{name}: {text}");
        }
        assert!(
            text.contains("| cpu:kick | bp | 1 | 0.8 | 0.00 | 0.00 | 57% |"),
            "{text}"
        );
        assert!(text.contains("| timers:starting | ap | 1 |"), "{text}");
        assert!(
            text.contains("| cpu0 (control) | 0.00 | 0.00 | 64% |"),
            "{text}"
        );
        assert!(
            text.contains("| 1 APs: min / median / max each |"),
            "{text}"
        );
        assert!(
            text.contains("traced window (first to last event) 0.00 ms"),
            "{text}"
        );
    }

    #[test]
    fn ratios_are_linux_over_ours() {
        let ours = [Measurement {
            smp: 4,
            bringup_us: 10,
            medians: Some((100, 50)),
            ready_ms: Some(2000),
        }];
        let linux = [Measurement {
            smp: 4,
            bringup_us: 1000,
            medians: None,
            ready_ms: Some(5000),
        }];
        assert_eq!(
            ratios(&ours, &linux).lines().nth(2),
            Some("| 4 | 100x | - | - | 2.5x |")
        );
        assert_eq!(
            table(&ours).lines().nth(2),
            Some("| 4 | 0.0 | 100 | 50 | 2.0 |")
        );
    }
}
