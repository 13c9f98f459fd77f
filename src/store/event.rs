//! What the log holds: each event's kind and fields (stored as JSON with
//! its kind as the serde tag), and an event or a saved program as read
//! back.

use serde::{Deserialize, Serialize};

/// The screen an interaction happened on, as stored ("not-verified").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Page {
    Startup,
    NotVerified,
    Home,
    Program,
    Running,
    Interrupted,
    History,
    Pin,
    Settings,
    Locked,
    Syringe,
    StartLater,
    Order,
}

impl Page {
    pub const ALL: [Page; 13] = [
        Page::Startup,
        Page::NotVerified,
        Page::Home,
        Page::Program,
        Page::Running,
        Page::Interrupted,
        Page::History,
        Page::Pin,
        Page::Settings,
        Page::Locked,
        Page::Syringe,
        Page::StartLater,
        Page::Order,
    ];

    /// The name stored in the log and shown in the history.
    pub const fn name(self) -> &'static str {
        match self {
            Page::Startup => "startup",
            Page::NotVerified => "not-verified",
            Page::Home => "home",
            Page::Program => "program",
            Page::Running => "running",
            Page::Interrupted => "interrupted",
            Page::History => "history",
            Page::Pin => "pin",
            Page::Settings => "settings",
            Page::Locked => "locked",
            Page::Syringe => "syringe",
            Page::StartLater => "start-later",
            Page::Order => "order",
        }
    }

    /// The page stored under `name`, if any.
    pub fn from_name(name: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|page| page.name() == name)
    }
}

impl std::fmt::Display for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of interaction it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// An element was touched.
    Touch,
    /// A page (or a programming step) was shown.
    Page,
    /// A value was entered or chosen.
    Value,
    /// The pump refused what was entered.
    Refused,
    AlarmShown,
    AlarmSilenced,
    AlarmAcknowledged,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Touch,
        Action::Page,
        Action::Value,
        Action::Refused,
        Action::AlarmShown,
        Action::AlarmSilenced,
        Action::AlarmAcknowledged,
    ];

    /// The name stored in the log and shown in the history.
    pub const fn name(self) -> &'static str {
        match self {
            Action::Touch => "touch",
            Action::Page => "page",
            Action::Value => "value",
            Action::Refused => "refused",
            Action::AlarmShown => "alarm-shown",
            Action::AlarmSilenced => "alarm-silenced",
            Action::AlarmAcknowledged => "alarm-acknowledged",
        }
    }

    /// The action stored under `name`, if any.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the pump records. Each is stored with its kind (for filters) and
/// its fields as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    PowerOn,
    PowerOff,
    SelfTest {
        passed: bool,
        detail: String,
    },
    PlatformCheck {
        verified: bool,
        detail: String,
    },
    LibraryActivated {
        name: String,
        version: String,
        hash: String,
    },
    /// The installed drug library could not be used at the start: why (the
    /// technical text), and which library is in use instead.
    LibraryRefused {
        detail: String,
    },
    ProgramStarted {
        program: String,
    },
    ProgramChanged {
        program: String,
    },
    ProgramPaused,
    ProgramResumed,
    ProgramStopped,
    ProgramCompleted,
    AlarmRaised {
        condition: String,
        priority: String,
    },
    /// A medium alarm nobody answered for the profile's
    /// `alarms.escalate_after_s`: it now sounds and shows as `priority`.
    AlarmEscalated {
        condition: String,
        priority: String,
    },
    AlarmSilenced {
        condition: String,
    },
    AlarmAcknowledged {
        condition: String,
    },
    AlarmCleared {
        condition: String,
    },
    SupervisorTrip {
        reason: String,
    },
    SoftLimitOverride {
        drug: String,
        value: String,
        limit: String,
    },
    /// What the nurse did on the touchscreen, for usability studies:
    /// `element` is the element touched, the page shown, the value entered,
    /// what was refused, or the alarm.
    Interaction {
        screen: Page,
        action: Action,
        #[serde(default)]
        element: String,
        /// Milliseconds since the app started (monotonic, unlike the
        /// wall-clock time stored with every event).
        #[serde(default)]
        monotonic_ms: u64,
    },
    /// Events the queue could not take while it was full.
    EventsDropped {
        count: u64,
    },
    StorageFault {
        detail: String,
    },
    /// The patient pressed the PCA demand button: "given", or refused and
    /// why ("lockout", "limit", "dose-in-progress", "not-infusing").
    PcaDemand {
        outcome: String,
    },
    /// An infusion order from the hospital (`order`: its number) was
    /// "shown" to the nurse, "confirmed" (loaded on the nurse's start) or
    /// "refused" (`detail`: why, as answered to the hospital).
    Order {
        order: String,
        outcome: String,
        #[serde(default)]
        detail: String,
    },
    /// A drug library the hospital sent (`offer`: the offer's id) was
    /// "staged" (`detail`: its name, version and hash) or "refused"
    /// (`detail`: why, as answered to the hospital).
    LibraryOffer {
        offer: String,
        outcome: String,
        #[serde(default)]
        detail: String,
    },
}

/// What kind of event a record is: the log's `kind` column, the serde tag
/// of its detail, and the names export filters take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    PowerOn,
    PowerOff,
    SelfTest,
    PlatformCheck,
    LibraryActivated,
    LibraryRefused,
    ProgramStarted,
    ProgramChanged,
    ProgramPaused,
    ProgramResumed,
    ProgramStopped,
    ProgramCompleted,
    AlarmRaised,
    AlarmEscalated,
    AlarmSilenced,
    AlarmAcknowledged,
    AlarmCleared,
    SupervisorTrip,
    SoftLimitOverride,
    Interaction,
    EventsDropped,
    StorageFault,
    PcaDemand,
    Order,
    LibraryOffer,
}

impl EventKind {
    /// Every kind, in the order the log's format lists them.
    pub const ALL: [EventKind; 25] = [
        EventKind::PowerOn,
        EventKind::PowerOff,
        EventKind::SelfTest,
        EventKind::PlatformCheck,
        EventKind::LibraryActivated,
        EventKind::LibraryRefused,
        EventKind::ProgramStarted,
        EventKind::ProgramChanged,
        EventKind::ProgramPaused,
        EventKind::ProgramResumed,
        EventKind::ProgramStopped,
        EventKind::ProgramCompleted,
        EventKind::AlarmRaised,
        EventKind::AlarmSilenced,
        EventKind::AlarmAcknowledged,
        EventKind::AlarmCleared,
        EventKind::SupervisorTrip,
        EventKind::SoftLimitOverride,
        EventKind::Interaction,
        EventKind::EventsDropped,
        EventKind::StorageFault,
        EventKind::PcaDemand,
        EventKind::AlarmEscalated,
        EventKind::Order,
        EventKind::LibraryOffer,
    ];

    /// The kind's name as stored.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::PowerOn => "power_on",
            EventKind::PowerOff => "power_off",
            EventKind::SelfTest => "self_test",
            EventKind::PlatformCheck => "platform_check",
            EventKind::LibraryActivated => "library_activated",
            EventKind::LibraryRefused => "library_refused",
            EventKind::ProgramStarted => "program_started",
            EventKind::ProgramChanged => "program_changed",
            EventKind::ProgramPaused => "program_paused",
            EventKind::ProgramResumed => "program_resumed",
            EventKind::ProgramStopped => "program_stopped",
            EventKind::ProgramCompleted => "program_completed",
            EventKind::AlarmRaised => "alarm_raised",
            EventKind::AlarmSilenced => "alarm_silenced",
            EventKind::AlarmAcknowledged => "alarm_acknowledged",
            EventKind::AlarmCleared => "alarm_cleared",
            EventKind::SupervisorTrip => "supervisor_trip",
            EventKind::SoftLimitOverride => "soft_limit_override",
            EventKind::Interaction => "interaction",
            EventKind::EventsDropped => "events_dropped",
            EventKind::StorageFault => "storage_fault",
            EventKind::PcaDemand => "pca_demand",
            EventKind::AlarmEscalated => "alarm_escalated",
            EventKind::Order => "order",
            EventKind::LibraryOffer => "library_offer",
        }
    }

    /// The kind named `name`, as stored or as given to an export filter.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Event {
    /// The kind as stored (the serde tag).
    pub fn kind(&self) -> EventKind {
        match self {
            Event::PowerOn => EventKind::PowerOn,
            Event::PowerOff => EventKind::PowerOff,
            Event::SelfTest { .. } => EventKind::SelfTest,
            Event::PlatformCheck { .. } => EventKind::PlatformCheck,
            Event::LibraryActivated { .. } => EventKind::LibraryActivated,
            Event::LibraryRefused { .. } => EventKind::LibraryRefused,
            Event::ProgramStarted { .. } => EventKind::ProgramStarted,
            Event::ProgramChanged { .. } => EventKind::ProgramChanged,
            Event::ProgramPaused => EventKind::ProgramPaused,
            Event::ProgramResumed => EventKind::ProgramResumed,
            Event::ProgramStopped => EventKind::ProgramStopped,
            Event::ProgramCompleted => EventKind::ProgramCompleted,
            Event::AlarmRaised { .. } => EventKind::AlarmRaised,
            Event::AlarmSilenced { .. } => EventKind::AlarmSilenced,
            Event::AlarmAcknowledged { .. } => EventKind::AlarmAcknowledged,
            Event::AlarmCleared { .. } => EventKind::AlarmCleared,
            Event::SupervisorTrip { .. } => EventKind::SupervisorTrip,
            Event::SoftLimitOverride { .. } => EventKind::SoftLimitOverride,
            Event::Interaction { .. } => EventKind::Interaction,
            Event::EventsDropped { .. } => EventKind::EventsDropped,
            Event::StorageFault { .. } => EventKind::StorageFault,
            Event::PcaDemand { .. } => EventKind::PcaDemand,
            Event::AlarmEscalated { .. } => EventKind::AlarmEscalated,
            Event::Order { .. } => EventKind::Order,
            Event::LibraryOffer { .. } => EventKind::LibraryOffer,
        }
    }
}

/// An event as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    /// Wall-clock time, ms since the Unix epoch (UTC).
    pub at_ms: i64,
    pub event: Event,
}

/// The persisted program as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedProgram<T> {
    /// Counts saves; a later save has a higher generation.
    pub generation: i64,
    pub saved_at_ms: i64,
    pub program: T,
}

#[cfg(test)]
mod tests {
    use super::{Action, Page};

    /// The stored JSON is the name shown in the history, for every value,
    /// and is what the string-typed records of earlier versions held.
    #[test]
    fn pages_and_actions_are_stored_by_their_names() {
        for page in Page::ALL {
            let json = serde_json::to_string(&page).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", page.name()));
            assert_eq!(serde_json::from_str::<Page>(&json).ok(), Some(page));
            assert_eq!(Page::from_name(page.name()), Some(page));
        }
        for action in Action::ALL {
            let json = serde_json::to_string(&action).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", action.name()));
            assert_eq!(serde_json::from_str::<Action>(&json).ok(), Some(action));
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
        assert_eq!(Page::NotVerified.name(), "not-verified");
        assert_eq!(Action::AlarmAcknowledged.name(), "alarm-acknowledged");
    }
}
