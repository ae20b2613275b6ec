use super::*;
use crate::trace::dump::parse_dump;
use crate::trace::sample::DUMP;

fn sample_events() -> Vec<Event> {
    let lines: Vec<&str> = DUMP.lines().collect();
    parse_dump(&lines).unwrap()
}

fn sections() -> HashMap<String, String> {
    [
        ("threads:prepare", "prepare"),
        ("cpu:kick", "prepare"),
        ("apic:starting", "starting"),
        ("timers:starting", "starting"),
        ("smp:online", "online"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect()
}

/// Checks the XML is well formed (what an SVG viewer needs): tags nest
/// and close, attributes are quoted, text has no bare `<` or `&`. Returns
/// every text node.
fn well_formed(xml: &str) -> Result<Vec<String>, String> {
    let mut open: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        check_text(text)?;
        if !text.trim().is_empty() {
            texts.push(text.to_owned());
        }
        let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name => {}
                top => return Err(format!("</{name}> closes {top:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad tag name {name:?}"));
        }
        check_attributes(attrs)?;
        if !self_closing {
            open.push(name.to_owned());
        }
    }
    check_text(rest)?;
    if !open.is_empty() {
        return Err(format!("unclosed {open:?}"));
    }
    Ok(texts)
}

fn check_text(text: &str) -> Result<(), String> {
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..];
        if !["&amp;", "&lt;", "&gt;", "&quot;"]
            .iter()
            .any(|e| entity.starts_with(e))
        {
            return Err(format!("bare & in {text:?}"));
        }
    }
    Ok(())
}

fn check_attributes(mut attrs: &str) -> Result<(), String> {
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(());
        }
        let eq = attrs
            .find("=\"")
            .ok_or(format!("unquoted attribute in {attrs:?}"))?;
        let key = &attrs[..eq];
        if key.is_empty() || key.contains(' ') {
            return Err(format!("bad attribute name {key:?}"));
        }
        let value_end = attrs[eq + 2..].find('"').ok_or("unterminated value")? + eq + 2;
        check_text(&attrs[eq + 2..value_end])?;
        attrs = &attrs[value_end + 1..];
    }
}

#[test]
fn the_picture_is_well_formed_xml() {
    let svg = trace_svg(&sample_events(), &sections());
    assert!(svg.starts_with("<svg "));
    well_formed(&svg).unwrap();
}

#[test]
fn the_checker_catches_broken_xml() {
    assert!(well_formed("<svg><g></svg>").is_err());
    assert!(well_formed("<svg a=1></svg>").is_err());
    assert!(well_formed("<svg>a & b</svg>").is_err());
    assert!(well_formed("<svg><text>x</text>").is_err());
}

#[test]
fn every_state_of_the_trace_is_labelled() {
    let events = sample_events();
    let texts = well_formed(&trace_svg(&events, &sections())).unwrap();
    for event in &events {
        if let Kind::Step { state, .. } = &event.kind {
            assert!(texts.iter().any(|t| t == state), "no label {state}");
        }
    }
}

#[test]
fn boxes_take_their_section_colour_and_the_failure_is_marked() {
    let svg = trace_svg(&sample_events(), &sections());
    assert!(svg.contains(colour(Some("prepare"))));
    assert!(svg.contains(colour(Some("starting"))));
    assert!(svg.contains("stroke=\"#d62728\""));
    // The legend's, and the sample's one rollback box that did not fail
    // (the failed one is outlined red instead).
    assert_eq!(svg.matches("stroke-dasharray").count(), 2);
    assert!(svg.contains("marker-end=\"url(#arrow)\""));
}

#[test]
fn a_quiet_gap_starts_a_new_panel_with_its_own_axis() {
    let mut events = sample_events();
    let shift = 50_000_000;
    let later: Vec<Event> = events
        .iter()
        .map(|e| Event {
            start_ns: e.start_ns + shift,
            end_ns: e.end_ns + shift,
            ..e.clone()
        })
        .collect();
    events.extend(later);
    let panels = super::panels(&events);
    assert_eq!(panels.len(), 2);
    assert!(panels[1]
        .title(1)
        .starts_with("2. cpu2 up, smp:online injected"));
    let svg = trace_svg(&events, &sections());
    // Both panels span the same 10.9 us, each from its own zero.
    assert_eq!(svg.matches(">0 us<").count(), 2, "{svg}");
}

#[test]
fn marks_cut_the_panels_and_empty_ones_are_left_out() {
    let mut events = sample_events();
    let mark = |ns: u64| Event {
        start_ns: ns,
        end_ns: ns,
        ran_on: 0,
        cpu: 0,
        kind: Kind::Mark,
    };
    // Boot part, an operation, then a command that moved nothing.
    events.insert(5, mark(9050));
    events.push(mark(20_000));
    events.push(mark(21_000));
    let panels = super::panels(&events);
    assert_eq!(panels.len(), 2);
    assert_eq!(panels[0].events.len(), 5);
    assert_eq!(panels[1].start_ns, 9100);
    assert!(panels
        .iter()
        .all(|p| p.events.iter().all(|e| e.kind != Kind::Mark)));
}
