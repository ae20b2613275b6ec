use super::*;
use crate::trace::sample::DUMP;

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn every_event_line_parses_and_prints_back_the_same() {
    let input = lines(DUMP);
    let events = parse_dump(&input).unwrap();
    let event_lines: Vec<&str> = input
        .iter()
        .copied()
        .filter(|l| l.starts_with(PREFIX))
        .collect();
    assert_eq!(events.len(), event_lines.len());
    let printed: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(printed, event_lines);
    assert_eq!(
        events[0],
        Event {
            start_ns: 1000,
            end_ns: 1500,
            ran_on: 0,
            cpu: 2,
            kind: Kind::Step {
                state: "threads:prepare".into(),
                direction: Direction::Up,
                result: StepResult::Ok
            }
        }
    );
    assert_eq!(events[5].kind, Kind::Request(1));
    assert_eq!(events[3].kind, Kind::Sipi);
}

#[test]
fn a_malformed_line_is_an_error_naming_it() {
    let bad = [
        ("trace: 1 2 cpu0 step cpu2 a:b up", "takes 3 more fields"),
        ("trace: 1 2 cpu0 step cpu2 a:b sideways ok", "direction"),
        ("trace: 1 2 cpu0 step cpu2 a:b up maybe", "unknown result"),
        ("trace: x 2 cpu0 init cpu2", "start time"),
        ("trace: 5 2 cpu0 init cpu2", "before it starts"),
        ("trace: 1 2 0 init cpu2", "is not a CPU"),
        ("trace: 1 2 cpu0 init cpuX", "is not a CPU"),
        ("trace: 1 2 cpu0 init", "at least 5"),
        ("trace: 1 2 cpu0 init cpu2 7", "takes 0 more fields"),
        ("trace: 1 2 cpu0 request cpu2 -1", "request id"),
        ("trace: 1 2 cpu0 teleport cpu2", "unknown event kind"),
        ("trace: 99999999999999999999 2 cpu0 init cpu2", "64 bits"),
    ];
    for (line, why) in bad {
        let mut input = lines(DUMP);
        input.insert(3, line);
        let error = parse_dump(&input).unwrap_err();
        assert_eq!(error.line, 4, "{line}");
        assert_eq!(error.text, line);
        assert!(error.why.contains(why), "{line}: {error}");
        assert!(error.to_string().contains("line 4"), "{error}");
    }
}

#[test]
fn lines_that_are_not_events_are_skipped() {
    let events = parse_dump(&["hello", "", "cpu1: something"]).unwrap();
    assert!(events.is_empty());
}
