//! Finds one named SystemIO operation region in raw AML bytes, without
//! interpreting the AML.
//!
//! The `acpi` crate reads the tables but runs no AML here (and its AML
//! interpreter cannot run QEMU's CPU hotplug methods today: no `Notify`),
//! so the one fact needed from the DSDT, where QEMU put its CPU hotplug
//! registers, is taken from the region's declaration bytes:
//! `DefOpRegion := ExtOpPrefix OpRegionOp NameString RegionSpace
//! RegionOffset RegionLen` (ACPI 6.5 20.2.5.2), e.g. QEMU's
//! `OperationRegion (PRST, SystemIO, 0x0CD8, 0x0C)` is
//! `5B 80 'PRST' 01 0B D8 0C 0A 0C`.
//!
//! Pure, no `crate::` imports, so the host tests compile this very file
//! (`boot/tests/acpi_platform.rs`).

const EXT_OP_PREFIX: u8 = 0x5b;
const OP_REGION_OP: u8 = 0x80;
/// NameString prefixes (ACPI 6.5 20.2.2): root `\` and parent `^`.
const ROOT_CHAR: u8 = b'\\';
const PARENT_PREFIX_CHAR: u8 = b'^';
/// RegionSpace 1 (ACPI 6.5 Table 19.36).
const REGION_SPACE_SYSTEM_IO: u8 = 0x01;
/// Integer encodings a constant RegionOffset/RegionLen uses (ACPI 6.5
/// 20.2.3): ZeroOp, OneOp, OnesOp, and prefixed 1/2/4/8-byte data.
const ZERO_OP: u8 = 0x00;
const ONE_OP: u8 = 0x01;
const ONES_OP: u8 = 0xff;
const BYTE_PREFIX: u8 = 0x0a;
const WORD_PREFIX: u8 = 0x0b;
const DWORD_PREFIX: u8 = 0x0c;
const QWORD_PREFIX: u8 = 0x0e;

/// A SystemIO region's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoRegion {
    /// First port.
    pub base: u16,
    /// Length in bytes.
    pub len: u32,
}

/// The first `OperationRegion (name, SystemIO, base, len)` in `aml` whose
/// base and length are constants and whose ports fit the 16-bit I/O space.
/// `name` is the region's last name segment (a `\` or `^` prefix before it
/// is accepted, multi-segment paths are not).
pub fn find_system_io_region(aml: &[u8], name: [u8; 4]) -> Option<IoRegion> {
    (0..aml.len()).find_map(|start| region_at(aml, start, name))
}

fn region_at(aml: &[u8], start: usize, name: [u8; 4]) -> Option<IoRegion> {
    let mut at = start;
    if aml.get(at..at + 2)? != [EXT_OP_PREFIX, OP_REGION_OP] {
        return None;
    }
    at += 2;
    if aml.get(at) == Some(&ROOT_CHAR) {
        at += 1;
    }
    while aml.get(at) == Some(&PARENT_PREFIX_CHAR) {
        at += 1;
    }
    if aml.get(at..at + 4)? != name {
        return None;
    }
    at += 4;
    if *aml.get(at)? != REGION_SPACE_SYSTEM_IO {
        return None;
    }
    at += 1;
    let (base, used) = integer(aml.get(at..)?)?;
    let (len, _) = integer(aml.get(at + used..)?)?;
    let base = u16::try_from(base).ok()?;
    let len = u32::try_from(len).ok()?;
    if len == 0 || u32::from(base) + len > 0x1_0000 {
        return None;
    }
    Some(IoRegion { base, len })
}

/// A constant integer at the start of `bytes`: its value and how many
/// bytes it takes.
fn integer(bytes: &[u8]) -> Option<(u64, usize)> {
    let le = |n: usize| -> Option<(u64, usize)> {
        let data = bytes.get(1..1 + n)?;
        let value = data
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Some((value, 1 + n))
    };
    match *bytes.first()? {
        ZERO_OP => Some((0, 1)),
        ONE_OP => Some((1, 1)),
        ONES_OP => Some((u64::MAX, 1)),
        BYTE_PREFIX => le(1),
        WORD_PREFIX => le(2),
        DWORD_PREFIX => le(4),
        QWORD_PREFIX => le(8),
        _ => None,
    }
}
