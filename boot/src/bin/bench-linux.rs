//! `make bench-linux`: Debian's Linux and our kernel on the same QEMU flags
//! (`-machine q35 -cpu max`, TCG), side by side, with the ratio.
//!
//! Usage: bench-linux --kernel VMLINUZ --init STATIC_INIT [--cycles N]
//!                    [--smp 4,16,64,255] [--lpj N]
//!
//! Above 64 CPUs both kernels are measured at boot only (Linux needs
//! seconds per operation there under TCG).

use std::path::PathBuf;

use boot::bench::{linux, ours, ratios, table, write_initramfs, MAX_HOTPLUG_SMP};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut kernel, mut init, mut lpj) = (None, None, None);
    let mut cycles = 10;
    let mut smps = vec![4, 16, 64, 255];
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--kernel", Some(p)) => kernel = Some(PathBuf::from(p)),
            ("--init", Some(p)) => init = Some(PathBuf::from(p)),
            ("--cycles", Some(n)) => cycles = n.parse().expect("--cycles N"),
            ("--lpj", Some(n)) => lpj = Some(n.parse().expect("--lpj N")),
            ("--smp", Some(list)) => {
                smps = list
                    .split(',')
                    .map(|n| n.parse().expect("--smp 4,16"))
                    .collect()
            }
            _ => usage(),
        }
    }
    let (Some(kernel), Some(init)) = (kernel, init) else {
        usage()
    };
    let initrd = init.with_extension("cpio");
    write_initramfs(&init, &initrd).expect("writing the initramfs");
    // Linux needs about 0.7 s per operation at 64 CPUs under TCG: above 16
    // CPUs both kernels run 2 cycles, so the whole run stays near 10 min.
    let cycles_at = |smp: u32| if smp > 16 { cycles.min(2) } else { cycles };
    let linux_rows: Vec<_> = smps
        .iter()
        .map(|&smp| linux(smp, cycles_at(smp), &kernel, &initrd, lpj))
        .collect();
    let our_rows: Vec<_> = smps.iter().map(|&smp| ours(smp, cycles_at(smp))).collect();
    println!("QEMU -machine q35 -cpu max (qemu64,+x2apic above 255), TCG, -m 2G; {cycles} offline/online cycles per AP (2 above 16 CPUs, boot only above {MAX_HOTPLUG_SMP})");
    println!(
        "Linux: {} (sysfs writes timed from a static /init){}\n",
        kernel.display(),
        lpj.map_or(String::new(), |n| format!(", lpj={n}"))
    );
    print!("{}", table(&linux_rows));
    println!("\nOurs (`bench`, TSC):\n");
    print!("{}", table(&our_rows));
    println!("\nRatio (Linux time / our time):\n");
    print!("{}", ratios(&our_rows, &linux_rows));
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-linux --kernel VMLINUZ --init STATIC_INIT [--cycles N] [--smp 4,16,64,255] [--lpj N]"
    );
    std::process::exit(2)
}
