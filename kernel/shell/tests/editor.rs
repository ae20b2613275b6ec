//! The line editor over a model terminal: cursor keys, Home/End/Delete,
//! history, Tab completion, Ctrl-C, unknown escapes and long lines; and a
//! property test against a plain `Vec` model of the line.

#[path = "editor/model.rs"]
mod model;
#[path = "editor/terminal.rs"]
mod terminal;

use model::{key, Key, Model, DELETE, DOWN, END, HOME, LEFT, RIGHT, UP};
use proptest::prelude::*;
use shell::{HISTORY_LINES, MAX_LINE};
use terminal::{Console, PROMPT};

fn typed(keys: &[&[u8]]) -> Console {
    let mut console = Console::new();
    for key in keys {
        console.type_bytes(key);
        console.assert_screen_matches();
    }
    console
}

#[test]
fn plain_typing_echoes_exactly_the_bytes_typed() {
    let console = typed(&[b"cpus", b"x\x7f", b"\r\n"]);
    assert_eq!(console.written, b"cpusx\x08 \x08");
    assert_eq!(console.lines.len(), 1, "CRLF is one line");
    assert_eq!(console.last_line(), "cpus");
}

#[test]
fn left_arrow_then_typing_inserts_inside_the_line() {
    let console = typed(&[b"onlin 1", LEFT, LEFT, b"e", b"\r"]);
    assert_eq!(console.last_line(), "online 1");
    let console = typed(&[b"oline 1", HOME, RIGHT, b"n", END, b"2", b"\r"]);
    assert_eq!(console.last_line(), "online 12");
}

#[test]
fn home_end_delete_and_backspace_in_the_middle() {
    let console = typed(&[b"xcpuss", HOME, DELETE, END, LEFT, b"\x08", b"\r"]);
    assert_eq!(console.last_line(), "cpus");
    let mut console = typed(&[b"ab", DELETE, LEFT, LEFT, LEFT, b"\x08"]);
    assert_eq!(console.editor.line(), b"ab", "nothing past either end");
    assert_eq!(console.editor.cursor(), 0);
    console.type_bytes(b"\r");
    assert_eq!(console.last_line(), "ab");
}

#[test]
fn up_and_down_walk_the_last_32_lines() {
    let mut console = Console::new();
    for i in 0..40 {
        console.type_bytes(format!("online {i}\r").as_bytes());
    }
    console.type_bytes(b"draft");
    console.type_bytes(UP);
    assert_eq!(console.editor.line(), b"online 39");
    for _ in 0..HISTORY_LINES + 5 {
        console.type_bytes(UP);
        console.assert_screen_matches();
    }
    assert_eq!(console.editor.line(), b"online 8", "the oldest of 32");
    for _ in 0..HISTORY_LINES - 1 {
        console.type_bytes(DOWN);
    }
    assert_eq!(console.editor.line(), b"online 39");
    console.type_bytes(DOWN);
    assert_eq!(console.editor.line(), b"draft", "back to what was typed");
    console.type_bytes(DOWN);
    console.assert_screen_matches();
    assert_eq!(console.editor.line(), b"draft");
}

#[test]
fn a_recalled_line_can_be_edited_and_the_original_stays() {
    let mut console = typed(&[b"online 1\r", b"cpus\r", UP, UP, b"\x7f2", b"\r"]);
    assert_eq!(console.last_line(), "online 2");
    console.type_bytes(UP);
    assert_eq!(console.editor.line(), b"online 2");
    console.type_bytes(UP);
    assert_eq!(console.editor.line(), b"cpus");
    console.type_bytes(UP);
    assert_eq!(
        console.editor.line(),
        b"online 1",
        "history kept the original"
    );
    console.assert_screen_matches();
}

#[test]
fn tab_completes_a_unique_command_with_a_space() {
    let console = typed(&[b"cp\t", b"\r"]);
    assert_eq!(console.last_line(), "cpus ");
    let console = typed(&[b"tim\t"]);
    assert_eq!(
        console.editor.line(),
        b"timer",
        "as far as timer/timers agree"
    );
}

#[test]
fn tab_lists_several_matches_and_reprints_the_line() {
    let mut console = typed(&[b"st", b"\t"]);
    let rows = console.rows();
    assert_eq!(rows[1], "states  stop");
    assert_eq!(rows[2], format!("{PROMPT}st"));
    console.type_bytes(b"op\r");
    assert_eq!(console.last_line(), "stop");
    // With the cursor inside the line, it comes back to the same place.
    let console = typed(&[b"target 1 cpu: x", LEFT, LEFT, b"\t"]);
    assert_eq!(console.rows()[1], "cpu:prepare  cpu:starting");
    assert_eq!(console.editor.cursor(), "target 1 cpu:".len());
}

#[test]
fn tab_completes_state_names_keywords_and_none() {
    let console = typed(&[b"target 2 sch\t", b"\r"]);
    assert_eq!(console.last_line(), "target 2 sched:active ");
    let console = typed(&[b"fail 1 no\t", b"\r"]);
    assert_eq!(console.last_line(), "fail 1 none ");
    let console = typed(&[b"crash 1 s\t", b"\r"]);
    assert_eq!(console.last_line(), "crash 1 stack ");
    let console = typed(&[b"target 1 o\t"]);
    assert_eq!(console.rows()[1], "offline  online");
}

#[test]
fn tab_with_no_match_rings_the_bell_and_changes_nothing() {
    let console = typed(&[b"zz\t", b"online x\t"]);
    assert_eq!(console.editor.line(), b"zzonline x");
    assert_eq!(console.written.iter().filter(|b| **b == 0x07).count(), 2);
}

#[test]
fn ctrl_c_abandons_the_line() {
    let mut console = typed(&[b"online 1", b"\x03"]);
    assert_eq!((console.cancels, console.lines.len()), (1, 0));
    assert_eq!(console.rows()[0], format!("{PROMPT}online 1^C"));
    console.type_bytes(b"cpus\r");
    assert_eq!(console.last_line(), "cpus");
    console.type_bytes(UP);
    assert_eq!(
        console.editor.line(),
        b"cpus",
        "an abandoned line is not history"
    );
}

#[test]
fn unknown_escape_sequences_are_ignored() {
    let console = typed(&[
        b"cp\x1b[15~u\x1b[1;5D\x1b[?2004h\x1bOP\x1b[200~s\x1b(B\x1bx",
        b"\r",
    ]);
    assert_eq!(console.last_line(), "cpus");
    assert_eq!(console.written, b"cpus");
}

#[test]
fn control_bytes_are_kept_for_the_parser_and_shown_as_question_marks() {
    let console = typed(&[b"cpus\0", LEFT, b"x", b"\r"]);
    let line = console.lines.last().unwrap().as_ref().unwrap();
    assert_eq!(line, b"cpusx\0");
}

#[test]
fn an_overlong_line_is_rejected_and_the_next_one_works() {
    let mut console = Console::new();
    console.type_bytes(&[b'a'; MAX_LINE + 10]);
    console.type_bytes(LEFT);
    console.type_bytes(b"\t\x7f\r");
    assert_eq!(console.lines.last(), Some(&Err(MAX_LINE)));
    // Inserting into a full line loses it too.
    console.type_bytes(&[b'b'; MAX_LINE]);
    console.type_bytes(HOME);
    console.type_bytes(b"c\r");
    assert_eq!(console.lines.last(), Some(&Err(MAX_LINE)));
    console.type_bytes(b"ok\r");
    assert_eq!(console.last_line(), "ok");
    console.type_bytes(UP);
    assert_eq!(
        console.editor.line(),
        b"ok",
        "rejected lines are not history"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]
    #[test]
    fn editing_agrees_with_a_plain_model(keys in proptest::collection::vec(key(), 0..80)) {
        let mut console = Console::new();
        let mut model = Model::default();
        for key in &keys {
            match key {
                Key::Text(text) => {
                    for &b in text {
                        model.line.insert(model.cursor, b);
                        model.cursor += 1;
                    }
                    console.type_bytes(text);
                }
                Key::Raw(raw) => {
                    model.press(raw);
                    console.type_bytes(raw);
                }
            }
            console.assert_screen_matches();
            prop_assert_eq!(console.editor.line(), &model.line[..]);
            prop_assert_eq!(console.editor.cursor(), model.cursor);
        }
        let lines: Vec<Vec<u8>> = console.lines.iter().map(|l| l.clone().unwrap()).collect();
        prop_assert_eq!(lines, model.lines);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// With Tab in the mix (completions inserted, lists printed and the
    /// line re-printed), the screen still shows exactly the line.
    #[test]
    fn the_screen_follows_the_line_through_completions(
        keys in proptest::collection::vec(
            prop_oneof![
                2 => key(),
                1 => prop::sample::select(vec![
                    &b"\t"[..], b"t", b"st", b"target 1 ", b"fail 2 ", b"cpu:", b"crash 0 ", b" ",
                ])
                .prop_map(Key::Raw),
            ],
            0..60,
        )
    ) {
        let mut console = Console::new();
        for key in &keys {
            match key {
                Key::Text(bytes) => console.type_bytes(bytes),
                Key::Raw(bytes) => console.type_bytes(bytes),
            }
            console.assert_screen_matches();
        }
    }
}
