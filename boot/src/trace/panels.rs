//! Cutting a trace into operations, one picture panel each, so a 300 us
//! online is not a sliver next to a 30 ms boot bring-up.
//!
//! Owns where one operation ends; never draws.

use super::{Direction, Event, Kind, StepResult};

/// A quiet gap this long between events starts a new operation (typed
/// commands are milliseconds apart; steps of one operation are not).
pub const GAP_NS: u64 = 1_000_000;

/// One operation's events, in time order.
#[derive(Clone, Debug)]
pub struct Panel<'e> {
    /// The events.
    pub events: Vec<&'e Event>,
    /// The earliest start.
    pub start_ns: u64,
    /// The latest end.
    pub end_ns: u64,
}

impl Panel<'_> {
    /// Whether a step failed (or an armed fault fired) going up or down:
    /// the operation turned around there.
    pub fn failed_step(&self) -> Option<&Event> {
        self.events.iter().copied().find(|e| {
            matches!(
                e.kind,
                Kind::Step {
                    result: StepResult::Failed | StepResult::Injected,
                    ..
                }
            )
        })
    }

    /// A title: which CPUs went which way, and the failure if any.
    pub fn title(&self, index: usize) -> String {
        let mut moves: Vec<(u32, Direction)> = Vec::new();
        for event in &self.events {
            if let Kind::Step { direction, .. } = event.kind {
                if !moves.iter().any(|m| m.0 == event.cpu) {
                    moves.push((event.cpu, direction));
                }
            }
        }
        let what = match moves.as_slice() {
            [] => "no steps".to_owned(),
            [(cpu, d)] => format!("cpu{cpu} {}", d.word()),
            many => format!(
                "{} CPUs {} (cpu{}-cpu{})",
                many.len(),
                many[0].1.word(),
                many.iter().map(|m| m.0).min().unwrap_or(0),
                many.iter().map(|m| m.0).max().unwrap_or(0)
            ),
        };
        let failed = match self.failed_step().map(|e| &e.kind) {
            Some(Kind::Step { state, result, .. }) => {
                format!(", {state} {}, rolled back", result.word())
            }
            _ => String::new(),
        };
        let us = (self.end_ns - self.start_ns) as f64 / 1000.0;
        format!("{}. {what}{failed}: {us:.0} us", index + 1)
    }
}

/// `events` (in time order) cut at every `mark` (`make trace` marks each
/// command), or, in a trace without marks, at every quiet gap of
/// [`GAP_NS`]. Panels without a step are left out.
pub fn panels(events: &[Event]) -> Vec<Panel<'_>> {
    let mut panels = if events.iter().any(|e| e.kind == Kind::Mark) {
        by_marks(events)
    } else {
        by_gaps(events)
    };
    panels.retain(|p| p.events.iter().any(|e| matches!(e.kind, Kind::Step { .. })));
    panels
}

fn by_marks(events: &[Event]) -> Vec<Panel<'_>> {
    events
        .split(|e| e.kind == Kind::Mark)
        .filter(|part| !part.is_empty())
        .map(|part| Panel {
            events: part.iter().collect(),
            start_ns: part.iter().map(|e| e.start_ns).min().unwrap_or(0),
            end_ns: part.iter().map(|e| e.end_ns).max().unwrap_or(0),
        })
        .collect()
}

fn by_gaps(events: &[Event]) -> Vec<Panel<'_>> {
    let mut panels: Vec<Panel> = Vec::new();
    for event in events {
        match panels.last_mut() {
            Some(panel) if event.start_ns <= panel.end_ns + GAP_NS => {
                panel.end_ns = panel.end_ns.max(event.end_ns);
                panel.events.push(event);
            }
            _ => panels.push(Panel {
                events: vec![event],
                start_ns: event.start_ns,
                end_ns: event.end_ns,
            }),
        }
    }
    panels
}

/// For each event of `events`, whether it is a teardown on the way back
/// of an operation that failed going up (a rollback): a down step at or
/// after the operation's first failed up step.
pub fn rollback_steps(events: &[Event]) -> Vec<bool> {
    let mut back = vec![false; events.len()];
    for panel in panels(events) {
        let turned = panel.events.iter().find(|e| {
            matches!(
                e.kind,
                Kind::Step {
                    direction: Direction::Up,
                    result: StepResult::Failed | StepResult::Injected,
                    ..
                }
            )
        });
        let Some(turned) = turned.map(|e| e.start_ns) else {
            continue;
        };
        for event in &panel.events {
            let down = matches!(
                event.kind,
                Kind::Step {
                    direction: Direction::Down,
                    ..
                }
            );
            if down && event.start_ns >= turned {
                if let Some(i) = events.iter().position(|e| std::ptr::eq(e, *event)) {
                    back[i] = true;
                }
            }
        }
    }
    back
}
