//! `make bench`: our kernel under QEMU (`-machine q35 -cpu max`, TCG) with
//! several CPU counts; prints boot bring-up and online/offline medians,
//! then, in one more guest at `--detail-smp` CPUs, where the boot
//! bring-up's time goes and the set operation against single moves.
//! `make bench-big` (`--big`) boots the very large machines instead.
//!
//! Usage: bench [--cycles N] [--smp 4,16,64,255] [--detail-smp N|0]
//!              [--rounds N] [--big]
//!
//! `--detail-smp 0` skips the detail guest; `--rounds 0` keeps only its
//! boot breakdown.

use boot::bench::big::{self, BIG_MACHINES};
use boot::bench::{breakdown_table, detail, ours, set, table, MAX_HOTPLUG_SMP};

struct Args {
    cycles: u32,
    smps: Vec<u32>,
    detail_smp: u32,
    rounds: u32,
    big: bool,
}

fn main() {
    let args = parse_args();
    if args.big {
        let boots: Vec<_> = (BIG_MACHINES.iter())
            .map(|&(firmware, smp)| big::boot(firmware, smp))
            .collect();
        println!("QEMU -machine q35 -cpu qemu64,+x2apic, TCG, -m 4G; one guest at a time\n");
        print!("{}", big::table(&boots));
        for b in &boots {
            println!(
                "\n{:?} -smp {}: cpus says {:?}",
                b.firmware, b.smp, b.cpus_status
            );
        }
        return;
    }
    let rows: Vec<_> = args
        .smps
        .iter()
        .map(|&smp| ours(smp, args.cycles))
        .collect();
    let detail = (args.detail_smp > 1).then(|| detail(args.detail_smp, args.rounds, 2));
    println!(
        "QEMU -machine q35 -cpu max (qemu64,+x2apic above 255), TCG, -m 2G; bench {} cycles per AP",
        args.cycles
    );
    println!("(hotplug measured up to -smp {MAX_HOTPLUG_SMP}; above that, boot bring-up only)\n");
    print!("{}", table(&rows));
    if let Some(d) = detail {
        let smp = args.detail_smp;
        println!(
            "\n## Where the boot bring-up goes (-smp {smp}, boot trace; dropped: {})\n",
            d.dropped
        );
        print!("{}", breakdown_table(&d.breakdown, d.bringup_us));
        if let Some(report) = &d.set {
            println!(
                "\n## Set operation against single moves (-smp {smp}, `bench 2` per setting)\n"
            );
            print!("{}", set::table(report));
        }
    }
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        cycles: 10,
        smps: vec![4, 16, 64, 255],
        detail_smp: 64,
        rounds: 3,
        big: false,
    };
    let number = |v: Option<String>, what: &str| -> u32 {
        v.and_then(|n| n.parse().ok())
            .unwrap_or_else(|| usage(&format!("{what} takes a number")))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => parsed.cycles = number(args.next(), "--cycles"),
            "--detail-smp" => parsed.detail_smp = number(args.next(), "--detail-smp"),
            "--rounds" => parsed.rounds = number(args.next(), "--rounds"),
            "--big" => parsed.big = true,
            "--smp" => {
                let list = args.next().unwrap_or_default();
                parsed.smps = (list.split(','))
                    .map(|n| number(Some(n.to_owned()), "--smp"))
                    .collect()
            }
            other => usage(&format!("unknown option {other}")),
        }
    }
    parsed
}

fn usage(why: &str) -> ! {
    eprintln!("bench: {why}");
    eprintln!(
        "usage: bench [--cycles N] [--smp 4,16,64,255] [--detail-smp N|0] [--rounds N] [--big]"
    );
    std::process::exit(2)
}
