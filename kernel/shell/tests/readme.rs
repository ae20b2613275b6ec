//! The README's console table lists exactly the commands of
//! `shell::COMMANDS`, with the same arguments, in the same order.
//!
//! The README is what a user reads first; this test is why it cannot drift
//! from what the console accepts. A row may list several commands as
//! `` `a` / `b` ``; each code span in the first column is one synopsis.

use shell::COMMANDS;

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));

/// The first-column code spans of the table under `## Console`, in order.
fn readme_synopses(readme: &str) -> Result<Vec<String>, String> {
    let readme = format!("\n{readme}");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Console\n"))
        .ok_or("README.md has no `## Console` section")?;
    let mut rows = section
        .lines()
        .skip_while(|l| !l.starts_with("| command |"))
        .take_while(|l| l.starts_with('|'));
    rows.next()
        .ok_or("the Console section has no `| command |` table")?;
    let mut synopses = Vec::new();
    for row in rows.skip(1) {
        // `\|` is a literal bar inside a cell (`<state\|none>`).
        let row = row.replace("\\|", "\u{0}");
        let first = row.split('|').nth(1).ok_or(format!("bad row {row:?}"))?;
        let spans: Vec<&str> = first.split('`').skip(1).step_by(2).collect();
        if spans.is_empty() {
            return Err(format!("row without a command: {row:?}"));
        }
        synopses.extend(spans.iter().map(|s| s.replace('\u{0}', "|")));
    }
    Ok(synopses)
}

#[test]
fn readme_console_table_matches_the_commands() {
    let readme = readme_synopses(README).unwrap();
    let ours: Vec<String> = COMMANDS.iter().map(|c| c.synopsis().to_string()).collect();
    assert_eq!(
        readme, ours,
        "README.md's console table (left) differs from shell::COMMANDS (right)"
    );
}

/// The check itself can fail: a missing row, a changed argument or a
/// swapped order is reported.
#[test]
fn a_drifted_readme_is_caught() {
    let ours: Vec<String> = COMMANDS.iter().map(|c| c.synopsis().to_string()).collect();
    let drifted = [
        README.replace("| `stop` |", "| `halt` |"),
        README.replace("`online <cpus>`", "`online N`"),
        README.replace("| `poweroff` | exit QEMU with the success code |\n", ""),
        README.replace("`bench [cycles]`", "`bench <cycles>`"),
    ];
    for readme in drifted {
        assert_ne!(readme, README, "the edit must hit the README");
        assert_ne!(readme_synopses(&readme).unwrap(), ours);
    }
    assert!(readme_synopses("# no console here\n").is_err());
}

#[test]
fn a_row_may_list_several_commands() {
    let text = "## Console\n\n| command | what |\n| --- | --- |\n| `a <x\\|none>` / `b` | both |\n";
    assert_eq!(readme_synopses(text).unwrap(), ["a <x|none>", "b"]);
}
