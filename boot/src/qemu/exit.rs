//! What QEMU's exit status means under `isa-debug-exit`: the port the
//! kernel writes its verdict to, the statuses QEMU turns it into, and the
//! shell code a runner passes on.
//!
//! Owns only that mapping; it never starts or waits for QEMU (`console`
//! and the `run` binary do, and ask this module what the status meant).

use std::process::ExitStatus;

/// `isa-debug-exit` I/O port. The kernel writes `v` there and QEMU exits
/// with status `(v << 1) | 1`.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// QEMU exit status when the kernel wrote 0x10 (success).
pub const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;

/// QEMU exit status when the kernel wrote 0x11 (failure).
pub const EXIT_FAILURE: i32 = (0x11 << 1) | 1;

/// Shell status for a QEMU that exited 0 without going through
/// `isa-debug-exit` (reset with `-no-reboot`, e.g. a triple fault).
pub const NO_DEBUG_EXIT: i32 = 2;

/// How the guest finished, read from QEMU's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestExit {
    /// The kernel reported success through `isa-debug-exit`.
    Success,
    /// The kernel reported failure through `isa-debug-exit`.
    Failure,
    /// Any other status: QEMU error, triple fault with `-no-reboot`
    /// (status 0), or a crash.
    Other(i32),
    /// QEMU was killed by this signal.
    Signal(i32),
}

impl GuestExit {
    /// Reads QEMU's process status the way `isa-debug-exit` encodes the
    /// kernel's verdict, so callers compare outcomes instead of raw codes.
    pub fn from_status(status: ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(EXIT_SUCCESS), _) => Self::Success,
            (Some(EXIT_FAILURE), _) => Self::Failure,
            (Some(code), _) => Self::Other(code),
            (None, Some(signal)) => Self::Signal(signal),
            (None, None) => Self::Other(-1),
        }
    }

    /// Exit status for a shell: 0 for success, 1 for kernel failure, QEMU's
    /// own status otherwise, 128 + signal for a killed QEMU.
    ///
    /// QEMU's own 0 (a guest shutdown or, with `-no-reboot`, a triple fault)
    /// becomes [`NO_DEBUG_EXIT`]: only the kernel's success code may read as
    /// success.
    pub fn shell_code(self) -> i32 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Other(0) => NO_DEBUG_EXIT,
            Self::Other(code) => code,
            Self::Signal(signal) => 128 + signal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_isa_debug_exit() {
        assert_eq!(EXIT_SUCCESS, 33);
        assert_eq!(EXIT_FAILURE, 35);
        assert_eq!(GuestExit::Success.shell_code(), 0);
        assert_eq!(GuestExit::Failure.shell_code(), 1);
        assert_eq!(GuestExit::Other(0).shell_code(), NO_DEBUG_EXIT);
        assert_eq!(GuestExit::Other(1).shell_code(), 1);
        assert_eq!(GuestExit::Signal(9).shell_code(), 137);
    }
}
