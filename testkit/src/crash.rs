//! What the crash and power-loss tests of the store share (tests/records/store.rs,
//! tests/stack/power_loss.rs): the writer's loop in the child process, what it
//! reported committed, and the checks after each interruption.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;

use perfuse::store::{Action, Event, EventLog, Page};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub drug: String,
    pub rate_ml_h: String,
    pub infused_ml: String,
    pub step: u64,
    /// Always `step * 2`: a torn write would show as a mismatch.
    pub check: u64,
}

pub fn program(step: u64) -> Program {
    Program {
        drug: "Heparin 25,000 units/250 mL".to_owned(),
        rate_ml_h: "12.5".to_owned(),
        infused_ml: format!("{}.{:03}", step / 1000, step % 1000),
        step,
        check: step * 2,
    }
}

/// The child's work: appends an event and saves the program in turn,
/// printing `event N` and `program N` once each is committed, `steps` times
/// (until it is killed or the power fails, in practice).
pub fn write_steps(log: &mut EventLog, round: u64, steps: u64) {
    let mut out = std::io::stdout().lock();
    // Off the test harness's "test ... " line.
    writeln!(out).unwrap();
    for step in 0..steps {
        log.append(&Event::Interaction {
            screen: Page::Program,
            action: Action::Value,
            element: format!("round {round} step {step}"),
            monotonic_ms: 0,
        })
        .unwrap();
        writeln!(out, "event {step}").unwrap();
        out.flush().unwrap();
        log.save_program(&program(round * 1_000_000 + step))
            .unwrap();
        writeln!(out, "program {step}").unwrap();
        out.flush().unwrap();
    }
}

/// What the child said it committed, from its output lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reported {
    pub last_event: Option<u64>,
    pub last_program: Option<u64>,
}

impl Reported {
    pub fn read(line: &str, reported: &mut Reported) {
        let mut words = line.split_whitespace();
        match (
            words.next(),
            words.next().and_then(|n| n.parse::<u64>().ok()),
        ) {
            (Some("event"), Some(step)) => reported.last_event = Some(step),
            (Some("program"), Some(step)) => reported.last_program = Some(step),
            _ => {}
        }
    }
}

/// After round `round` was interrupted: the database opens and is intact,
/// every event reported committed is there in order (the one in flight may
/// be too), and the program is the last committed or the next, never a mix.
/// Returns the events of the round.
pub fn check_round(path: &std::path::Path, round: u64, what: &str, reported: Reported) -> usize {
    let log = EventLog::open(path).unwrap_or_else(|error| {
        panic!("round {round} ({what}): the database does not open: {error}")
    });
    assert_eq!(log.integrity().unwrap(), "ok", "round {round} ({what})");
    let prefix = format!("round {round} step ");
    let steps: Vec<u64> = log
        .events(0, i64::MAX, &[perfuse::store::EventKind::Interaction])
        .unwrap()
        .into_iter()
        .filter_map(|recorded| match recorded.event {
            Event::Interaction { element, .. } => element
                .strip_prefix(prefix.as_str())
                .and_then(|n| n.parse().ok()),
            _ => None,
        })
        .collect();
    let committed = reported.last_event.map_or(0, |last| last + 1);
    assert!(
        steps.len() as u64 == committed || steps.len() as u64 == committed + 1,
        "round {round} ({what}): {} events stored, {committed} reported committed",
        steps.len()
    );
    assert!(
        steps
            .iter()
            .enumerate()
            .all(|(index, step)| *step == index as u64),
        "round {round} ({what}): {steps:?}"
    );
    if let Some(last_program) = reported.last_program {
        let saved = log.load_program::<Program>().unwrap().unwrap().program;
        assert_eq!(
            saved,
            program(saved.step),
            "round {round} ({what}): a torn program"
        );
        let step = saved.step - round * 1_000_000;
        assert!(
            step == last_program || step == last_program + 1,
            "round {round} ({what}): program step {step}, last committed {last_program}"
        );
    }
    steps.len()
}

/// The name the test harness gives test `name` of the module at
/// `module_path` (`module_path!()`): its path inside the test binary, for
/// a test that runs its own binary again as the child (`--exact`).
pub fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_binary, module)) => format!("{module}::{name}"),
        None => name.to_owned(),
    }
}
