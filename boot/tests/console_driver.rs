//! The console driver against a stand-in guest (a shell script speaking
//! the console protocol with CRLF line ends), so its promises hold without
//! a kernel: replies are split correctly, `\r` is stripped, every wait has a
//! deadline, and every failure message carries the whole serial log.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use boot::console::Console;
use boot::qemu::GuestExit;

/// Boots (prints a log line and a prompt), then answers line by line.
const FAKE_GUEST: &str = r#"
printf 'fake kernel: booting\r\n'
printf 'hp> '
while IFS= read -r line; do
    printf '%s\r\n' "$line"
    case "$line" in
        cpus) printf 'CPU APIC STATE PRESENCE MODE\r\n0 0 online present x2apic\r\nok: 1 online\r\n' ;;
        poweroff) printf 'ok: powering off\r\n'; exit 33 ;;
        hang) sleep 30 ;;
        crash) printf 'PANIC on cpu0: oops\r\n'; exit 35 ;;
        garbage) printf 'no status here\r\n' ;;
        held) printf 'ok\r\nevent: cpu9 removed\r\n' ;;
        later) printf 'ok\r\n'
            (sleep 0.2; printf '\r\033[Kevent: cpu9 added (APIC id 9)\r\nhp> cp') & ;;
        *) printf "error: unknown command '%s'\r\n" "$line" ;;
    esac
    printf 'hp> '
done
"#;

const SHORT: Duration = Duration::from_secs(5);

fn fake_guest() -> Console {
    let mut command = Command::new("bash");
    command.args(["-c", FAKE_GUEST]);
    Console::spawn(command, "fake-guest".into())
}

thread_local! {
    /// Set while this thread runs code that is meant to panic.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, which must panic; returns the panic message. The expected
/// panic is not printed, so a passing run shows no panic noise; panics of
/// other tests still are.
fn panic_message(f: impl FnOnce()) -> String {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING_PANIC.with(Cell::get) {
                default(info);
            }
        }));
    });
    EXPECTING_PANIC.with(|e| e.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|e| e.set(false));
    let payload = result.expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|m| m.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn commands_reply_and_poweroff_succeeds() {
    let mut console = fake_guest();
    console.wait_prompt(SHORT);
    let reply = console.expect_ok("cpus", SHORT);
    assert_eq!(
        reply.lines,
        ["CPU APIC STATE PRESENCE MODE", "0 0 online present x2apic"]
    );
    assert_eq!(reply.summary(), Some("1 online"));
    let unknown = console.command("frob", SHORT);
    assert_eq!(unknown.error(), Some("unknown command 'frob'"));
    console.poweroff(SHORT);
    let log = console.log();
    assert!(
        log.starts_with("fake kernel: booting\nhp> cpus\n"),
        "{log:?}"
    );
    assert!(!log.contains('\r'));
}

/// Held events: after a status line they are the reply's `events`; in a
/// block at the prompt (the prompt line erased, the lines, the prompt and
/// a half line drawn again) the block's prompt does not end the next
/// reply, and the log shows each event at the start of a line.
#[test]
fn event_lines_after_a_status_and_at_the_prompt() {
    let mut console = fake_guest();
    console.wait_prompt(SHORT);
    let reply = console.expect_ok("held", SHORT);
    assert!(reply.lines.is_empty());
    assert_eq!(reply.events, ["event: cpu9 removed"]);
    console.expect_ok("later", SHORT);
    std::thread::sleep(Duration::from_millis(600));
    let reply = console.expect_ok("cpus", SHORT);
    assert_eq!(reply.summary(), Some("1 online"));
    assert_eq!(reply.lines.len(), 2, "{reply:?}");
    assert_eq!(reply.events, ["event: cpu9 added (APIC id 9)"]);
    let log = console.log();
    assert!(
        log.contains("ok\nhp> \nevent: cpu9 added (APIC id 9)\nhp> cpcpus\n"),
        "{log:?}"
    );
    console.poweroff(SHORT);
}

#[test]
fn timeout_reports_the_whole_log() {
    let message = panic_message(|| {
        let mut console = fake_guest();
        console.wait_prompt(SHORT);
        console.expect_ok("cpus", SHORT);
        console.command("hang", Duration::from_millis(300));
    });
    assert!(message.contains("command \"hang\""), "{message}");
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains("fake kernel: booting"), "{message}");
    assert!(message.contains("0 0 online present x2apic"), "{message}");
    assert!(message.contains("qemu: fake-guest"), "{message}");
}

#[test]
fn error_status_fails_expect_ok() {
    let message = panic_message(|| {
        let mut console = fake_guest();
        console.wait_prompt(SHORT);
        console.expect_ok("frob", SHORT);
    });
    assert!(
        message.contains("failed: error: unknown command"),
        "{message}"
    );
    assert!(message.contains("fake kernel: booting"), "{message}");
}

#[test]
fn missing_status_line_is_a_protocol_error() {
    let message = panic_message(|| {
        let mut console = fake_guest();
        console.wait_prompt(SHORT);
        console.command("garbage", SHORT);
    });
    assert!(message.contains("no status line"), "{message}");
}

#[test]
fn guest_exit_mid_command_shows_status_and_log() {
    let message = panic_message(|| {
        let mut console = fake_guest();
        console.wait_prompt(SHORT);
        console.command("crash", SHORT);
    });
    assert!(message.contains("closed the serial console"), "{message}");
    assert!(message.contains("PANIC on cpu0: oops"), "{message}");
    assert!(message.contains("Failure"), "{message}");
}

#[test]
fn failure_exit_is_reported_by_wait_exit() {
    let mut console = fake_guest();
    console.wait_prompt(SHORT);
    console.send_line("crash");
    assert_eq!(console.wait_exit(SHORT), GuestExit::Failure);
}

#[test]
fn poweroff_requires_the_success_status() {
    let message = panic_message(|| {
        let mut console = fake_guest();
        console.wait_prompt(SHORT);
        console.send_line("crash");
        // Make sure the guest is gone before poweroff writes to it.
        std::thread::sleep(Duration::from_millis(300));
        console.poweroff(SHORT);
    });
    assert!(message.contains("expected exit status 33"), "{message}");
}
