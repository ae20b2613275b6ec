//! One command's reply: the lines between the echoed command and the
//! status line. Owns the reading of the status line; never waits or talks
//! to the guest.

use super::event_block::is_event_line;

/// One command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Lines between the echoed command and the status line.
    pub lines: Vec<String>,
    /// The status line: `ok`, `ok: <summary>` or `error: <reason>`.
    pub status: String,
    /// Held `event:` lines the kernel printed with this reply: in a block
    /// at the prompt before the command was read, or after the status
    /// line (see `event_block`). Never among `lines`.
    pub events: Vec<String>,
}

impl Reply {
    /// Whether the command succeeded: the status is `ok` or `ok: <summary>`
    /// (anything else, `error: ...` included, is a failure).
    pub fn is_ok(&self) -> bool {
        self.status == "ok" || self.status.starts_with("ok: ")
    }

    /// The text after `ok: `, if any.
    pub fn summary(&self) -> Option<&str> {
        self.status.strip_prefix("ok: ")
    }

    /// The text after `error: `, if the command failed.
    pub fn error(&self) -> Option<&str> {
        self.status.strip_prefix("error: ")
    }

    /// Splits the text between a prompt and the next one. `None` when the
    /// last non-empty line is not a status line.
    pub(super) fn parse(command: &str, text: &str) -> Option<Self> {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        // The kernel echoes what we typed; anything it logged in between
        // stays in `lines`.
        if lines
            .first()
            .is_some_and(|echo| echo.trim_end().ends_with(command.trim()))
        {
            lines.remove(0);
        }
        // Held events come right after the status line.
        let mut events = Vec::new();
        while let Some(last) = lines.last() {
            if last.trim().is_empty() {
                lines.pop();
            } else if is_event_line(last) {
                events.push(lines.pop()?.trim_end().to_owned());
            } else {
                break;
            }
        }
        events.reverse();
        let status = lines.pop()?;
        let status = status.trim_end().to_owned();
        let is_status = status == "ok" || status.starts_with("ok: ") || status.starts_with("error");
        is_status.then_some(Self {
            lines,
            status,
            events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_after_the_status_line_are_set_apart() {
        let text = "cpus\nCPU APIC\nok: 1 online\nevent: cpu2 added (APIC id 2)\nevent: cpu2 online in 5 us\n";
        let reply = Reply::parse("cpus", text).unwrap();
        assert_eq!(reply.lines, ["CPU APIC"]);
        assert_eq!(reply.status, "ok: 1 online");
        assert_eq!(
            reply.events,
            [
                "event: cpu2 added (APIC id 2)",
                "event: cpu2 online in 5 us"
            ]
        );
    }

    #[test]
    fn reply_strips_echo_and_status() {
        let reply = Reply::parse("cpus", "cpus\nCPU APIC\n0 0 online\nok: 1 online\n").unwrap();
        assert_eq!(reply.lines, ["CPU APIC", "0 0 online"]);
        assert_eq!(reply.status, "ok: 1 online");
        assert!(reply.is_ok());
        assert_eq!(reply.summary(), Some("1 online"));
    }

    #[test]
    fn reply_error_status() {
        let reply = Reply::parse("frob", "frob\nerror: unknown command frob\n").unwrap();
        assert!(reply.lines.is_empty());
        assert!(!reply.is_ok());
        assert_eq!(reply.error(), Some("unknown command frob"));
    }

    #[test]
    fn reply_keeps_interleaved_log_lines() {
        let reply = Reply::parse("help", "cpu1: online\nhelp\nok\n").unwrap();
        assert_eq!(reply.lines, ["cpu1: online", "help"]);
        assert_eq!(reply.status, "ok");
    }

    #[test]
    fn reply_without_status_is_rejected() {
        assert_eq!(Reply::parse("cpus", "cpus\nCPU APIC\n"), None);
        assert_eq!(Reply::parse("cpus", ""), None);
    }
}
