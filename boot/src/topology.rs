//! QEMU's `-smp` topology and the x86 APIC ids it implies.
//!
//! Owns one question: given the string passed to `-smp`, which APIC id does
//! QEMU give each possible CPU, in QEMU's CPU order? Tests use the answer as
//! the expected `cpus` table, so it must follow QEMU and never the kernel.
//!
//! The rules mirror QEMU >= 6.2 (`hw/core/machine-smp.c`,
//! `machine_parse_smp_config`, and `include/hw/i386/topology.h`):
//! - omitted levels above the socket (dies, modules) default to 1;
//! - with only a CPU count, QEMU prefers cores over sockets: 1 socket,
//!   N cores, 1 thread; missing counts are derived from `maxcpus`;
//! - the APIC id packs thread, core, module, die and socket ids, each level
//!   `ceil(log2(count))` bits wide.
//!
//! x86 machines reject `clusters` > 1 (QEMU: "clusters > 1 not supported by
//! this machine's CPU topology") and have no books or drawers; so do we.
//!
//! Reading the string (`SmpTopology: FromStr`, [`parse::TopologyError`])
//! lives in [`parse`]; this file turns the resolved counts into APIC ids.

pub mod parse;

/// A fully resolved `-smp` configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmpTopology {
    /// CPUs present at boot (`cpus=`).
    pub cpus: u32,
    /// Possible CPUs, present or hot-pluggable (`maxcpus=`).
    pub max_cpus: u32,
    /// Sockets; the highest level, so the socket id takes the APIC id's
    /// top bits.
    pub sockets: u32,
    /// Dies per socket (1 unless `dies=` was given).
    pub dies: u32,
    /// Modules per die (1 unless `modules=` was given).
    pub modules: u32,
    /// Cores per module.
    pub cores: u32,
    /// Threads per core; the thread id takes the APIC id's lowest bits.
    pub threads: u32,
}

impl SmpTopology {
    /// APIC id of QEMU's CPU `index` (0-based, `index < max_cpus`).
    ///
    /// Mirrors `x86_topo_ids_from_idx` and `x86_apicid_from_topo_ids`.
    pub fn apic_id(&self, index: u32) -> u32 {
        assert!(index < self.max_cpus, "CPU index {index} out of range");
        let thread = index % self.threads;
        let core = index / self.threads % self.cores;
        let module = index / (self.threads * self.cores) % self.modules;
        let die = index / (self.threads * self.cores * self.modules) % self.dies;
        let socket = index / (self.threads * self.cores * self.modules * self.dies);

        let thread_bits = id_width(self.threads);
        let core_bits = id_width(self.cores);
        let module_bits = id_width(self.modules);
        let die_bits = id_width(self.dies);

        let core_shift = thread_bits;
        let module_shift = core_shift + core_bits;
        let die_shift = module_shift + module_bits;
        let socket_shift = die_shift + die_bits;
        (socket << socket_shift)
            | (die << die_shift)
            | (module << module_shift)
            | (core << core_shift)
            | thread
    }

    /// APIC ids of every possible CPU, in QEMU's (and the MADT's) order.
    pub fn apic_ids(&self) -> Vec<u32> {
        (0..self.max_cpus).map(|i| self.apic_id(i)).collect()
    }
}

/// Bits needed to number `count` ids at one topology level
/// (QEMU's `apicid_bitwidth_for_count`).
fn id_width(count: u32) -> u32 {
    debug_assert!(count >= 1);
    u32::BITS - (count - 1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::parse::tests::topo;

    #[test]
    fn single_cpu() {
        assert_eq!(topo("1").apic_ids(), [0]);
        assert_eq!(topo("cpus=1").apic_ids(), [0]);
    }

    #[test]
    fn sockets_pad_core_ids_to_a_power_of_two() {
        assert_eq!(topo("6,sockets=2,cores=3").apic_ids(), [0, 1, 2, 4, 5, 6]);
    }

    #[test]
    fn threads_take_the_low_bits() {
        let t = topo("12,sockets=2,cores=3,threads=2");
        assert_eq!(t.apic_ids(), [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
    }

    #[test]
    fn dies_and_modules() {
        // 2 dies x 3 modules x 1 core: module needs 2 bits, die 1 bit.
        let t = topo("6,dies=2,modules=3,cores=1");
        assert_eq!(t.apic_ids(), [0, 1, 2, 4, 5, 6]);
        let t = topo("16,sockets=2,dies=2,cores=2,threads=2");
        assert_eq!(t.apic_ids(), (0..16).collect::<Vec<_>>());
    }

    #[test]
    fn large_x2apic_configuration_exceeds_255() {
        let ids = topo("288").apic_ids();
        assert_eq!(ids.len(), 288);
        assert_eq!(ids[287], 287);
        assert!(ids.iter().any(|&id| id > 255));
    }

    #[test]
    fn hotpluggable_sockets() {
        let t = topo("2,sockets=4,cores=1,maxcpus=4");
        assert_eq!((t.cpus, t.max_cpus), (2, 4));
        assert_eq!(t.apic_ids(), [0, 1, 2, 3]);
        let t = topo("3,sockets=2,cores=3,maxcpus=6");
        assert_eq!(t.apic_ids(), [0, 1, 2, 4, 5, 6]);
    }
}
