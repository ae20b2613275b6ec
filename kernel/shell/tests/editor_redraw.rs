//! Held `event:` lines printed while the prompt and a half-typed line are
//! on screen: over a model terminal, the events end up on rows of their
//! own above the prompt, the prompt and the line are drawn again with the
//! cursor where it was, and editing goes on as if nothing happened.

#[path = "editor/model.rs"]
mod model;
#[path = "editor/terminal.rs"]
mod terminal;

use model::{key, Key, Model, LEFT, UP};
use proptest::prelude::*;
use terminal::{Console, PROMPT};

const ADDED: &str = "event: cpu5 added (APIC id 5)";
const ONLINE: &str = "event: cpu5 online in 812 us";

#[test]
fn events_at_an_empty_prompt_replace_it_and_it_comes_back() {
    let mut console = Console::new();
    console.events_at_prompt(&[ADDED, ONLINE]);
    assert_eq!(console.rows(), [ADDED, ONLINE, PROMPT.trim_end()]);
    console.assert_screen_matches();
    assert!(console.written.starts_with(shell::HIDE));
}

#[test]
fn a_half_typed_line_is_redrawn_with_its_cursor_and_completes() {
    let mut console = Console::new();
    console.type_bytes(b"onlie 5");
    console.type_bytes(LEFT);
    console.type_bytes(LEFT);
    console.type_bytes(LEFT);
    console.events_at_prompt(&[ADDED]);
    assert_eq!(console.rows(), [ADDED, "hp> onlie 5"]);
    console.assert_screen_matches();
    console.type_bytes(b"n");
    console.events_at_prompt(&[ONLINE]);
    console.assert_screen_matches();
    console.type_bytes(b"\r");
    assert_eq!(console.last_line(), "online 5");
    assert_eq!(
        console.rows(),
        [ADDED, ONLINE, "hp> online 5", PROMPT.trim_end()]
    );
}

#[test]
fn a_recalled_line_and_a_half_read_escape_survive() {
    let mut console = Console::new();
    console.type_bytes(b"cpus\r");
    console.type_bytes(UP);
    // ESC [ read, the final byte not yet: the events come in between.
    console.type_bytes(b"\x1b[");
    console.events_at_prompt(&[ADDED]);
    console.assert_screen_matches();
    console.type_bytes(b"D");
    assert_eq!(console.editor.cursor(), 3, "the Left arrow still counted");
    console.type_bytes(b"\r");
    assert_eq!(console.last_line(), "cpus");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// Events at any point of any editing: the screen always shows the
    /// line, every event stands whole on a row of its own, and the lines
    /// the editor gives are the ones typed.
    #[test]
    fn events_never_disturb_the_line(
        keys in proptest::collection::vec(
            prop_oneof![4 => key().prop_map(Some), 1 => Just(None)],
            0..60,
        )
    ) {
        let mut console = Console::new();
        let mut model = Model::default();
        let mut events = 0;
        for key in &keys {
            match key {
                None => {
                    events += 1;
                    let line = format!("event: cpu{events} removed");
                    console.events_at_prompt(&[&line]);
                    let rows = console.rows();
                    prop_assert_eq!(&rows[console.cursor_row() - 1], &line);
                }
                Some(Key::Text(text)) => {
                    for &b in text {
                        model.line.insert(model.cursor, b);
                        model.cursor += 1;
                    }
                    console.type_bytes(text);
                }
                Some(Key::Raw(raw)) => {
                    model.press(raw);
                    console.type_bytes(raw);
                }
            }
            console.assert_screen_matches();
            prop_assert_eq!(console.editor.line(), &model.line[..]);
        }
        let rows = console.rows();
        for n in 1..=events {
            let line = format!("event: cpu{n} removed");
            prop_assert_eq!(rows.iter().filter(|r| **r == line).count(), 1);
        }
        let lines: Vec<Vec<u8>> = console.lines.iter().map(|l| l.clone().unwrap()).collect();
        prop_assert_eq!(lines, model.lines);
    }
}
