//! Reading a `-smp` string the way QEMU >= 6.2 does: which keys exist,
//! what an omitted count becomes, and which combinations QEMU rejects.
//!
//! Owns `TopologyError` and the resolution of omitted counts; it never
//! computes APIC ids (the parent module does, from the resolved counts).

use std::fmt;
use std::str::FromStr;

use super::SmpTopology;

/// Why a `-smp` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopologyError {
    /// An item is not `N` (first position only) or `key=N`.
    Syntax(String),
    /// A key QEMU does not know or x86 does not support.
    UnknownKey(String),
    /// The same key was given twice.
    Duplicate(String),
    /// QEMU forbids explicit zero counts.
    Zero(String),
    /// A level x86 machines only accept as 1.
    Unsupported(String),
    /// `sockets * dies * modules * cores * threads` != `maxcpus`.
    ProductMismatch {
        /// The product of the level counts, given or derived.
        product: u32,
        /// The number of possible CPUs (`maxcpus=`, or `cpus=` without it).
        max_cpus: u32,
    },
    /// More boot CPUs than possible CPUs.
    CpusAboveMax {
        /// CPUs asked for at boot (`cpus=`).
        cpus: u32,
        /// Possible CPUs (`maxcpus=`).
        max_cpus: u32,
    },
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(item) => write!(f, "cannot parse -smp item {item:?}"),
            Self::UnknownKey(key) => write!(f, "unknown -smp key {key:?}"),
            Self::Duplicate(key) => write!(f, "-smp key {key:?} given twice"),
            Self::Zero(key) => write!(f, "-smp {key}=0 is not allowed"),
            Self::Unsupported(key) => write!(f, "-smp {key} > 1 is not supported on x86"),
            Self::ProductMismatch { product, max_cpus } => write!(
                f,
                "topology product {product} does not match maxcpus {max_cpus}"
            ),
            Self::CpusAboveMax { cpus, max_cpus } => {
                write!(f, "cpus {cpus} exceeds maxcpus {max_cpus}")
            }
        }
    }
}

impl std::error::Error for TopologyError {}

/// Counts as written on the command line; 0 means "omitted".
#[derive(Default)]
struct Given {
    cpus: u32,
    max_cpus: u32,
    sockets: u32,
    dies: u32,
    modules: u32,
    clusters: u32,
    cores: u32,
    threads: u32,
}

impl Given {
    fn slot(&mut self, key: &str) -> Result<&mut u32, TopologyError> {
        Ok(match key {
            "cpus" => &mut self.cpus,
            "maxcpus" => &mut self.max_cpus,
            "sockets" => &mut self.sockets,
            "dies" => &mut self.dies,
            "modules" => &mut self.modules,
            "clusters" => &mut self.clusters,
            "cores" => &mut self.cores,
            "threads" => &mut self.threads,
            _ => return Err(TopologyError::UnknownKey(key.to_owned())),
        })
    }
}

impl FromStr for SmpTopology {
    type Err = TopologyError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut given = Given::default();
        for (position, item) in spec.split(',').enumerate() {
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (key.trim(), value.trim()),
                None if position == 0 => ("cpus", item.trim()),
                None => return Err(TopologyError::Syntax(item.to_owned())),
            };
            let value: u32 = value
                .parse()
                .map_err(|_| TopologyError::Syntax(item.to_owned()))?;
            if value == 0 {
                return Err(TopologyError::Zero(key.to_owned()));
            }
            let slot = given.slot(key)?;
            if *slot != 0 {
                return Err(TopologyError::Duplicate(key.to_owned()));
            }
            *slot = value;
        }
        Self::resolve(given)
    }
}

impl SmpTopology {
    /// Fills in omitted counts the way QEMU >= 6.2 does.
    fn resolve(g: Given) -> Result<Self, TopologyError> {
        if g.clusters > 1 {
            return Err(TopologyError::Unsupported("clusters".into()));
        }
        let dies = g.dies.max(1);
        let modules = g.modules.max(1);
        let (mut sockets, mut cores, mut threads) = (g.sockets, g.cores, g.threads);
        let mut max_cpus = g.max_cpus;
        if g.cpus == 0 && max_cpus == 0 {
            sockets = sockets.max(1);
            cores = cores.max(1);
            threads = threads.max(1);
        } else {
            if max_cpus == 0 {
                max_cpus = g.cpus;
            }
            // Cores are preferred over sockets since QEMU 6.2.
            if cores == 0 {
                sockets = sockets.max(1);
                threads = threads.max(1);
                cores = max_cpus / (sockets * dies * modules * threads);
            } else if sockets == 0 {
                threads = threads.max(1);
                sockets = max_cpus / (dies * modules * cores * threads);
            }
            if threads == 0 {
                threads = max_cpus / (sockets * dies * modules * cores);
            }
        }
        let product = sockets
            .saturating_mul(dies)
            .saturating_mul(modules)
            .saturating_mul(cores)
            .saturating_mul(threads);
        if max_cpus == 0 {
            max_cpus = product;
        }
        let cpus = if g.cpus == 0 { max_cpus } else { g.cpus };
        if product != max_cpus {
            return Err(TopologyError::ProductMismatch { product, max_cpus });
        }
        if cpus > max_cpus {
            return Err(TopologyError::CpusAboveMax { cpus, max_cpus });
        }
        Ok(Self {
            cpus,
            max_cpus,
            sockets,
            dies,
            modules,
            cores,
            threads,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The topology `spec` resolves to; the parent's tests use it too.
    pub(crate) fn topo(spec: &str) -> SmpTopology {
        spec.parse()
            .unwrap_or_else(|e| panic!("{spec:?} rejected: {e}"))
    }

    #[test]
    fn plain_count_is_one_socket_of_cores() {
        let t = topo("4");
        assert_eq!((t.cpus, t.max_cpus), (4, 4));
        assert_eq!((t.sockets, t.cores, t.threads), (1, 4, 1));
        assert_eq!(t.apic_ids(), [0, 1, 2, 3]);
    }

    #[test]
    fn maxcpus_lists_hotpluggable_cpus() {
        let t = topo("2,maxcpus=4");
        assert_eq!((t.cpus, t.max_cpus, t.cores), (2, 4, 4));
        assert_eq!(t.apic_ids(), [0, 1, 2, 3]);
    }

    #[test]
    fn threads_derived_last() {
        let t = topo("8,sockets=2,cores=2");
        assert_eq!(t.threads, 2);
        assert_eq!(t.apic_ids(), [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn sockets_derived_when_cores_given() {
        let t = topo("6,cores=3");
        assert_eq!(t.sockets, 2);
        assert_eq!(t.apic_ids(), [0, 1, 2, 4, 5, 6]);
    }

    #[test]
    fn topology_without_cpu_count() {
        let t = topo("sockets=2,cores=3");
        assert_eq!((t.cpus, t.max_cpus), (6, 6));
    }

    #[test]
    fn rejects_what_qemu_rejects() {
        use TopologyError::*;
        let err = |s: &str| s.parse::<SmpTopology>().unwrap_err();
        assert_eq!(err("4,clusters=2"), Unsupported("clusters".into()));
        assert_eq!(err("4,books=2"), UnknownKey("books".into()));
        assert_eq!(err("0"), Zero("cpus".into()));
        assert_eq!(err("4,cores=4,cores=4"), Duplicate("cores".into()));
        assert_eq!(err("4,x"), Syntax("x".into()));
        assert_eq!(
            err("5,sockets=2,cores=2"),
            ProductMismatch {
                product: 4,
                max_cpus: 5
            }
        );
        assert_eq!(
            err("8,maxcpus=4"),
            CpusAboveMax {
                cpus: 8,
                max_cpus: 4
            }
        );
    }
}
