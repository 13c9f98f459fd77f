//! Usability metrics from the interaction records: for each programming
//! task (a new infusion, titration, bolus, secondary or resume) how long it
//! took, how many touches, how many entries the pump refused and how often
//! the nurse went back, and whether it ended in a start or was abandoned;
//! for each alarm shown, how long until it was silenced and acknowledged.
//! Times are the records' monotonic milliseconds. `perfuse-log --metrics`
//! prints them.

use serde::Serialize;

use crate::store::{Action, Event, Page};

/// How a programming task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Started,
    Cancelled,
    /// The records end (or another task begins) before it ended.
    Unfinished,
}

/// One programming task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// What began it: new-program, titrate, bolus, secondary, resume-interrupted.
    pub kind: String,
    pub started_ms: u64,
    pub duration_ms: u64,
    pub touches: u32,
    /// Entries or keys the pump refused (as typed or on Next).
    pub refusals: u32,
    pub backs: u32,
    pub outcome: Outcome,
}

/// One alarm as the nurse met it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmResponse {
    pub condition: String,
    pub shown_ms: u64,
    pub silenced_after_ms: Option<u64>,
    pub acknowledged_after_ms: Option<u64>,
}

/// All metrics of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    pub tasks: Vec<Task>,
    pub alarms: Vec<AlarmResponse>,
}

const TASK_STARTS: [&str; 5] = [
    "new-program",
    "titrate",
    "bolus",
    "secondary",
    "resume-interrupted",
];

/// Computes the metrics of `events` (in the order recorded).
pub fn metrics<'a>(events: impl IntoIterator<Item = &'a Event>) -> Metrics {
    let mut result = Metrics::default();
    let mut task: Option<Task> = None;
    let mut last_ms = 0;
    for event in events {
        let Event::Interaction {
            screen,
            action,
            element,
            monotonic_ms,
        } = event
        else {
            continue;
        };
        let at = *monotonic_ms;
        last_ms = at;
        match action {
            Action::Touch
                if TASK_STARTS.contains(&element.as_str()) && *screen != Page::Program =>
            {
                if let Some(mut open) = task.take() {
                    open.duration_ms = at.saturating_sub(open.started_ms);
                    result.tasks.push(open);
                }
                task = Some(Task {
                    kind: element.clone(),
                    started_ms: at,
                    duration_ms: 0,
                    touches: 1,
                    refusals: 0,
                    backs: 0,
                    outcome: Outcome::Unfinished,
                });
            }
            Action::Touch => {
                if let Some(open) = task.as_mut() {
                    open.touches = open.touches.saturating_add(1);
                    match element.as_str() {
                        "back" => open.backs = open.backs.saturating_add(1),
                        "cancel" => open.outcome = Outcome::Cancelled,
                        _ => {}
                    }
                }
            }
            Action::Refused => {
                if let Some(open) = task.as_mut() {
                    open.refusals = open.refusals.saturating_add(1);
                }
            }
            // The running screen after a start (or home after a cancel)
            // closes the task.
            Action::Page
                if *screen != Page::Program || element == "running" || element == "home" =>
            {
                if let Some(mut open) = task.take() {
                    let ended = matches!(element.as_str(), "running" | "home" | "interrupted");
                    if ended {
                        if open.outcome == Outcome::Unfinished {
                            open.outcome = Outcome::Started;
                        }
                        open.duration_ms = at.saturating_sub(open.started_ms);
                        result.tasks.push(open);
                    } else {
                        task = Some(open);
                    }
                }
            }
            Action::AlarmShown => result.alarms.push(AlarmResponse {
                condition: element.clone(),
                shown_ms: at,
                silenced_after_ms: None,
                acknowledged_after_ms: None,
            }),
            Action::AlarmSilenced | Action::AlarmAcknowledged => {
                let silenced = *action == Action::AlarmSilenced;
                if let Some(alarm) = result
                    .alarms
                    .iter_mut()
                    .rev()
                    .find(|alarm| &alarm.condition == element)
                {
                    let after = Some(at.saturating_sub(alarm.shown_ms));
                    if silenced && alarm.silenced_after_ms.is_none() {
                        alarm.silenced_after_ms = after;
                    } else if !silenced && alarm.acknowledged_after_ms.is_none() {
                        alarm.acknowledged_after_ms = after;
                    }
                }
            }
            // A page shown inside the programming workflow, or a value
            // entered, neither starts nor ends a task.
            Action::Page | Action::Value => {}
        }
    }
    if let Some(mut open) = task {
        open.duration_ms = last_ms.saturating_sub(open.started_ms);
        result.tasks.push(open);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(screen: &str, action: &str, element: &str, at: u64) -> Event {
        let (Some(screen), Some(action)) = (Page::from_name(screen), Action::from_name(action))
        else {
            panic!("no page {screen:?} or no action {action:?}");
        };
        Event::Interaction {
            screen,
            action,
            element: element.to_owned(),
            monotonic_ms: at,
        }
    }

    #[test]
    fn a_task_counts_touches_refusals_and_backs_until_its_start() {
        let events = [
            record("home", "touch", "new-program", 1_000),
            record("program", "page", "program", 1_001),
            record("program", "touch", "key Digit(4)", 2_000),
            record("program", "touch", "next", 2_500),
            record("program", "refused", "HardLimit", 2_500),
            record("program", "touch", "back", 3_000),
            record("program", "touch", "start", 9_000),
            record("running", "page", "running", 9_001),
            record("running", "alarm-shown", "DownstreamOcclusion", 20_000),
            record("running", "alarm-silenced", "DownstreamOcclusion", 23_500),
            record(
                "running",
                "alarm-acknowledged",
                "DownstreamOcclusion",
                30_000,
            ),
            record("running", "touch", "titrate", 40_000),
            record("program", "page", "program", 40_001),
            record("program", "touch", "cancel", 41_000),
            record("running", "page", "running", 41_001),
        ];
        let metrics = metrics(&events);
        assert_eq!(metrics.tasks.len(), 2);
        let first = &metrics.tasks[0];
        assert_eq!(
            (
                first.kind.as_str(),
                first.duration_ms,
                first.touches,
                first.refusals,
                first.backs,
                first.outcome
            ),
            ("new-program", 8_001, 5, 1, 1, Outcome::Started)
        );
        assert_eq!(metrics.tasks[1].outcome, Outcome::Cancelled);
        assert_eq!(
            metrics.alarms,
            [AlarmResponse {
                condition: "DownstreamOcclusion".to_owned(),
                shown_ms: 20_000,
                silenced_after_ms: Some(3_500),
                acknowledged_after_ms: Some(10_000),
            }]
        );
    }

    #[test]
    fn a_task_cut_short_is_unfinished() {
        let events = [
            record("home", "touch", "new-program", 0),
            record("program", "touch", "next", 500),
        ];
        let metrics = metrics(&events);
        assert_eq!(metrics.tasks[0].outcome, Outcome::Unfinished);
        assert_eq!(metrics.tasks[0].duration_ms, 500);
    }
}
