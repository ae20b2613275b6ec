//! Why a kicked AP gave up on its own, packed into one word so the AP can
//! hand it to the kicker with a single atomic store (it may be forced down
//! with INIT at any instruction, so it cannot take a lock).
//!
//! Owns only the encoding, which is exact both ways: every failure the AP
//! can report has its own code, none is folded into another. It never
//! decides what a failure means for the kick.

use crate::install::InstallError;
use crate::kick_error::KickError;
use crate::memory::MemoryError;
use crate::ApicId;

/// What an AP reports when it cannot come up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApFailure {
    /// Its own hardware reports another APIC id than the one kicked.
    WrongApicId {
        /// The APIC id the AP found.
        found: ApicId,
    },
    /// It could not enable its LAPIC.
    ApicInit,
    /// It could not install its per-CPU area.
    Install(InstallError),
}

/// The word for "no failure reported".
pub(crate) const NONE: u64 = 0;

// Layout: kind in bits 0..8, the install error in 8..16, the memory error
// in 16..24, an APIC id in 32..64.
const WRONG_APIC_ID: u64 = 1;
const APIC_INIT: u64 = 2;
const INSTALL: u64 = 3;

const INSTALL_ALREADY_INSTALLED: u64 = 0;
const INSTALL_WRONG_CPU: u64 = 1;
const INSTALL_BOOT_CPU_NOT_ADOPTED: u64 = 2;
const INSTALL_TABLES_LOADED: u64 = 3;
const INSTALL_NO_STACKS: u64 = 4;
const INSTALL_MEMORY: u64 = 5;

impl ApFailure {
    /// The word the AP stores.
    pub(crate) fn encode(self) -> u64 {
        match self {
            ApFailure::WrongApicId { found } => WRONG_APIC_ID | apic_id_bits(found),
            ApFailure::ApicInit => APIC_INIT,
            ApFailure::Install(e) => INSTALL | install_bits(e),
        }
    }

    /// What the kicker reports for `raw`, which an AP kicked at `expected`
    /// stored; `None` for [`NONE`] or a word no AP writes.
    ///
    /// `expected` fills in the APIC id the AP compared itself against: the
    /// area's, which is the one kicked, so nothing is lost by not sending it.
    pub(crate) fn decode(raw: u64, expected: ApicId) -> Option<KickError> {
        let found = ApicId((raw >> 32) as u32);
        match raw & 0xff {
            WRONG_APIC_ID => Some(KickError::WrongApicId { expected, found }),
            APIC_INIT => Some(KickError::ApicInit),
            INSTALL => decode_install(raw, expected, found).map(KickError::Install),
            _ => None,
        }
    }
}

fn apic_id_bits(id: ApicId) -> u64 {
    u64::from(id.0) << 32
}

fn install_bits(e: InstallError) -> u64 {
    let (code, extra) = match e {
        InstallError::AlreadyInstalled => (INSTALL_ALREADY_INSTALLED, 0),
        InstallError::WrongCpu { found, .. } => (INSTALL_WRONG_CPU, apic_id_bits(found)),
        InstallError::BootCpuNotAdopted => (INSTALL_BOOT_CPU_NOT_ADOPTED, 0),
        InstallError::TablesLoaded => (INSTALL_TABLES_LOADED, 0),
        InstallError::NoStacks => (INSTALL_NO_STACKS, 0),
        InstallError::Memory(m) => (INSTALL_MEMORY, memory_code(m) << 16),
    };
    code << 8 | extra
}

fn decode_install(raw: u64, expected: ApicId, found: ApicId) -> Option<InstallError> {
    Some(match (raw >> 8) & 0xff {
        INSTALL_ALREADY_INSTALLED => InstallError::AlreadyInstalled,
        INSTALL_WRONG_CPU => InstallError::WrongCpu { expected, found },
        INSTALL_BOOT_CPU_NOT_ADOPTED => InstallError::BootCpuNotAdopted,
        INSTALL_TABLES_LOADED => InstallError::TablesLoaded,
        INSTALL_NO_STACKS => InstallError::NoStacks,
        INSTALL_MEMORY => InstallError::Memory(memory_from_code((raw >> 16) & 0xff)?),
        _ => return None,
    })
}

fn memory_code(e: MemoryError) -> u64 {
    match e {
        MemoryError::NoPhysicalMapping => 0,
        MemoryError::AlreadyInitialised => 1,
        MemoryError::OutOfFrames => 2,
        MemoryError::OutOfVirtualSpace => 3,
        MemoryError::NoFreeTopLevelSlot => 4,
        MemoryError::NoLowMemory => 5,
        MemoryError::AlreadyMapped => 6,
        MemoryError::TooManyCpus => 7,
    }
}

fn memory_from_code(code: u64) -> Option<MemoryError> {
    Some(match code {
        0 => MemoryError::NoPhysicalMapping,
        1 => MemoryError::AlreadyInitialised,
        2 => MemoryError::OutOfFrames,
        3 => MemoryError::OutOfVirtualSpace,
        4 => MemoryError::NoFreeTopLevelSlot,
        5 => MemoryError::NoLowMemory,
        6 => MemoryError::AlreadyMapped,
        7 => MemoryError::TooManyCpus,
        _ => return None,
    })
}
