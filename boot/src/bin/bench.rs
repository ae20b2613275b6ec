//! `make bench`: our kernel under QEMU (`-machine q35 -cpu max`, TCG) with
//! several CPU counts; prints boot bring-up and online/offline medians.
//!
//! Usage: bench [--cycles N] [--smp 4,16,64,255]

use boot::bench::{ours, table, MAX_HOTPLUG_SMP};

fn main() {
    let (cycles, smps) = parse_args();
    let rows: Vec<_> = smps.iter().map(|&smp| ours(smp, cycles)).collect();
    println!("QEMU -machine q35 -cpu max (qemu64,+x2apic above 255), TCG, -m 2G; bench {cycles} cycles per AP");
    println!("(hotplug measured up to -smp {MAX_HOTPLUG_SMP}; above that, boot bring-up only)\n");
    print!("{}", table(&rows));
}

fn parse_args() -> (u32, Vec<u32>) {
    let mut args = std::env::args().skip(1);
    let mut cycles = 10;
    let mut smps = vec![4, 16, 64, 255];
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--cycles", Some(n)) => cycles = n.parse().expect("--cycles N"),
            ("--smp", Some(list)) => {
                smps = list
                    .split(',')
                    .map(|n| n.parse().expect("--smp 4,16,64"))
                    .collect()
            }
            _ => {
                eprintln!("usage: bench [--cycles N] [--smp 4,16,64,255]");
                std::process::exit(2);
            }
        }
    }
    (cycles, smps)
}
