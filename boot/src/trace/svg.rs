//! The trace as a self-contained SVG timeline: one panel per operation
//! (each with its own time axis), a lane per CPU, a box per callback
//! coloured by section and labelled where the name fits (else above it,
//! slanted), arrows for the request/answer handshake, the failed step
//! outlined in red and the way back drawn dashed.

use super::panels::{panels, rollback_steps, Panel};
use super::{Direction, Event, Kind, StepResult};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 70.0;
const PLOT: f64 = WIDTH - LEFT - 30.0;
/// Room above each lane for slanted labels of narrow boxes.
const LABEL_ROOM: f64 = 46.0;
const BOX: f64 = 18.0;
const LANE: f64 = LABEL_ROOM + BOX + 8.0;
const TITLE: f64 = 26.0;
const AXIS: f64 = 28.0;
/// Rough width of one label character at 11 px.
const CHAR: f64 = 6.4;

fn colour(section: Option<&str>) -> &'static str {
    match section {
        Some("prepare") => "#4e79a7",
        Some("starting") => "#f28e2b",
        Some("online") => "#59a14f",
        _ => "#9c9c9c",
    }
}

/// Escapes text for an XML text node or attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The picture of `events` (time order); `sections` maps state names to
/// `prepare`, `starting` or `online` (the `states` table's SECTION).
pub fn trace_svg(events: &[Event], sections: &HashMap<String, String>) -> String {
    let panels = panels(events);
    let heights: Vec<f64> = panels
        .iter()
        .map(|p| TITLE + lanes(p).len() as f64 * LANE + AXIS)
        .collect();
    let legend = 30.0;
    let height = legend + heights.iter().sum::<f64>();
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str(concat!(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">"##,
        r##"<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>"##,
        "\n",
        r##"<rect width="100%" height="100%" fill="white"/>"##,
        "\n"
    ));
    legend_row(&mut svg);
    let back: HashSet<*const Event> = (events.iter().zip(rollback_steps(events)))
        .filter(|(_, back)| *back)
        .map(|(e, _)| e as *const Event)
        .collect();
    let mut top = legend;
    for (index, panel) in panels.iter().enumerate() {
        draw_panel(&mut svg, panel, index, top, sections, &back);
        top += heights[index];
    }
    svg.push_str("</svg>\n");
    svg
}

fn legend_row(svg: &mut String) {
    let items = [
        ("prepare", colour(Some("prepare"))),
        ("starting", colour(Some("starting"))),
        ("online", colour(Some("online"))),
    ];
    let mut x = LEFT;
    for (name, fill) in items {
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="8" width="14" height="12" fill="{fill}"/><text x="{}" y="18">{name}</text>"#,
            x + 18.0
        );
        x += 90.0;
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{x}" y="8" width="14" height="12" fill="white" stroke="#d62728" stroke-width="2"/><text x="{}" y="18">failed step</text>"##,
        x + 18.0
    );
    x += 100.0;
    let _ = writeln!(
        svg,
        r##"<rect x="{x}" y="8" width="14" height="12" fill="#ccc" stroke="#333" stroke-dasharray="3,2"/><text x="{}" y="18">rollback</text><line x1="{}" y1="14" x2="{}" y2="14" stroke="#333" marker-end="url(#arrow)"/><text x="{}" y="18">request / answer</text>"##,
        x + 18.0,
        x + 90.0,
        x + 120.0,
        x + 126.0
    );
}

/// The CPUs with events in `panel`, in order.
fn lanes(panel: &Panel) -> Vec<u32> {
    let set: BTreeSet<u32> = panel.events.iter().map(|e| e.ran_on).collect();
    set.into_iter().collect()
}

fn draw_panel(
    svg: &mut String,
    panel: &Panel,
    index: usize,
    top: f64,
    sections: &HashMap<String, String>,
    rollback: &HashSet<*const Event>,
) {
    let lanes = lanes(panel);
    let span = (panel.end_ns - panel.start_ns).max(1) as f64;
    let x = |ns: u64| LEFT + (ns - panel.start_ns) as f64 / span * PLOT;
    let box_top = |cpu: u32| {
        let lane = lanes.iter().position(|&c| c == cpu).unwrap_or(0) as f64;
        top + TITLE + lane * LANE + LABEL_ROOM
    };
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        top + 17.0,
        escape(&panel.title(index))
    );
    for &cpu in &lanes {
        let y = box_top(cpu);
        let _ = writeln!(
            svg,
            r##"<text x="10" y="{}">cpu{cpu}</text><line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>"##,
            y + 13.0,
            y + BOX / 2.0,
            LEFT + PLOT,
            y + BOX / 2.0
        );
    }
    for event in &panel.events {
        let y = box_top(event.ran_on);
        let (x0, x1) = (x(event.start_ns), x(event.end_ns));
        match &event.kind {
            Kind::Step {
                state,
                direction,
                result,
            } => {
                let failed = matches!(result, StepResult::Failed | StepResult::Injected);
                let back = rollback.contains(&(*event as *const Event));
                let stroke = if failed {
                    r##" stroke="#d62728" stroke-width="2""##
                } else if back {
                    r##" stroke="#333" stroke-dasharray="3,2""##
                } else {
                    ""
                };
                let fill = colour(sections.get(state).map(String::as_str));
                let width = (x1 - x0).max(1.5);
                let opacity = if *direction == Direction::Down {
                    0.65
                } else {
                    1.0
                };
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x0:.2}" y="{y}" width="{width:.2}" height="{BOX}" fill="{fill}" fill-opacity="{opacity}"{stroke}><title>{} {} cpu{} {}: {:.1} us</title></rect>"#,
                    escape(state),
                    direction.word(),
                    event.cpu,
                    result.word(),
                    (event.end_ns - event.start_ns) as f64 / 1000.0
                );
                let label = escape(state);
                if state.len() as f64 * CHAR + 4.0 <= width {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.2}" y="{}" fill="white">{label}</text>"#,
                        x0 + 2.0,
                        y + 13.0
                    );
                } else {
                    let (lx, ly) = (x0 + width / 2.0, y - 3.0);
                    let _ = writeln!(
                        svg,
                        r#"<text x="{lx:.2}" y="{ly}" font-size="9" transform="rotate(-35 {lx:.2} {ly})">{label}</text>"#
                    );
                }
                if failed {
                    let _ = writeln!(
                        svg,
                        r##"<text x="{:.2}" y="{}" fill="#d62728" font-weight="bold">✗</text>"##,
                        x1 + 2.0,
                        y + 13.0
                    );
                }
            }
            Kind::Request(_) | Kind::Answer(_) => {}
            kind => {
                let _ = writeln!(
                    svg,
                    r##"<line x1="{x0:.2}" y1="{}" x2="{x0:.2}" y2="{}" stroke="#333" stroke-width="1.5"><title>{} cpu{}</title></line>"##,
                    y - 2.0,
                    y + BOX + 2.0,
                    kind.word(),
                    event.cpu
                );
            }
        }
    }
    handshake_arrows(svg, panel, &x, &box_top);
    axis(svg, panel, top + TITLE + lanes.len() as f64 * LANE);
}

/// Request: control CPU to the AP's next event; answer: back to the
/// control CPU's next event.
fn handshake_arrows(
    svg: &mut String,
    panel: &Panel,
    x: &dyn Fn(u64) -> f64,
    box_top: &dyn Fn(u32) -> f64,
) {
    for (i, event) in panel.events.iter().enumerate() {
        let later = &panel.events[i + 1..];
        let to = match event.kind {
            Kind::Request(_) => later.iter().find(|e| e.ran_on == event.cpu),
            Kind::Answer(id) => {
                let control = panel
                    .events
                    .iter()
                    .find(|e| e.kind == Kind::Request(id) && e.cpu == event.cpu)
                    .map(|e| e.ran_on);
                later.iter().find(|e| Some(e.ran_on) == control)
            }
            _ => None,
        };
        let Some(to) = to else { continue };
        let (y0, y1) = (box_top(event.ran_on), box_top(to.ran_on));
        let (y0, y1) = if y0 < y1 {
            (y0 + BOX, y1)
        } else {
            (y0, y1 + BOX)
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{:.2}" y1="{y0}" x2="{:.2}" y2="{y1}" stroke="#333" marker-end="url(#arrow)"><title>{} cpu{}</title></line>"##,
            x(event.start_ns),
            x(to.start_ns),
            event.kind.word(),
            event.cpu
        );
    }
}

/// A time axis under the panel, in microseconds from its start, at 1-2-5
/// steps.
fn axis(svg: &mut String, panel: &Panel, y: f64) {
    let span_us = (panel.end_ns - panel.start_ns).max(1) as f64 / 1000.0;
    let raw = span_us / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#333"/>"##,
        LEFT + PLOT
    );
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let mut tick = 0u32;
    loop {
        let t = f64::from(tick) * step;
        if t > span_us + 1e-9 {
            break;
        }
        let tx = LEFT + t / span_us * PLOT;
        let _ = writeln!(
            svg,
            r##"<line x1="{tx:.2}" y1="{y}" x2="{tx:.2}" y2="{}" stroke="#333"/><text x="{tx:.2}" y="{}" text-anchor="middle" font-size="9">{t:.decimals$} us</text>"##,
            y + 4.0,
            y + 14.0
        );
        tick += 1;
    }
}

#[cfg(test)]
mod tests;
