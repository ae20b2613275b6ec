//! What a failed test shows about its guest: the message, the QEMU
//! command line, the exit status, and the whole serial log and stderr,
//! made safe to print on a terminal.
//!
//! Owns the failure report's layout; it never decides that something
//! failed (the waits and checks in `console` do).

use std::time::{Duration, Instant};

use super::Console;
use crate::qemu::GuestExit;

impl Console {
    /// Panics with `message`, the command line, the exit status and the
    /// whole serial log and QEMU stderr.
    pub fn fail(&mut self, message: &str) -> ! {
        if self.exit.is_none() {
            // A closed console means QEMU is exiting by itself; give it a
            // moment so the report shows its real status, not our SIGKILL.
            if self.serial.lock().closed {
                self.reap_within(Duration::from_secs(2));
            }
            if self.exit.is_none() {
                self.kill();
            }
        }
        self.join_readers(Instant::now() + Duration::from_secs(2));
        self.log_reported = true;
        panic!("{}", self.report(message));
    }

    /// `message` plus everything known about this guest, for a failure.
    pub fn report(&self, message: &str) -> String {
        let serial = printable(&self.log());
        let stderr = printable(&self.stderr.text());
        let exit = match self.exit {
            Some(status) => format!("{:?} ({status})", GuestExit::from_status(status)),
            None => "still running".into(),
        };
        format!(
            "{message}\n\
             qemu: {}\n\
             elapsed: {:.1}s, exit: {exit}\n\
             ----- serial log ({} lines) -----\n{serial}\n\
             ----- qemu stderr -----\n{stderr}\n\
             ----- end -----",
            self.command_line,
            self.elapsed().as_secs_f64(),
            serial.lines().count(),
        )
    }
}

/// Escapes control characters other than newline and tab, so a log (e.g.
/// OVMF's screen-clearing sequences) cannot garble the terminal it is
/// printed on.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_terminal_controls() {
        assert_eq!(printable("a\x1b[2Jb\n\tc"), "a\\u{1b}[2Jb\n\tc");
    }
}
