//! Bit layouts of the ACPI fixed hardware registers this crate drives
//! (ACPI 6.5 4.8): PM1 control's SCI_EN, and where GPE n's status and
//! enable bits live in a GPE block.
//!
//! Pure arithmetic, no port I/O and no `crate::` imports, so the host
//! tests compile this very file (`boot/tests/acpi_platform.rs`).

/// PM1 control, bit 0 (ACPI 6.5 4.8.3.2.1, Table 4.16): set while the
/// machine is in ACPI mode, i.e. power-management events raise the SCI
/// instead of an SMI.
pub const PM1_CNT_SCI_EN: u16 = 1 << 0;

/// Where one GPE's bits are: byte offsets from the block's start and the
/// bit within those bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpeBits {
    /// Offset of the status byte (first half of the block).
    pub status_offset: u16,
    /// Offset of the enable byte (second half of the block).
    pub enable_offset: u16,
    /// The GPE's bit in both bytes.
    pub mask: u8,
}

/// GPE `gpe` in a block of `block_len` bytes (the FADT's GPE0_BLK_LEN).
///
/// ACPI 6.5 4.8.4.1: the block is a status register followed by an enable
/// register, each half the block long; GPE n is bit n % 8 of byte n / 8 in
/// each. Status bits are write-1-to-clear. `None` if the block has no such
/// GPE (it holds `block_len / 2 * 8` of them).
pub fn gpe_bits(block_len: u8, gpe: u16) -> Option<GpeBits> {
    let half = u16::from(block_len) / 2;
    let byte = gpe / 8;
    if byte >= half {
        return None;
    }
    Some(GpeBits {
        status_offset: byte,
        enable_offset: half + byte,
        mask: 1 << (gpe % 8),
    })
}

/// How many GPEs a block of `block_len` bytes holds.
pub fn gpe_count(block_len: u8) -> u16 {
    u16::from(block_len) / 2 * 8
}

/// Offset of the enable half of a PM1 event block of `block_len` bytes
/// (ACPI 6.5 4.8.3.1: status first, enable second, each half the block).
pub fn pm1_enable_offset(block_len: u8) -> u16 {
    u16::from(block_len) / 2
}
