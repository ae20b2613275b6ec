//! The kernel's `cpus` table, parsed, and what it must look like after boot.
//!
//! Owns the column layout of `cpus` (logical CPU, APIC id, state, presence,
//! APIC mode, then optional extra columns) and the boot-time expectation
//! derived from QEMU's topology. It never runs QEMU.

use crate::topology::SmpTopology;

/// State of a CPU that is fully up.
pub const ONLINE: &str = "online";
/// Presence of a CPU that QEMU started.
pub const PRESENT: &str = "present";
/// APIC mode column of a CPU that is not running.
pub const NOT_RUNNING: &str = "-";

/// One row of `cpus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuRow {
    /// Logical CPU number.
    pub cpu: u32,
    /// The APIC id the kernel found for this CPU, compared with what QEMU's
    /// topology implies.
    pub apic_id: u32,
    /// `online`, `offline` or an intermediate hotplug state name.
    pub state: String,
    /// `present`, `absent` (an empty slot, per QEMU's CPU hotplug block),
    /// `online-capable` (an empty slot by the MADT, where no block says)
    /// or `unaddressable`.
    pub presence: String,
    /// `x2apic`, `xapic` or `-`.
    pub apic_mode: String,
    /// Columns after the fifth, if the kernel prints any.
    pub extra: Vec<String>,
}

impl CpuRow {
    /// Whether the CPU is fully up (state `online`), not resting at an
    /// intermediate hotplug state or offline.
    pub fn is_online(&self) -> bool {
        self.state == ONLINE
    }

    /// Whether QEMU started this CPU at boot (`present`), as opposed to a
    /// possible CPU whose slot is empty (`absent` or `online-capable`).
    pub fn is_present(&self) -> bool {
        self.presence == PRESENT
    }
}

/// Parses the output lines of `cpus`: anything before the header line
/// (starting with `CPU`) is ignored, every line after it must be a row,
/// except the `online: <list>`-style lines (a first word ending in `:`,
/// see [`mask`]).
pub fn parse(lines: &[String]) -> Result<Vec<CpuRow>, String> {
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("CPU"))
        .ok_or("no header line starting with `CPU`")?;
    lines[header + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty() && !is_named_line(l))
        .map(|l| parse_row(l))
        .collect()
}

/// `online: 0-3` and the like: a first word that ends in `:`.
fn is_named_line(line: &str) -> bool {
    line.split_whitespace()
        .next()
        .is_some_and(|word| word.ends_with(':'))
}

/// The list `cpus` prints on its `<name>: <list>` line (`online`,
/// `present`, `possible`), as `/sys/devices/system/cpu/<name>` would hold
/// it: `Some("")` for an empty list, `None` if there is no such line.
pub fn mask(lines: &[String], name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    lines.iter().find_map(|l| {
        let rest = l.trim().strip_prefix(&prefix)?;
        (rest.is_empty() || rest.starts_with(' ')).then(|| rest.trim().to_owned())
    })
}

fn parse_row(line: &str) -> Result<CpuRow, String> {
    let mut columns = line.split_whitespace();
    let mut next = |name: &str| {
        columns
            .next()
            .map(str::to_owned)
            .ok_or_else(|| format!("row {line:?} has no {name} column"))
    };
    let number = |name: &str, text: String| {
        text.parse::<u32>()
            .map_err(|_| format!("row {line:?}: {name} {text:?} is not a decimal number"))
    };
    let cpu = number("CPU number", next("CPU number")?)?;
    let apic_id = number("APIC id", next("APIC id")?)?;
    let state = next("state")?;
    let presence = next("presence")?;
    let apic_mode = next("APIC mode")?;
    Ok(CpuRow {
        cpu,
        apic_id,
        state,
        presence,
        apic_mode,
        extra: columns.map(str::to_owned).collect(),
    })
}

/// Checks the table right after boot against QEMU's topology: one row per
/// possible CPU in QEMU's order, numbered from 0, with QEMU's APIC ids; the
/// first `cpus` present and online in a real APIC mode (`mode`, if given);
/// the rest not present, not online and not running.
pub fn check_boot(
    rows: &[CpuRow],
    topology: &SmpTopology,
    mode: Option<&str>,
) -> Result<(), String> {
    let expected_ids = topology.apic_ids();
    let ids: Vec<u32> = rows.iter().map(|r| r.apic_id).collect();
    if ids != expected_ids {
        return Err(format!(
            "APIC ids {ids:?}, expected {expected_ids:?} from {topology:?}"
        ));
    }
    let mut problems = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let mut problem = |what: String| problems.push(format!("cpu{}: {what}", row.cpu));
        if row.cpu as usize != index {
            problem(format!("logical number should be {index}"));
        }
        if (index as u32) < topology.cpus {
            if !row.is_present() || !row.is_online() {
                problem(format!(
                    "expected present and online, got {} {}",
                    row.presence, row.state
                ));
            }
            let mode_ok = match mode {
                Some(mode) => row.apic_mode == mode,
                None => row.apic_mode == "x2apic" || row.apic_mode == "xapic",
            };
            if !mode_ok {
                problem(format!(
                    "APIC mode {:?}, expected {}",
                    row.apic_mode,
                    mode.unwrap_or("x2apic or xapic")
                ));
            }
        } else if row.is_present() || row.is_online() || row.apic_mode != NOT_RUNNING {
            problem(format!(
                "hot-pluggable CPU should be absent and stopped, got {} {} {}",
                row.presence, row.state, row.apic_mode
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn parses_rows_after_header() {
        let rows = parse(&lines(
            "CPU  APIC  STATE   PRESENCE  MODE\n\
             0    0     online  present   x2apic  bsp\n\
             1    2     offline online-capable -\n",
        ))
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].extra, ["bsp"]);
        assert!(rows[0].is_online() && rows[0].is_present());
        assert_eq!(rows[1].apic_id, 2);
        assert_eq!(rows[1].presence, "online-capable");
        assert_eq!(rows[1].apic_mode, "-");
    }

    #[test]
    fn the_lists_after_the_rows_are_not_rows() {
        let text = lines(
            "CPU  APIC  STATE   PRESENCE  MODE\n\
             0    0     online  present   x2apic\n\
             1    2     offline online-capable -\n\
             online: 0\n\
             present: 0\n\
             possible: 0-1\n",
        );
        assert_eq!(parse(&text).unwrap().len(), 2);
        assert_eq!(mask(&text, "online").as_deref(), Some("0"));
        assert_eq!(mask(&text, "possible").as_deref(), Some("0-1"));
        assert_eq!(mask(&text, "offline"), None);
        assert_eq!(mask(&lines("online:"), "online").as_deref(), Some(""));
    }

    #[test]
    fn rejects_bad_tables() {
        assert!(parse(&lines("0 0 online present x2apic")).is_err());
        assert!(parse(&lines("CPU\n0 0 online present")).is_err());
        assert!(parse(&lines("CPU\nx 0 online present x2apic")).is_err());
    }

    #[test]
    fn boot_check_with_hotpluggable_cpus() {
        let topology: SmpTopology = "2,maxcpus=4".parse().unwrap();
        let rows = parse(&lines(
            "CPU APIC STATE PRESENCE MODE\n\
             0 0 online present xapic\n\
             1 1 online present xapic\n\
             2 2 offline online-capable -\n\
             3 3 offline online-capable -\n",
        ))
        .unwrap();
        assert_eq!(check_boot(&rows, &topology, Some("xapic")), Ok(()));
        assert!(check_boot(&rows, &topology, Some("x2apic")).is_err());
        assert!(check_boot(&rows[..3], &topology, None).is_err());
    }
}
