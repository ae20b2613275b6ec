use super::*;
use crate::trace::dump::parse_dump;
use crate::trace::sample::DUMP;

fn sample_json() -> Value {
    let lines: Vec<&str> = DUMP.lines().collect();
    let events = parse_dump(&lines).unwrap();
    // Through text and back: the file is valid JSON.
    let text = serde_json::to_string_pretty(&trace_json(&events)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn events_of(json: &Value) -> &Vec<Value> {
    json["traceEvents"].as_array().unwrap()
}

fn track_names(json: &Value) -> Vec<(u64, String)> {
    events_of(json)
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            let name = e["args"]["name"].as_str().unwrap().to_owned();
            (e["tid"].as_u64().unwrap(), name)
        })
        .collect()
}

fn slices(json: &Value) -> Vec<&Value> {
    events_of(json).iter().filter(|e| e["ph"] == "X").collect()
}

#[test]
fn one_named_track_per_cpu_that_recorded() {
    let json = sample_json();
    assert_eq!(
        track_names(&json),
        [(0, "cpu0".to_owned()), (2, "cpu2".to_owned())]
    );
}

#[test]
fn callbacks_land_on_the_track_of_the_cpu_that_ran_them() {
    let json = sample_json();
    let steps: Vec<_> = slices(&json)
        .into_iter()
        .filter(|e| e["cat"] == "step")
        .collect();
    assert_eq!(steps.len(), 7);
    let on = |name: &str, direction: &str| {
        steps
            .iter()
            .find(|e| e["name"] == name && e["args"]["direction"] == direction)
            .map(|e| e["tid"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(on("cpu:kick", "up"), 0);
    assert_eq!(on("apic:starting", "up"), 2);
    assert_eq!(on("timers:starting", "down"), 2);
    let kick = steps.iter().find(|e| e["name"] == "cpu:kick").unwrap();
    assert_eq!(kick["args"]["cpu"], 2);
    assert_eq!(kick["args"]["result"], "ok");
    assert_eq!(kick["dur"], 7.4);
    let failed = steps.iter().find(|e| e["name"] == "smp:online").unwrap();
    assert_eq!(failed["args"]["result"], "injected");
}

#[test]
fn durations_are_never_negative() {
    for slice in slices(&sample_json()) {
        assert!(slice["dur"].as_f64().unwrap() >= 0.0, "{slice}");
    }
}

#[test]
fn slices_on_each_track_nest() {
    let json = sample_json();
    let mut by_track: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = Default::default();
    for slice in slices(&json) {
        let ts = slice["ts"].as_f64().unwrap();
        let end = ts + slice["dur"].as_f64().unwrap();
        by_track
            .entry(slice["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, end));
    }
    for (track, mut spans) in by_track {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|&top| top <= start) {
                open.pop();
            }
            if let Some(&top) = open.last() {
                assert!(
                    end <= top,
                    "cpu{track}: [{start}, {end}] overlaps a slice ending at {top}"
                );
            }
            open.push(end);
        }
    }
}

#[test]
fn each_request_flows_to_the_ap_and_back() {
    let json = sample_json();
    let flow = |ph: &str| -> Vec<(u64, u64, f64)> {
        events_of(&json)
            .iter()
            .filter(|e| e["ph"] == ph)
            .map(|e| {
                let id = e["id"].as_u64().unwrap();
                (id, e["tid"].as_u64().unwrap(), e["ts"].as_f64().unwrap())
            })
            .collect()
    };
    let (starts, finishes) = (flow("s"), flow("f"));
    // Two requests, two legs each.
    assert_eq!(starts.len(), 4);
    assert_eq!(finishes.len(), 4);
    let out = flow_id(2, 1, false);
    let back = flow_id(2, 1, true);
    assert!(starts.contains(&(out, 0, 9.1)));
    assert!(finishes.contains(&(out, 2, 9.3)));
    assert!(starts.contains(&(back, 2, 10.3)));
    assert!(finishes.contains(&(back, 0, 10.5)));
}

#[test]
fn the_smp_events_are_instants_on_the_sender_or_the_ap() {
    let json = sample_json();
    let instants: Vec<(String, u64)> = events_of(&json)
        .iter()
        .filter(|e| e["ph"] == "i")
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(instants.contains(&("init cpu2".into(), 0)));
    assert!(instants.contains(&("sipi cpu2".into(), 0)));
    assert!(instants.contains(&("alive cpu2".into(), 2)));
    assert!(instants.contains(&("parked cpu2".into(), 2)));
}

#[test]
fn the_way_back_of_a_failed_online_is_flagged() {
    let json = sample_json();
    let back: Vec<(String, String)> = slices(&json)
        .into_iter()
        .filter(|e| e["args"]["rollback"] == true)
        .map(|e| {
            let name = e["name"].as_str().unwrap().to_owned();
            (name, e["args"]["direction"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        back,
        [
            ("timers:starting".to_owned(), "down".to_owned()),
            ("threads:prepare".to_owned(), "down".to_owned())
        ]
    );
}
