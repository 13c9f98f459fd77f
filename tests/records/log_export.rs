//! `perfuse-log`: the history as CSV and JSON, filtered by time and kind,
//! and clear refusals of what it cannot do.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;

use perfuse::store::{Action, Event, EventLog, Page};

/// 2026-11-21T08:00:00Z in ms.
const EIGHT: i64 = 1_795_248_000_000;

fn database(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    log.append_all(&[
        (EIGHT, Event::PowerOn),
        (
            EIGHT + 60_000,
            Event::AlarmRaised {
                condition: "AirInLine".to_owned(),
                priority: "High".to_owned(),
            },
        ),
        (
            EIGHT + 120_000,
            Event::SoftLimitOverride {
                drug: "DOPamine".to_owned(),
                value: "22 mcg/kg/min, \"confirmed\"".to_owned(),
                limit: "20 mcg/kg/min".to_owned(),
            },
        ),
        (EIGHT + 3_600_000, Event::PowerOff),
    ])
    .unwrap();
    path
}

fn export(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse-log"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn csv_has_one_row_per_event_with_its_details() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let (ok, csv, stderr) = export(&["--db", db.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][1], "2026-11-21T08:00:00Z");
    assert_eq!(&rows[1][2], "alarm_raised");
    // Quotes and commas in a value survive the round trip.
    let details: serde_json::Value = serde_json::from_str(&rows[2][3]).unwrap();
    assert_eq!(details["value"], "22 mcg/kg/min, \"confirmed\"");
    assert!(stderr.contains("4 events"));
}

#[test]
fn json_filtered_by_time_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let out = dir.path().join("out.json");
    let (ok, _, stderr) = export(&[
        "--db",
        db.to_str().unwrap(),
        "--format",
        "json",
        "--from",
        "2026-11-21T08:00:30Z",
        "--to",
        "2026-11-21T08:30:00Z",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let kinds: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alarm_raised", "soft_limit_override"]);
    assert_eq!(rows[0]["details"]["condition"], "AirInLine");
    let (ok, json, _) = export(&[
        "--db",
        db.to_str().unwrap(),
        "--format",
        "json",
        "--kind",
        "power_on,power_off",
    ]);
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn bad_requests_say_what_is_allowed_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let db = db.to_str().unwrap();
    let (ok, _, stderr) = export(&["--db", db, "--kind", "alarms"]);
    assert!(!ok);
    assert!(
        stderr.contains("--kind alarms: no such kind; the kinds are power_on"),
        "{stderr}"
    );
    let (ok, _, stderr) = export(&["--db", db, "--from", "yesterday"]);
    assert!(!ok);
    assert!(
        stderr.contains("--from yesterday: not an RFC 3339 time"),
        "{stderr}"
    );
    assert!(stderr.contains("2026-11-21T08:00:00Z"), "{stderr}");
    let (ok, _, stderr) = export(&[
        "--db",
        db,
        "--from",
        "2026-11-22T00:00:00Z",
        "--to",
        "2026-11-21T00:00:00Z",
    ]);
    assert!(!ok);
    assert!(stderr.contains("--from is after --to"), "{stderr}");
    let missing = dir.path().join("missing.db");
    let (ok, _, stderr) = export(&["--db", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("no such event database"), "{stderr}");
    assert!(!missing.exists(), "exporting created a database");
}

#[test]
fn usability_metrics_come_from_the_interaction_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    let touch = |screen: &str, action: &str, element: &str, at: u64| Event::Interaction {
        screen: Page::from_name(screen).unwrap(),
        action: Action::from_name(action).unwrap(),
        element: element.to_owned(),
        monotonic_ms: at,
    };
    log.append_all(&[
        (EIGHT, touch("home", "touch", "new-program", 1_000)),
        (EIGHT, touch("program", "page", "program", 1_001)),
        (EIGHT, touch("program", "refused", "hard-limit", 4_000)),
        (EIGHT, touch("program", "touch", "start", 31_000)),
        (EIGHT, touch("running", "page", "running", 31_001)),
        (EIGHT, touch("running", "alarm-shown", "AirInLine", 60_000)),
        (
            EIGHT,
            touch("running", "alarm-acknowledged", "AirInLine", 64_250),
        ),
    ])
    .unwrap();
    // While the log is open (the pump runs), it is the pump's alone.
    let (ok, _, stderr) = export(&["--db", path.to_str().unwrap(), "--metrics"]);
    assert!(!ok);
    assert!(
        stderr.contains("is in use by the running pump") && stderr.contains("quit Perfuse"),
        "{stderr}"
    );
    drop(log);
    let (ok, json, stderr) = export(&[
        "--db",
        path.to_str().unwrap(),
        "--metrics",
        "--format",
        "json",
    ]);
    assert!(ok, "{stderr}");
    let metrics: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(metrics["tasks"][0]["kind"], "new-program");
    assert_eq!(metrics["tasks"][0]["duration_ms"], 30_001);
    assert_eq!(metrics["tasks"][0]["refusals"], 1);
    assert_eq!(metrics["tasks"][0]["outcome"], "started");
    assert_eq!(metrics["alarms"][0]["acknowledged_after_ms"], 4_250);
    let (ok, csv, _) = export(&["--db", path.to_str().unwrap(), "--metrics"]);
    assert!(ok);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("task,new-program,1000,30001,2,1,0,started"),
        "{csv}"
    );
}
