//! Where the history screen reads the event log from: the database, read
//! only, or the records kept in memory (UI tests, a pump whose log could not
//! be opened).

use super::pump::MemoryRecorder;
use crate::store::writer::StoreHandle;
use crate::store::{EventKind, Recorded};

/// Most events the history screen lists.
pub const HISTORY_ROWS: usize = 200;

/// The history screen's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFilter {
    All,
    Alarms,
    Programs,
    Interactions,
}

impl HistoryFilter {
    /// The filter's id between the markup and the session.
    pub fn id(self) -> &'static str {
        match self {
            HistoryFilter::All => "All",
            HistoryFilter::Alarms => "Alarms",
            HistoryFilter::Programs => "Programs",
            HistoryFilter::Interactions => "Interactions",
        }
    }

    pub const ALL: [HistoryFilter; 4] = [
        HistoryFilter::All,
        HistoryFilter::Alarms,
        HistoryFilter::Programs,
        HistoryFilter::Interactions,
    ];

    /// The event kinds shown (empty: all).
    pub const fn kinds(self) -> &'static [EventKind] {
        match self {
            HistoryFilter::All => &[],
            HistoryFilter::Alarms => &[
                EventKind::AlarmRaised,
                EventKind::AlarmEscalated,
                EventKind::AlarmSilenced,
                EventKind::AlarmAcknowledged,
                EventKind::AlarmCleared,
                EventKind::SupervisorTrip,
            ],
            HistoryFilter::Programs => &[
                EventKind::ProgramStarted,
                EventKind::ProgramChanged,
                EventKind::ProgramPaused,
                EventKind::ProgramResumed,
                EventKind::ProgramStopped,
                EventKind::ProgramCompleted,
                EventKind::SoftLimitOverride,
                EventKind::PcaDemand,
            ],
            HistoryFilter::Interactions => &[EventKind::Interaction],
        }
    }
}

/// Reads the newest events.
pub trait History {
    fn latest(&mut self, filter: HistoryFilter) -> Result<Vec<Recorded>, String>;
}

/// The event log, read by its writer (whose connection holds the database
/// alone while the pump runs: src/store, "exclusive").
pub struct LogHistory {
    pub store: StoreHandle,
}

impl History for LogHistory {
    fn latest(&mut self, filter: HistoryFilter) -> Result<Vec<Recorded>, String> {
        self.store.latest(filter.kinds(), HISTORY_ROWS)
    }
}

impl History for MemoryRecorder {
    fn latest(&mut self, filter: HistoryFilter) -> Result<Vec<Recorded>, String> {
        let events = self
            .events
            .lock()
            .map_err(|_| "the records are not readable".to_owned())?;
        let times = self
            .times
            .lock()
            .map_err(|_| "the records are not readable".to_owned())?;
        let kinds = filter.kinds();
        Ok(events
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, event)| kinds.is_empty() || kinds.contains(&event.kind()))
            .take(HISTORY_ROWS)
            .map(|(index, event)| Recorded {
                id: i64::try_from(index).unwrap_or(i64::MAX),
                at_ms: times.get(index).copied().unwrap_or(0),
                event: event.clone(),
            })
            .collect())
    }
}
