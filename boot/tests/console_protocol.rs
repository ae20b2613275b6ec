//! The console protocol itself, which every QEMU test relies on: `help`
//! answers `ok` with one line per command of `shell::COMMANDS`, an unknown
//! command answers `error: unknown command ...` and the console keeps
//! working after it.

use boot::console::{Console, BOOT_TIMEOUT, COMMAND_TIMEOUT};
use boot::qemu::QemuConfig;

#[test]
fn help_and_unknown_command() {
    let mut console = Console::start(&QemuConfig::default().smp("1"));
    console.wait_prompt(BOOT_TIMEOUT);

    let help = console.expect_ok("help", COMMAND_TIMEOUT);
    for command in ["cpus", "help", "poweroff"] {
        if !help.lines.iter().any(|l| l.contains(command)) {
            console.fail(&format!("`help` does not mention `{command}`"));
        }
    }
    // The kernel prints the command table's own help, line for line.
    let expected = shell::Help(&shell::COMMANDS).to_string();
    for line in expected.lines() {
        if !help.lines.iter().any(|l| l.trim_end() == line) {
            console.fail(&format!("`help` lacks the line {line:?}"));
        }
    }

    let unknown = console.command("no-such-command", COMMAND_TIMEOUT);
    if !unknown
        .error()
        .is_some_and(|e| e.starts_with("unknown command"))
    {
        console.fail(&format!(
            "unknown command answered {:?}, expected `error: unknown command ...`",
            unknown.status
        ));
    }

    console.expect_ok("cpus", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}
