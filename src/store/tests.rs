use super::*;

#[test]
fn every_kind_is_listed_once_and_matches_its_serde_tag() {
    let text = || String::new();
    let all = [
        Event::PowerOn,
        Event::PowerOff,
        Event::SelfTest {
            passed: true,
            detail: text(),
        },
        Event::PlatformCheck {
            verified: true,
            detail: text(),
        },
        Event::LibraryActivated {
            name: text(),
            version: text(),
            hash: text(),
        },
        Event::LibraryRefused { detail: text() },
        Event::ProgramStarted { program: text() },
        Event::ProgramChanged { program: text() },
        Event::ProgramPaused,
        Event::ProgramResumed,
        Event::ProgramStopped,
        Event::ProgramCompleted,
        Event::AlarmRaised {
            condition: text(),
            priority: text(),
        },
        Event::AlarmSilenced { condition: text() },
        Event::AlarmAcknowledged { condition: text() },
        Event::AlarmCleared { condition: text() },
        Event::SupervisorTrip { reason: text() },
        Event::SoftLimitOverride {
            drug: text(),
            value: text(),
            limit: text(),
        },
        Event::Interaction {
            screen: Page::NotVerified,
            action: Action::AlarmAcknowledged,
            element: text(),
            monotonic_ms: 1,
        },
        Event::EventsDropped { count: 1 },
        Event::StorageFault { detail: text() },
        Event::PcaDemand { outcome: text() },
        Event::AlarmEscalated {
            condition: text(),
            priority: text(),
        },
        Event::Order {
            order: text(),
            outcome: text(),
            detail: text(),
        },
        Event::LibraryOffer {
            offer: text(),
            outcome: text(),
            detail: text(),
        },
    ];
    assert_eq!(all.len(), EventKind::ALL.len());
    for (event, kind) in all.iter().zip(EventKind::ALL) {
        assert_eq!(event.kind(), kind);
        let json = serde_json::to_value(event).unwrap_or_default();
        assert_eq!(json["kind"], kind.name());
        assert_eq!(EventKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(EventKind::from_name("alarm"), None);
}
