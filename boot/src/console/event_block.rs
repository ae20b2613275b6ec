//! Event blocks: what the kernel prints when held `event:` lines arrive
//! while its prompt (and perhaps a half-typed line) is on screen. It
//! erases the prompt line (`\r ESC [ K`, the shell's `HIDE`), prints the
//! lines, and draws the prompt and the half-typed line again:
//!
//! ```text
//! hp> onl\r\x1b[Kevent: cpu5 added (APIC id 5)\r\nhp> onl
//! ```
//!
//! The serial stream keeps that erase as [`MARK`] (`\n ESC [ K`: the
//! stream has no `\r`, and nothing else the kernel sends has ESC right
//! after a line end), so a block can be told from a reply: the first
//! prompt after a mark is the block's redraw, not the end of a reply.
//! Owns finding and cutting blocks out of a reply's text; never waits.

/// How the prompt-line erase stands in the `\r`-free serial stream.
pub const MARK: &str = "\n\x1b[K";
/// The raw bytes the kernel sends for it.
pub const RAW_HIDE: &[u8] = b"\r\x1b[K";

/// Whether `line` is one the kernel prints between commands: an event,
/// or the count of events it had to drop.
pub fn is_event_line(line: &str) -> bool {
    line.starts_with("event: ")
        || (line.starts_with("console: ") && line.trim_end().ends_with(" event lines dropped"))
}

/// Cuts every event block out of `text` (from a prompt up to a later
/// one): the erased half-line before its mark, the mark, its lines and the
/// redrawn prompt go, so what is left reads as if the block never came.
/// Returns that and the block's lines, in order.
pub fn strip(text: &str, prompt: &str) -> (String, Vec<String>) {
    let mut clean = String::new();
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let (before, after) = rest.split_at(at);
        // The half-line the erase took away: after the last line end.
        let kept = before.rfind('\n').map_or("", |nl| &before[..=nl]);
        clean.push_str(kept);
        let block = &after[MARK.len()..];
        let (body, tail) = match block.find(prompt) {
            Some(p) => (&block[..p], &block[p + prompt.len()..]),
            None => (block, ""),
        };
        lines.extend(body.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        rest = tail;
    }
    clean.push_str(rest);
    (clean, lines)
}

/// Turns raw serial bytes into the stream's text: drops every `\r`, but
/// keeps each [`RAW_HIDE`] as [`MARK`]. Bytes that may begin one are held
/// back until the next chunk shows whether they do.
#[derive(Default)]
pub struct CrFilter {
    held: Vec<u8>,
}

impl CrFilter {
    /// Filters one chunk into `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for &byte in chunk {
            self.held.push(byte);
            if RAW_HIDE.starts_with(&self.held) {
                if self.held.len() == RAW_HIDE.len() {
                    out.extend_from_slice(MARK.as_bytes());
                    self.held.clear();
                }
                continue;
            }
            let held = std::mem::take(&mut self.held);
            out.extend(held[..held.len() - 1].iter().filter(|&&b| b != b'\r'));
            match byte {
                b'\r' => self.held.push(byte),
                _ => out.push(byte),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(chunks: &[&[u8]]) -> String {
        let (mut filter, mut out) = (CrFilter::default(), Vec::new());
        for chunk in chunks {
            filter.feed(chunk, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cr_goes_and_the_erase_becomes_a_mark_across_chunks() {
        assert_eq!(filtered(&[b"ok\r\nhp> "]), "ok\nhp> ");
        let raw: &[u8] = b"hp> \r\x1b[Kevent: a\r\nhp> ";
        let whole = "hp> \n\x1b[Kevent: a\nhp> ";
        for cut in 0..raw.len() {
            assert_eq!(filtered(&[&raw[..cut], &raw[cut..]]), whole, "cut at {cut}");
        }
        // The editor's own erase (after a recalled line) is no mark.
        assert_eq!(filtered(&[b"hp> ab\x1b[K\r\n"]), "hp> ab\x1b[K\n");
        assert_eq!(filtered(&[b"\r\r\x1b[K"]), MARK);
        assert_eq!(filtered(&[b"\r\x1b[D"]), "\x1b[D");
    }

    #[test]
    fn a_block_before_the_echo_is_cut_out_with_the_half_line() {
        let text = "cp\n\x1b[Kevent: cpu5 added (APIC id 5)\nevent: cpu5 online in 9 us\nhp> cpus\nCPU\nok: 3 online\n";
        let (clean, events) = strip(text, "hp> ");
        assert_eq!(clean, "cpus\nCPU\nok: 3 online\n");
        assert_eq!(
            events,
            [
                "event: cpu5 added (APIC id 5)",
                "event: cpu5 online in 9 us"
            ]
        );
    }

    #[test]
    fn text_without_blocks_is_left_alone() {
        let text = "help\nline\nok\n";
        assert_eq!(strip(text, "hp> "), (text.to_string(), vec![]));
    }

    #[test]
    fn two_blocks_and_a_log_line_before_one() {
        let text = "cpu1: note\n\n\x1b[Kevent: a\nhp> on\n\x1b[Kevent: b\nhp> online 1\nok\n";
        let (clean, events) = strip(text, "hp> ");
        assert_eq!(clean, "cpu1: note\nonline 1\nok\n");
        assert_eq!(events, ["event: a", "event: b"]);
    }

    #[test]
    fn the_erase_is_the_one_the_kernel_sends() {
        assert_eq!(RAW_HIDE, shell::HIDE);
    }

    #[test]
    fn event_lines_are_told_from_others() {
        assert!(is_event_line("event: cpu3 removed"));
        assert!(is_event_line("console: 4 event lines dropped"));
        assert!(!is_event_line("console: 4 lines dropped"));
        assert!(!is_event_line("ok: cpu3 online in 5 us"));
    }
}
