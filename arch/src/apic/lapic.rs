//! One CPU's LAPIC: the register interface behind both back ends.
//!
//! Owns the register numbers, the mode differences (ID layout, ICR
//! destination) and the fixes for the `x2apic` crate's pitfalls. It never
//! finds "the current CPU" itself: [`super`] keeps each CPU's [`Lapic`] in
//! that CPU's per-CPU area and hands it in.

mod timer;

use crate::memory::vm;
use crate::memory::MemoryError;
use crate::{vector, ApicId};
use spin::Once;
use x2apic::lapic::{LocalApic, LocalApicBuilder, TimerDivide, TimerMode};
use x86_64::registers::model_specific::Msr;
use x86_64::PhysAddr;

/// IA32_APIC_BASE (SDM Vol. 3A 11.4.4): bits 12.. hold the xAPIC MMIO base.
const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Register offsets in the xAPIC MMIO page; the x2APIC MSR is
/// `0x800 + offset / 16` (SDM Vol. 3A Table 11-6).
pub(super) const REG_TPR: u32 = 0x080;
pub(super) const REG_ESR: u32 = 0x280;
pub(super) const REG_LVT_TIMER: u32 = 0x320;
pub(super) const REG_LVT_ERROR: u32 = 0x370;
pub(super) const REG_LVT_LINT0: u32 = 0x350;
pub(super) const REG_LVT_LINT1: u32 = 0x360;
/// LVT mask bit (SDM Vol. 3A 11.5.1).
pub(super) const LVT_MASKED: u32 = 1 << 16;
/// xAPIC ID register keeps the id in bits 31:24; ICR destination likewise.
const XAPIC_ID_SHIFT: u32 = 24;
/// The xAPIC broadcast destination, and so one past the highest APIC id
/// xAPIC mode can address (SDM Vol. 3A 11.6.2.1).
const XAPIC_BROADCAST: u32 = 0xff;
/// The timer's divide configuration (SDM Vol. 3A 11.5.4): it counts the
/// timer clock divided by 16, so a one-shot reaches 68 s at QEMU's 1 GHz.
const TIMER_DIVIDE_CONFIG: TimerDivide = TimerDivide::Div16;
/// [`TIMER_DIVIDE_CONFIG`] as a number.
pub const TIMER_DIVIDE: u64 = 16;
/// How often to poll the ICR delivery-status bit before sending anyway.
const ICR_SEND_PENDING_SPINS: u32 = 100_000;

/// Which register interface the CPU's LAPIC runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApicMode {
    /// MSR interface, 32-bit APIC ids (SDM Vol. 3A 11.12).
    X2Apic,
    /// Memory-mapped interface, 8-bit APIC ids.
    XApic,
}

impl ApicMode {
    /// The name `cpus` and the boot log print.
    pub fn name(self) -> &'static str {
        match self {
            ApicMode::X2Apic => "x2apic",
            ApicMode::XApic => "xapic",
        }
    }
}

/// Why a LAPIC could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApicError {
    /// The `x2apic` crate refused the configuration; its reason.
    Build(&'static str),
    /// The xAPIC register page could not be mapped.
    Map(MemoryError),
}

impl core::fmt::Display for ApicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ApicError::Build(why) => write!(f, "LAPIC set-up refused: {why}"),
            ApicError::Map(e) => write!(f, "cannot map the xAPIC page: {e}"),
        }
    }
}

/// Virtual address of the xAPIC MMIO page (shared by all CPUs: each sees its
/// own APIC there).
static XAPIC_BASE: Once<Result<u64, ApicError>> = Once::new();

fn xapic_base() -> Result<u64, ApicError> {
    *XAPIC_BASE.call_once(|| {
        // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; reading it has
        // no side effects.
        let base = unsafe { Msr::new(IA32_APIC_BASE).read() } & APIC_BASE_ADDR_MASK;
        vm::map_mmio(PhysAddr::new(base), 1)
            .map(|v| v.as_u64())
            .map_err(ApicError::Map)
    })
}

/// One CPU's LAPIC. Only ever used on the CPU it belongs to.
pub struct Lapic {
    inner: LocalApic,
    mode: ApicMode,
    mmio: u64,
    /// The timer runs in TSC-deadline mode (absolute TSC deadlines, no
    /// calibration needed) rather than one-shot counting.
    tsc_deadline: bool,
}

impl Lapic {
    /// Enables the running CPU's LAPIC with our vectors, LINT0/1 masked and
    /// the timer stopped.
    pub(super) fn enable_here() -> Result<Lapic, ApicError> {
        let mmio = xapic_base()?;
        let tsc_deadline = crate::cpuid::has_tsc_deadline();
        let timer_mode = if tsc_deadline {
            TimerMode::TscDeadline
        } else {
            TimerMode::OneShot
        };
        let mut inner = LocalApicBuilder::new()
            .timer_vector(vector::TIMER as usize)
            .error_vector(vector::APIC_ERROR as usize)
            .spurious_vector(vector::SPURIOUS as usize)
            .timer_mode(timer_mode)
            .timer_divide(TIMER_DIVIDE_CONFIG)
            .timer_initial(0)
            .set_xapic_base(mmio)
            .build()
            .map_err(ApicError::Build)?;
        let mode = if crate::cpuid::has_x2apic() {
            ApicMode::X2Apic
        } else {
            ApicMode::XApic
        };
        // SAFETY: (1) the IDT has handlers for the timer, error and spurious
        // vectors; (2) in xAPIC mode `mmio` maps this CPU's APIC page uncached.
        unsafe { inner.enable() };
        let mut lapic = Lapic {
            inner,
            mode,
            mmio,
            tsc_deadline,
        };
        // The crate writes 0 to LINT0/LINT1, which *unmasks* them (ExtINT from
        // a stale 8259 would then arrive as vector 0). Mask them for real.
        lapic.write(REG_LVT_LINT0, LVT_MASKED);
        lapic.write(REG_LVT_LINT1, LVT_MASKED);
        Ok(lapic)
    }

    /// The register interface in use.
    pub(crate) fn mode(&self) -> ApicMode {
        self.mode
    }

    /// Whether the timer takes absolute TSC deadlines.
    pub(super) fn tsc_deadline(&self) -> bool {
        self.tsc_deadline
    }

    /// Raw register write, for the registers the crate does not expose.
    pub(super) fn write(&mut self, offset: u32, value: u32) {
        match self.mode {
            // SAFETY: `0x800 + offset/16` is the x2APIC MSR of an LVT
            // register (SDM Vol. 3A Table 11-6); masking an LVT is harmless.
            ApicMode::X2Apic => unsafe { Msr::new(0x800 + (offset >> 4)).write(u64::from(value)) },
            // SAFETY: `mmio` maps this CPU's APIC page, and `offset` is a
            // register inside it.
            ApicMode::XApic => unsafe {
                core::ptr::write_volatile((self.mmio + u64::from(offset)) as *mut u32, value)
            },
        }
    }

    /// This APIC's id from its ID register.
    pub(super) fn id(&self) -> ApicId {
        // SAFETY: reading the ID register has no side effects.
        let raw = unsafe { self.inner.id() };
        match self.mode {
            ApicMode::X2Apic => ApicId(raw),
            ApicMode::XApic => ApicId(raw >> XAPIC_ID_SHIFT),
        }
    }

    /// The ICR destination field for `apic`, or `None` if this mode cannot
    /// name it: xAPIC has 8 destination bits, and 0xff is the broadcast
    /// (SDM Vol. 3A 11.6.1), so ids above 254 would be cut to another CPU.
    pub(super) fn destination(&self, apic: ApicId) -> Option<u32> {
        match self.mode {
            ApicMode::X2Apic => Some(apic.0),
            ApicMode::XApic if apic.0 < XAPIC_BROADCAST => Some(apic.0 << XAPIC_ID_SHIFT),
            ApicMode::XApic => None,
        }
    }

    /// In xAPIC mode a new ICR write while the previous IPI is still pending
    /// may be lost; x2APIC has no such bit to wait for.
    fn wait_icr_idle(&self) {
        if self.mode == ApicMode::XApic {
            for _ in 0..ICR_SEND_PENDING_SPINS {
                // SAFETY: reading the ICR has no side effects.
                if !unsafe { self.inner.get_ipi_delivery_status() } {
                    return;
                }
                core::hint::spin_loop();
            }
        }
    }

    /// Signals end of interrupt.
    pub(super) fn end_of_interrupt(&mut self) {
        // SAFETY: called at the end of a LAPIC-delivered interrupt handler.
        unsafe { self.inner.end_of_interrupt() }
    }

    /// Sends a fixed IPI on `vector` to `dest`.
    pub(super) fn send_ipi(&mut self, dest: ApicId, vector: u8) {
        // A truncated id would reach another CPU: send nothing instead
        // (callers check `can_address` first and refuse such a CPU).
        let Some(d) = self.destination(dest) else {
            return;
        };
        self.wait_icr_idle();
        // SAFETY: our vectors all have IDT handlers on every CPU.
        unsafe { self.inner.send_ipi(vector, d) };
    }

    /// Sends INIT to `dest`, resetting it into wait-for-SIPI.
    pub(super) fn send_init(&mut self, dest: ApicId) {
        // A truncated id would reach another CPU: send nothing instead
        // (callers check `can_address` first and refuse such a CPU).
        let Some(d) = self.destination(dest) else {
            return;
        };
        self.wait_icr_idle();
        // SAFETY: INIT only resets the target CPU, which the caller has
        // decided is not running anything we need (it is offline).
        unsafe { self.inner.send_init_ipi(d) };
        self.wait_icr_idle();
    }

    /// Sends a start-up IPI making `dest` run real-mode code at `page << 12`.
    pub(super) fn send_startup(&mut self, dest: ApicId, page: u8) {
        // A truncated id would reach another CPU: send nothing instead
        // (callers check `can_address` first and refuse such a CPU).
        let Some(d) = self.destination(dest) else {
            return;
        };
        self.wait_icr_idle();
        // SAFETY: `page` holds the trampoline; SIPI is ignored by CPUs that
        // are not waiting for one.
        unsafe { self.inner.send_sipi(page, d) };
        self.wait_icr_idle();
    }
}
