//! What the FADT says about the ACPI fixed hardware: the SCI's interrupt,
//! the PM1 event and control blocks, the GPE0 block, SMI_CMD and
//! ACPI_ENABLE.
//!
//! A description only; [`super::fixed`] drives the registers. Only
//! `acpi::discover` makes a [`FixedHardware`], so the ports it names are
//! always the firmware's.

use acpi::address::{AddressSpace, GenericAddress};
use acpi::fadt::Fadt;
use acpi::{AcpiHandler, AcpiTables};

/// A register block in I/O space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoBlock {
    port: u16,
    len: u8,
}

impl IoBlock {
    /// The first port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Length in bytes.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Whether the block is empty (the FADT says a block is absent that way).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why the FADT's fixed hardware cannot be used.
#[derive(Debug)]
pub enum FadtError {
    /// The `acpi` crate could not read the FADT.
    Tables(acpi::AcpiError),
    /// A block is in memory space or another space this crate does not
    /// drive (it does port I/O only; QEMU's blocks are all ports).
    NotPortIo(&'static str),
    /// A block's address or length does not fit the 16-bit port space, or
    /// its length is not what the spec allows.
    BadBlock(&'static str),
}

impl core::fmt::Display for FadtError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FadtError::Tables(e) => write!(f, "FADT unreadable: {e:?}"),
            FadtError::NotPortIo(what) => write!(f, "{what} is not in I/O space"),
            FadtError::BadBlock(what) => write!(f, "{what} has a bad address or length"),
        }
    }
}

/// What the FADT says about the fixed hardware.
#[derive(Clone, Copy, Debug)]
pub struct FixedHardware {
    sci_int: u16,
    smi_cmd: Option<u16>,
    acpi_enable: u8,
    pm1a_event: IoBlock,
    pm1b_event: Option<IoBlock>,
    pm1a_control: IoBlock,
    pm1b_control: Option<IoBlock>,
    gpe0: Option<IoBlock>,
}

fn io_block(what: &'static str, gas: GenericAddress) -> Result<IoBlock, FadtError> {
    if gas.address_space != AddressSpace::SystemIo {
        return Err(FadtError::NotPortIo(what));
    }
    let len = gas.bit_width / 8;
    let port = u16::try_from(gas.address).map_err(|_| FadtError::BadBlock(what))?;
    if u32::from(port) + u32::from(len) > 0x1_0000 {
        return Err(FadtError::BadBlock(what));
    }
    Ok(IoBlock { port, len })
}

fn optional(what: &'static str, gas: Option<GenericAddress>) -> Result<Option<IoBlock>, FadtError> {
    gas.map(|g| io_block(what, g))
        .transpose()
        .map(|b| b.filter(|b| !b.is_empty()))
}

impl FixedHardware {
    /// Reads the FADT. Called by `acpi::discover` only.
    pub(crate) fn from_tables<H: AcpiHandler>(tables: &AcpiTables<H>) -> Result<Self, FadtError> {
        let fadt = tables.find_table::<Fadt>().map_err(FadtError::Tables)?;
        let fadt = fadt.get();
        let tables_err = FadtError::Tables;
        let pm1a_event = io_block("PM1a_EVT_BLK", fadt.pm1a_event_block().map_err(tables_err)?)?;
        let pm1a_control = io_block(
            "PM1a_CNT_BLK",
            fadt.pm1a_control_block().map_err(tables_err)?,
        )?;
        // ACPI 6.5 5.2.9: PM1_EVT_LEN >= 4 (two 16-bit registers here),
        // PM1_CNT_LEN >= 2.
        if pm1a_event.len != 4 {
            return Err(FadtError::BadBlock("PM1a_EVT_BLK"));
        }
        if pm1a_control.len < 2 {
            return Err(FadtError::BadBlock("PM1a_CNT_BLK"));
        }
        let smi_cmd = { fadt.smi_cmd_port };
        Ok(FixedHardware {
            sci_int: { fadt.sci_interrupt },
            smi_cmd: match smi_cmd {
                0 => None,
                port => Some(u16::try_from(port).map_err(|_| FadtError::BadBlock("SMI_CMD"))?),
            },
            acpi_enable: { fadt.acpi_enable },
            pm1a_event,
            pm1b_event: optional("PM1b_EVT_BLK", fadt.pm1b_event_block().map_err(tables_err)?)?,
            pm1a_control,
            pm1b_control: optional(
                "PM1b_CNT_BLK",
                fadt.pm1b_control_block().map_err(tables_err)?,
            )?,
            gpe0: optional("GPE0_BLK", fadt.gpe0_block().map_err(tables_err)?)?,
        })
    }

    /// SCI_INT: the SCI's ISA IRQ (or GSI on a machine without 8259s).
    pub fn sci_int(&self) -> u16 {
        self.sci_int
    }

    /// SMI_CMD, if the machine has one (none: ACPI mode is fixed).
    pub fn smi_cmd(&self) -> Option<u16> {
        self.smi_cmd
    }

    /// The value that, written to SMI_CMD, enters ACPI mode.
    pub fn acpi_enable(&self) -> u8 {
        self.acpi_enable
    }

    /// The GPE0 block, if there is one.
    pub fn gpe0(&self) -> Option<IoBlock> {
        self.gpe0
    }

    pub(crate) fn pm1_events(&self) -> impl Iterator<Item = IoBlock> {
        core::iter::once(self.pm1a_event).chain(self.pm1b_event)
    }

    pub(crate) fn pm1_controls(&self) -> impl Iterator<Item = IoBlock> {
        core::iter::once(self.pm1a_control).chain(self.pm1b_control)
    }
}
