//! The machine and firmware a guest boots on, as `make` variables name
//! them (`MACHINE=pc|q35`, `FIRMWARE=bios|uefi`) and as QEMU spells them.
//!
//! Owns the parsing and printing of those names and which disk image each
//! firmware boots; the command line that uses them is built in `qemu`.

use std::fmt;
use std::str::FromStr;

/// Which firmware boots the disk image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS (QEMU's default) with `bios.img`.
    Bios,
    /// OVMF with `uefi.img`.
    Uefi,
}

impl Firmware {
    /// File name of the matching image, as written by `mkimage`.
    pub fn image_name(self) -> &'static str {
        match self {
            Self::Bios => "bios.img",
            Self::Uefi => "uefi.img",
        }
    }
}

impl FromStr for Firmware {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bios" => Ok(Self::Bios),
            "uefi" => Ok(Self::Uefi),
            _ => Err(format!("unknown firmware {s:?} (expected bios or uefi)")),
        }
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bios => "bios",
            Self::Uefi => "uefi",
        })
    }
}

/// QEMU machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// i440FX + PIIX, at most 255 CPUs.
    Pc,
    /// Q35 + ICH9, needed for more than 255 CPUs.
    Q35,
}

impl FromStr for Machine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pc" => Ok(Self::Pc),
            "q35" => Ok(Self::Q35),
            _ => Err(format!("unknown machine {s:?} (expected pc or q35)")),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pc => "pc",
            Self::Q35 => "q35",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_make_variables() {
        assert_eq!("uefi".parse(), Ok(Firmware::Uefi));
        assert_eq!("pc".parse(), Ok(Machine::Pc));
        assert!("efi".parse::<Firmware>().is_err());
    }
}
