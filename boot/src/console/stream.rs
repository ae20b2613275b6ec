//! One QEMU pipe (serial console or stderr) copied into memory by its own
//! thread, so a test can wait for a pattern with a deadline and still show
//! every byte in a failure report.
//!
//! Owns the bytes, the `\r` stripping (the kernel's prompt-line erase is
//! kept as `event_block::MARK`) and the waiting; it never writes to
//! the guest and never decides what a wait that ran out means (`Console`
//! does). It can also stop reading for a while ([`SharedStream::pause`]),
//! so a test can play a host that leaves QEMU's output unread.

use super::event_block::{CrFilter, MARK};
use std::io::Read;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often a paused pump looks whether it may read again.
const PAUSE_POLL: Duration = Duration::from_millis(10);

/// Bytes from one QEMU pipe, `\r` removed (but see `CrFilter`), plus
/// whether the pipe closed.
#[derive(Default)]
pub(super) struct Stream {
    pub(super) bytes: Vec<u8>,
    /// Bytes read from the pipe, `\r` included.
    pub(super) raw_len: usize,
    pub(super) closed: bool,
}

/// A `Stream` shared with the thread that fills it.
#[derive(Default)]
pub(super) struct SharedStream {
    stream: Mutex<Stream>,
    changed: Condvar,
    /// While set, the pump leaves the pipe alone: what QEMU writes stays in
    /// the pipe, and once the pipe is full QEMU's writes wait.
    paused: AtomicBool,
}

impl SharedStream {
    pub(super) fn lock(&self) -> MutexGuard<'_, Stream> {
        // A reader thread cannot panic while holding the lock, but a test
        // thread can; the data stays valid either way.
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The text so far; each prompt-line erase reads as a line end, so
    /// the event lines after it start lines of their own.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock().bytes).replace(MARK, "\n")
    }

    /// Stops (`true`) or resumes (`false`) reading the pipe. A pause takes
    /// effect before the next read: the pump waits for data with `poll` and
    /// looks at the flag before it reads, so once the guest is quiet
    /// nothing more is read while paused.
    pub(super) fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Copies `pipe` into the stream until EOF.
    pub(super) fn pump(
        self: Arc<Self>,
        mut pipe: impl Read + AsFd + Send + 'static,
    ) -> JoinHandle<()> {
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut filter = CrFilter::default();
            loop {
                if self.paused.load(Ordering::Acquire) {
                    thread::sleep(PAUSE_POLL);
                    continue;
                }
                // A pause set while we waited holds this data back too.
                if !readable(&pipe) || self.paused.load(Ordering::Acquire) {
                    continue;
                }
                let n = pipe.read(&mut buf).unwrap_or(0);
                let mut stream = self.lock();
                if n == 0 {
                    stream.closed = true;
                    self.changed.notify_all();
                    return;
                }
                stream.raw_len += n;
                filter.feed(&buf[..n], &mut stream.bytes);
                self.changed.notify_all();
            }
        })
    }

    /// Finds `pattern` at or after byte `from`; returns its byte offset.
    pub(super) fn wait_for(
        &self,
        from: usize,
        pattern: &str,
        deadline: Instant,
    ) -> Result<usize, String> {
        let needle = pattern.as_bytes();
        let mut stream = self.lock();
        let mut searched = from;
        loop {
            if let Some(at) = find(&stream.bytes[searched..], needle) {
                return Ok(searched + at);
            }
            // A match may straddle the next chunk.
            searched = stream
                .bytes
                .len()
                .saturating_sub(needle.len() - 1)
                .max(searched);
            if stream.closed {
                return Err("QEMU closed the serial console (it exited)".into());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err("timed out".into());
            }
            stream = self
                .changed
                .wait_timeout(stream, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until the pipe hits EOF; `false` if `deadline` came first.
    pub(super) fn wait_closed(&self, deadline: Instant) -> bool {
        let mut guard = self.lock();
        while !guard.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// Waits (at most [`PAUSE_POLL`]) until `pipe` has data or hit EOF. An
/// error counts as readable, so the read that follows reports it.
fn readable(pipe: &impl AsFd) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: PAUSE_POLL.as_nanos() as _,
    };
    let mut fds = [PollFd::new(pipe, PollFlags::IN)];
    poll(&mut fds, Some(&timeout)).map_or(true, |n| n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::PROMPT;

    #[test]
    fn find_locates_prompt() {
        assert_eq!(find(b"boot\nhp> ", PROMPT.as_bytes()), Some(5));
        assert_eq!(find(b"hp>", PROMPT.as_bytes()), None);
    }
}
