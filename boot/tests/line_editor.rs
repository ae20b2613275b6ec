//! The console's line editor over the real UART: up-arrow history recall,
//! cursor editing inside a line, Tab completion (unique, `all` for a CPU
//! list, and a list with the line re-printed), Ctrl-C, while plain lines
//! keep their plain echo.
//! Needs `make images` first.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;

const UP: &[u8] = b"\x1b[A";
const LEFT: &[u8] = b"\x1b[D";

/// Sends raw keys and returns everything up to the next prompt.
fn keys(console: &mut Console, keys: &[&[u8]]) -> String {
    console.send_bytes(&keys.concat());
    console.until_prompt(COMMAND_TIMEOUT)
}

/// The last non-empty line of `text`: the status line of a command.
fn status(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
}

/// What the first line of `text` shows once the terminal has carried out
/// the editor's cursor moves (`BS`, `ESC [ n D`, `ESC [ n C`, `ESC [ K`)
/// over it: the line as the user sees it.
fn echo(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let (mut shown, mut col) = (Vec::new(), 0usize);
    let mut chars = first.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x08' => col = col.saturating_sub(1),
            '\x1b' => {
                let mut n = String::new();
                let mut end = ' ';
                for c in chars.by_ref().skip(1) {
                    if c.is_ascii_digit() {
                        n.push(c);
                    } else {
                        end = c;
                        break;
                    }
                }
                let n = n.parse().unwrap_or(1);
                match end {
                    'D' => col = col.saturating_sub(n),
                    'C' => col += n,
                    'K' => shown.truncate(col),
                    _ => {}
                }
            }
            c => {
                if shown.len() <= col {
                    shown.resize(col + 1, ' ');
                }
                shown[col] = c;
                col += 1;
            }
        }
    }
    shown.iter().collect::<String>().trim_end().to_string()
}

#[test]
fn history_cursor_editing_and_completion_over_the_console() {
    let mut console = Console::boot(&QemuConfig::default().smp("2"));

    // History: two lines back is `cpus`, which runs again.
    let cpus = console.expect_ok("cpus", COMMAND_TIMEOUT);
    console.expect_ok("states", COMMAND_TIMEOUT);
    let again = keys(&mut console, &[UP, UP, b"\r"]);
    if echo(&again) != "cpus" || status(&again) != cpus.status {
        console.fail(&format!(
            "up, up, enter: expected `cpus` again, got {again:?}"
        ));
    }

    // Cursor editing: `onlin 1`, two left, `e` makes `online 1`.
    console.expect_ok("offline 1", COMMAND_TIMEOUT);
    let online = keys(&mut console, &[b"onlin 1", LEFT, LEFT, b"e", b"\r"]);
    if !status(&online).starts_with("ok: cpu1 online in ") {
        console.fail(&format!("edited `online 1` did not run: {online:?}"));
    }

    // Tab: a unique command name, then a state name, each with a space.
    let tabbed = keys(&mut console, &[b"cp\t\r"]);
    if echo(&tabbed) != "cpus" || !status(&tabbed).starts_with("ok: 2 online") {
        console.fail(&format!("`cp<Tab>` did not run `cpus`: {tabbed:?}"));
    }
    let moved = keys(&mut console, &[b"target 1 sched:a\t\r"]);
    if echo(&moved) != "target 1 sched:active" || !status(&moved).starts_with("ok") {
        console.fail(&format!("state name completion: {moved:?}"));
    }
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    // A CPU list argument completes `all` (at -smp 2, every AP is cpu1).
    let all = keys(&mut console, &[b"offline a\t\r"]);
    if echo(&all) != "offline all" || !status(&all).starts_with("ok: cpu1 offline in ") {
        console.fail(&format!("`all` completion: {all:?}"));
    }
    console.expect_ok("online 1", COMMAND_TIMEOUT);

    // Several matches: listed, then the prompt and the line again.
    let listed = keys(&mut console, &[b"st\t"]);
    if !listed.lines().any(|l| l.trim_end() == "states  stop") {
        console.fail(&format!(
            "`st<Tab>` did not list states and stop: {listed:?}"
        ));
    }
    let states = keys(&mut console, &[b"ates\r"]);
    if !states.starts_with("st") || !status(&states).starts_with("ok") {
        console.fail(&format!(
            "the re-printed `st` did not go on to `states`: {states:?}"
        ));
    }

    // Ctrl-C: the line goes, no status line, and the console answers.
    let cancelled = keys(&mut console, &[b"online 1\x03"]);
    if cancelled.trim_end() != "online 1^C" {
        console.fail(&format!(
            "Ctrl-C: expected `online 1^C` then a prompt, got {cancelled:?}"
        ));
    }
    let after = console.expect_ok("cpus", COMMAND_TIMEOUT);
    if !after.status.starts_with("ok: 2 online") {
        console.fail(&format!("after Ctrl-C: {}", after.status));
    }
    console.poweroff(COMMAND_TIMEOUT);
}
