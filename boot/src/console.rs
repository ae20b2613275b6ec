//! A test's handle on one QEMU guest and its serial console.
//!
//! Owns the QEMU child process, the complete serial log and the console
//! protocol: prompt `hp> `, echoed command, output lines, one status line
//! (`ok`, `ok: ...`, `error: ...`), prompt again.
//!
//! Rules it keeps for every test that uses it:
//! - every wait has a deadline;
//! - every failure (timeout, protocol error, bad status, bad exit) panics
//!   with the whole serial log and QEMU's stderr in the message;
//! - QEMU never outlives its `Console` (Drop kills it).
//!
//! It never interprets command output; `cpu_table` and the tests do.
//!
//! Held `event:` lines come between commands: after a status line, or as
//! an event block at the prompt (the prompt line erased, the lines, the
//! prompt drawn again); a block's prompt never ends a reply, and a reply
//! keeps its events apart (`event_block`).
//!
//! Capturing QEMU's pipes lives in `stream`, reading a reply's status line
//! in `reply`, the failure report (`fail`, `report`) in `report`, and
//! playing a host that stops reading in `stall`.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::qemu::{GuestExit, QemuConfig};

mod event_block;
mod reply;
mod report;
mod stall;
mod stream;
pub use event_block::{is_event_line, RAW_HIDE};
pub use reply::Reply;
use stream::SharedStream;

/// What the kernel prints when it is ready for a line.
pub const PROMPT: &str = "hp> ";

/// Default deadline for one command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Default deadline from QEMU start to the first prompt.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// A running guest. See the module docs for the failure rules.
pub struct Console {
    command_line: String,
    child: Child,
    stdin: Option<ChildStdin>,
    serial: Arc<SharedStream>,
    /// A second descriptor for the read end of the serial pipe, to resize
    /// it while the pump thread owns the first.
    serial_fd: Option<std::os::fd::OwnedFd>,
    stderr: Arc<SharedStream>,
    readers: Vec<JoinHandle<()>>,
    /// Serial bytes already consumed by prompts and replies.
    cursor: usize,
    started: Instant,
    exit: Option<ExitStatus>,
    /// Whether a failure message has already carried the log.
    log_reported: bool,
}

impl Console {
    /// Starts QEMU with piped stdio. Panics if the image is missing or QEMU
    /// cannot be started.
    pub fn start(config: &QemuConfig) -> Self {
        let command_line = config.command_line();
        if let Err(e) = config.check_image() {
            panic!("{e}\nqemu: {command_line}");
        }
        Self::spawn(config.command(), command_line)
    }

    /// Starts any process that speaks the console protocol on its stdio;
    /// `command_line` is what failure reports show. `start` is the normal
    /// way in; this one lets the console's own tests use a stand-in guest.
    pub fn spawn(mut command: Command, command_line: String) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start QEMU: {e}\nqemu: {command_line}"));
        let serial = Arc::new(SharedStream::default());
        let stderr = Arc::new(SharedStream::default());
        let stdout = child.stdout.take().expect("stdout is piped");
        let serial_fd = std::os::fd::AsFd::as_fd(&stdout).try_clone_to_owned().ok();
        let readers = vec![
            serial.clone().pump(stdout),
            stderr
                .clone()
                .pump(child.stderr.take().expect("stderr is piped")),
        ];
        Self {
            command_line,
            stdin: child.stdin.take(),
            child,
            serial,
            serial_fd,
            stderr,
            readers,
            cursor: 0,
            started: Instant::now(),
            exit: None,
            log_reported: false,
        }
    }

    /// Starts `config` and waits for the first prompt.
    pub fn boot(config: &QemuConfig) -> Self {
        let mut console = Self::start(config);
        console.wait_prompt(BOOT_TIMEOUT);
        console
    }

    /// The QEMU command line, shell-quoted.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// Time since QEMU was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The whole serial log so far, `\r` removed.
    pub fn log(&self) -> String {
        self.serial.text()
    }

    /// Waits for the first (or next unconsumed) prompt.
    pub fn wait_prompt(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        match self.next_prompt(deadline) {
            Ok(at) => self.cursor = at + PROMPT.len(),
            Err(why) => self.fail(&format!("waiting {timeout:?} for the prompt: {why}")),
        }
    }

    /// Sends `command` at a prompt and returns its reply, whatever the
    /// status. Waits for the next prompt, so the console is ready again.
    pub fn command(&mut self, command: &str, timeout: Duration) -> Reply {
        self.send_line(command);
        self.reply(command, timeout)
    }

    /// The reply to `command`, already sent (with `send_line`, perhaps
    /// among others): waits for the next prompt and reads what came before.
    pub fn reply(&mut self, command: &str, timeout: Duration) -> Reply {
        let deadline = Instant::now() + timeout;
        let prompt = match self.next_prompt(deadline) {
            Ok(at) => at,
            Err(why) => self.fail(&format!(
                "command {command:?}: waiting {timeout:?} for the prompt: {why}"
            )),
        };
        let text = {
            let stream = self.serial.lock();
            String::from_utf8_lossy(&stream.bytes[self.cursor..prompt]).into_owned()
        };
        self.cursor = prompt + PROMPT.len();
        let (clean, mut events) = event_block::strip(&text, PROMPT);
        let mut reply = Reply::parse(command, &clean).unwrap_or_else(|| {
            self.fail(&format!(
                "command {command:?}: no status line before the prompt in {text:?}"
            ))
        });
        events.append(&mut reply.events);
        reply.events = events;
        reply
    }

    /// Like `command`, and the status must be `ok` or `ok: ...`.
    pub fn expect_ok(&mut self, command: &str, timeout: Duration) -> Reply {
        let reply = self.command(command, timeout);
        if !reply.is_ok() {
            self.fail(&format!("command {command:?} failed: {}", reply.status));
        }
        reply
    }

    /// Sends `poweroff` and requires QEMU to exit with the success status.
    pub fn poweroff(&mut self, timeout: Duration) {
        // If the guest is already gone the write fails; its exit status is
        // the more useful report, so wait for it either way.
        let sent = self.try_send_line("poweroff");
        let exit = self.wait_exit(timeout);
        if exit != GuestExit::Success {
            let sent = match sent {
                Ok(()) => String::new(),
                Err(e) => format!(" (sending poweroff failed: {e})"),
            };
            self.fail(&format!(
                "poweroff: expected exit status 33, got {exit:?}{sent}"
            ));
        }
    }

    /// Waits for QEMU to exit on its own. Times out with a failure.
    pub fn wait_exit(&mut self, timeout: Duration) -> GuestExit {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.exit = Some(status);
                    self.join_readers(deadline);
                    return GuestExit::from_status(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => self.fail(&format!("QEMU still running after {timeout:?}")),
                Err(e) => self.fail(&format!("cannot wait for QEMU: {e}")),
            }
        }
    }

    /// Writes `line` and a newline to the guest's serial input.
    pub fn send_line(&mut self, line: &str) {
        if let Err(e) = self.try_send_line(line) {
            self.fail(&format!("cannot send {line:?}: {e}"));
        }
    }

    /// Writes raw bytes (no newline added) to the guest's serial input.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes).and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = sent {
            self.fail(&format!("cannot send {} raw bytes: {e}", bytes.len()));
        }
    }

    /// Everything the guest printed from the last prompt up to the next
    /// one (lossy UTF-8), which it consumes. Event blocks on the way are
    /// passed over, not taken for the prompt, and kept in the text as
    /// they came (`\n ESC [ K`, lines, the prompt and line redrawn).
    pub fn until_prompt(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let prompt = match self.next_prompt(deadline) {
            Ok(at) => at,
            Err(why) => self.fail(&format!("waiting {timeout:?} for the prompt: {why}")),
        };
        let text = {
            let stream = self.serial.lock();
            String::from_utf8_lossy(&stream.bytes[self.cursor..prompt]).into_owned()
        };
        self.cursor = prompt + PROMPT.len();
        text
    }

    fn try_send_line(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().ok_or(std::io::ErrorKind::BrokenPipe)?;
        stdin.write_all(format!("{line}\n").as_bytes())?;
        stdin.flush()
    }

    /// Finds the next prompt that ends a reply: one an event block drew
    /// again (the first after its mark) is passed over.
    fn next_prompt(&self, deadline: Instant) -> Result<usize, String> {
        let mut from = self.cursor;
        loop {
            let at = self.serial.wait_for(from, PROMPT, deadline)?;
            let redraw = {
                let stream = self.serial.lock();
                let seen = &stream.bytes[from..at];
                seen.windows(event_block::MARK.len())
                    .any(|w| w == event_block::MARK.as_bytes())
            };
            if !redraw {
                return Ok(at);
            }
            from = at + PROMPT.len();
        }
    }

    /// Records QEMU's exit status if it exits within `grace`.
    fn reap_within(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status);
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        // Already-exited children make kill() fail; that is fine.
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            self.exit = Some(status);
        }
    }

    /// Waits (bounded) until both pipes hit EOF so the log is complete.
    fn join_readers(&mut self, deadline: Instant) {
        for stream in [&self.serial, &self.stderr] {
            if !stream.wait_closed(deadline) {
                return;
            }
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stdin = None;
        if self.exit.is_none() {
            self.kill();
        }
        // A test that panicked through its own assertion still gets the log.
        if thread::panicking() && !self.log_reported {
            self.join_readers(Instant::now() + Duration::from_secs(2));
            eprintln!("{}", self.report("test failed; guest state:"));
        }
    }
}
