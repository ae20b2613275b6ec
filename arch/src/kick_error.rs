//! Why a kick did not bring an AP up: the errors of `smp::kick_start`,
//! `smp::wait_alive` and `smp::kick`, in one
//! place that both the kicker and the AP's failure word (`ap_failure`)
//! name. Owns only the error and its text.

use crate::install::InstallError;
use crate::percpu::ArchStage;
use crate::ApicId;

/// Why a kick failed. Either way the CPU is left down: it got INIT, or
/// (a refusal) nothing was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickError {
    /// Never ran a trampoline instruction, even after two SIPIs.
    NoStartup,
    /// Ran the trampoline but never reported alive from the kernel.
    NotAlive,
    /// The reported APIC id differs from the one we kicked.
    WrongApicId {
        /// The APIC id that was kicked.
        expected: ApicId,
        /// The APIC id the AP found in its own hardware.
        found: ApicId,
    },
    /// The AP could not enable its LAPIC.
    ApicInit,
    /// The AP could not install its per-CPU area.
    Install(InstallError),
    /// SMP was not initialised (no trampoline).
    NoTrampoline,
    /// `wait_alive` of a CPU with no kick outstanding (never kicked, or
    /// already waited for or cancelled; its stage now): nothing was sent.
    NotKicked(ArchStage),
    /// The area's CPU is not down (it is being kicked or runs kernel code):
    /// INIT would cut it off mid-flight.
    NotDown(ArchStage),
    /// The CPU's APIC id is beyond what this LAPIC mode can address (xAPIC:
    /// 254): a truncated id would start another CPU.
    Unaddressable(ApicId),
    /// The area is the running CPU's own (or has its APIC id): a CPU cannot
    /// kick itself.
    CurrentCpu,
    /// Another area (this logical CPU index) records the same APIC id and
    /// is not down: the INIT would hit that running CPU.
    ApicIdInUse(usize),
}

impl core::fmt::Display for KickError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KickError::NoStartup => write!(f, "no response to INIT-SIPI-SIPI"),
            KickError::NotAlive => write!(f, "started but never reported alive"),
            KickError::WrongApicId { expected, found } => {
                write!(f, "answered with APIC id {found}, expected {expected}")
            }
            KickError::ApicInit => write!(f, "could not enable its local APIC"),
            KickError::Install(e) => write!(f, "could not install its per-CPU area: {e}"),
            KickError::NoTrampoline => write!(f, "no AP trampoline installed"),
            KickError::NotKicked(stage) => {
                write!(f, "no kick of the CPU to wait for ({})", stage.name())
            }
            KickError::Unaddressable(id) => {
                write!(
                    f,
                    "APIC id {id} cannot be addressed in xAPIC mode (254 at most)"
                )
            }
            KickError::NotDown(stage) => write!(f, "the CPU is not down ({})", stage.name()),
            KickError::CurrentCpu => write!(f, "a CPU cannot kick itself"),
            KickError::ApicIdInUse(index) => {
                write!(f, "its APIC id belongs to cpu{index}, which is up")
            }
        }
    }
}
