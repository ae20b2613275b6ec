//! Why a context operation was refused. Nothing changed when one is
//! returned.

/// Why `switch_to` did not switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchError {
    /// This CPU has adopted no context, so there is nowhere to save the
    /// running code.
    NoCurrentContext,
    /// The next context has nothing to resume (vacant or retired).
    NotResumable,
    /// The next context was still running on another CPU at the deadline:
    /// that CPU never finished switching away from it.
    StillRunning,
    /// The next context was adopted on another CPU, whose stack its frames
    /// are on: only that CPU may resume it.
    WrongCpu,
    /// Other `IrqGuard`s than the one passed in are alive on this CPU:
    /// what they proved about "this CPU" would not hold after the switch.
    GuardsHeld(u32),
    /// Interrupts were on, although an `IrqGuard` was passed in.
    InterruptsEnabled,
}

impl core::fmt::Display for SwitchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SwitchError::NoCurrentContext => write!(f, "this CPU runs no adopted context"),
            SwitchError::NotResumable => write!(f, "the next context has nothing to resume"),
            SwitchError::StillRunning => {
                write!(f, "the next context is still running on another CPU")
            }
            SwitchError::WrongCpu => write!(f, "the next context belongs to another CPU"),
            SwitchError::InterruptsEnabled => write!(f, "interrupts on during a switch"),
            SwitchError::GuardsHeld(n) => {
                write!(
                    f,
                    "{n} interrupts-off guards held across a switch (1 allowed)"
                )
            }
        }
    }
}

/// Why `adopt` refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdoptError {
    /// This CPU already runs an adopted context.
    CpuBusy,
    /// The context runs on some CPU (or is being switched out of one).
    Running,
    /// The context was retired.
    Retired,
    /// The context was adopted on another CPU before.
    WrongCpu,
    /// The context holds saved frames (a thread's, or a fresh first frame)
    /// that a switch may still resume: adopting it would discard them while
    /// its stack stays in use.
    Resumable,
}

impl core::fmt::Display for AdoptError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AdoptError::CpuBusy => write!(f, "this CPU already runs a context"),
            AdoptError::Running => write!(f, "the context runs on a CPU"),
            AdoptError::Retired => write!(f, "the context was retired"),
            AdoptError::WrongCpu => write!(f, "the context belongs to another CPU"),
            AdoptError::Resumable => write!(f, "the context has saved frames to resume"),
        }
    }
}
