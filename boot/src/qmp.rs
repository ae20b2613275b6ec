//! A small QMP client (QEMU's JSON machine protocol) for the tests: run a
//! command and get its reply, wait for an asynchronous event.
//!
//! Owns the connection and the events that arrive while a command waits for
//! its reply (kept, so a later [`Qmp::wait_event`] still sees them). It
//! reads replies as text lines and never parses JSON beyond [`values`]:
//! QEMU writes one JSON object per line, and the tests look for a few keys.
//!
//! A reader thread turns the stream into lines, so every wait has a
//! deadline whatever the transport (a unix socket QEMU listens on, or
//! QEMU's stdio with `-qmp stdio`).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// A QMP session, capabilities negotiated.
pub struct Qmp {
    writer: Box<dyn Write + Send>,
    lines: Receiver<String>,
    /// Events read but not yet asked for, oldest first.
    events: Vec<String>,
    /// How long one command may take to answer.
    timeout: Duration,
}

impl Qmp {
    /// A session over any byte stream pair: reads QEMU's greeting and
    /// negotiates capabilities. Commands get `timeout` to answer.
    pub fn over(
        reader: impl Read + Send + 'static,
        writer: impl Write + Send + 'static,
        timeout: Duration,
    ) -> Result<Self, String> {
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut qmp = Qmp {
            writer: Box::new(writer),
            lines,
            events: Vec::new(),
            timeout,
        };
        qmp.next_line(Instant::now() + timeout)
            .map_err(|e| format!("QMP greeting: {e}"))?;
        qmp.execute_ok(r#"{"execute": "qmp_capabilities"}"#)?;
        Ok(qmp)
    }

    /// Connects to the unix socket QEMU listens on (`-qmp
    /// unix:PATH,server=on,wait=off`), retrying until `timeout` while QEMU
    /// starts.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Self, String> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(stream) => break stream,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("connect {path:?}: {e}"))
                }
                Err(_) => thread::sleep(Duration::from_millis(100)),
            }
        };
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Qmp::over(stream, writer, timeout)
    }

    fn next_line(&mut self, deadline: Instant) -> Result<String, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err("no answer before the deadline".into()),
            Err(RecvTimeoutError::Disconnected) => Err("QMP closed".into()),
        }
    }

    /// Sends `command` (one JSON object); returns its `return` or `error`
    /// line. Events read meanwhile are kept for [`Qmp::wait_event`].
    pub fn execute(&mut self, command: &str) -> Result<String, String> {
        writeln!(self.writer, "{command}").map_err(|e| format!("writing QMP: {e}"))?;
        self.writer
            .flush()
            .map_err(|e| format!("writing QMP: {e}"))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let line = self
                .next_line(deadline)
                .map_err(|e| format!("QMP {command}: {e}"))?;
            if line.contains(r#""event""#) {
                self.events.push(line);
            } else if line.contains(r#""return""#) || line.contains(r#""error""#) {
                return Ok(line);
            }
        }
    }

    /// Like [`Qmp::execute`], and an `error` reply is an `Err`.
    pub fn execute_ok(&mut self, command: &str) -> Result<String, String> {
        let reply = self.execute(command)?;
        if reply.contains(r#""error""#) {
            return Err(format!("QMP {command}: {reply}"));
        }
        Ok(reply)
    }

    /// Waits up to `timeout` for the first event named `name` for which
    /// `accept` holds (given its whole line), oldest first, and returns it;
    /// it is consumed, other events stay kept.
    pub fn wait_event(
        &mut self,
        name: &str,
        accept: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        let tag = format!(r#""event": "{name}""#);
        let matches = |line: &str| line.contains(&tag) && accept(line);
        if let Some(at) = self.events.iter().position(|l| matches(l)) {
            return Ok(self.events.remove(at));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let line = self
                .next_line(deadline)
                .map_err(|e| format!("waiting {timeout:?} for {name}: {e}"))?;
            if matches(&line) {
                return Ok(line);
            }
            if line.contains(r#""event""#) {
                self.events.push(line);
            }
        }
    }

    /// The events kept so far (read, not yet consumed by a wait).
    pub fn kept_events(&self) -> &[String] {
        &self.events
    }
}

/// The text after each `key` up to the next `"`, `,` or `}`: enough to read
/// numbers and strings out of one QMP line (`values(line, "\"status\": ")`).
pub fn values<'a>(json: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    json.match_indices(key).map(move |(at, _)| {
        let rest = &json[at + key.len()..];
        let end = rest.find(['"', ',', '}']).unwrap_or(rest.len());
        &rest[..end]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_reads_numbers_and_strings() {
        let line = r#"{"event": "ACPI_DEVICE_OST", "data": {"info": {"device": "c5", "source": 3, "status": 130}}}"#;
        assert_eq!(values(line, "\"status\": ").collect::<Vec<_>>(), ["130"]);
        assert_eq!(values(line, "\"device\": \"").collect::<Vec<_>>(), ["c5"]);
        assert_eq!(values(line, "\"nothing\": ").count(), 0);
    }

    #[test]
    fn a_session_keeps_events_that_arrive_before_their_wait() {
        // A stand-in QEMU: the greeting, the capabilities reply, then an
        // event before the reply to the next command.
        let script = concat!(
            "{\"QMP\": {}}\n",
            "{\"return\": {}}\n",
            "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"c5\"}}\n",
            "{\"return\": {}}\n",
        );
        let mut qmp =
            Qmp::over(script.as_bytes(), std::io::sink(), Duration::from_secs(5)).expect("session");
        let reply = qmp.execute(r#"{"execute": "device_del"}"#).unwrap();
        assert_eq!(reply, "{\"return\": {}}");
        let event = qmp
            .wait_event(
                "DEVICE_DELETED",
                |l| l.contains("c5"),
                Duration::from_secs(1),
            )
            .unwrap();
        assert!(event.contains("c5"));
        assert!(qmp
            .wait_event("DEVICE_DELETED", |_| true, Duration::from_millis(50))
            .is_err());
    }
}
