use super::*;

#[test]
fn each_condition_keeps_the_name_the_event_log_has_always_used() {
    for condition in Condition::ALL {
        // The log was first written with the Debug form: it must not change.
        assert_eq!(condition.name(), format!("{condition:?}"));
        assert_eq!(Condition::from_name(condition.name()), Some(condition));
    }
    assert_eq!(Condition::from_name("Occlusion"), None);
}

#[test]
fn several_alarms_are_listed_by_priority_then_age() {
    let mut alarms = Alarms::new();
    alarms.update(Condition::NearEnd, true, 10);
    alarms.update(Condition::CallbackPaused, true, 20);
    alarms.update(Condition::DoorOpen, true, 30);
    alarms.update(Condition::AirInLine, true, 40);
    let order: Vec<Condition> = alarms.active().map(|alarm| alarm.condition).collect();
    assert_eq!(
        order,
        vec![
            Condition::DoorOpen,
            Condition::AirInLine,
            Condition::CallbackPaused,
            Condition::NearEnd
        ]
    );
}

#[test]
fn a_physical_cause_is_shown_before_the_supervisors_cut_it_led_to() {
    let mut alarms = Alarms::new();
    // The trip came first (the app stalled under load) and the
    // occlusion a moment later: the nurse is sent to the line first.
    alarms.update(Condition::SupervisorTrip, true, 10);
    alarms.update(Condition::DownstreamOcclusion, true, 20);
    alarms.update(Condition::DriverFault, true, 30);
    let order: Vec<Condition> = alarms.active().map(|alarm| alarm.condition).collect();
    assert_eq!(
        order,
        vec![
            Condition::DownstreamOcclusion,
            Condition::DriverFault,
            Condition::SupervisorTrip
        ]
    );
}

#[test]
fn a_latching_alarm_stays_until_acknowledged_even_when_its_cause_is_gone() {
    let mut alarms = Alarms::new();
    assert_eq!(
        alarms.update(Condition::DownstreamOcclusion, true, 0),
        Some(AlarmChange::Raised(Condition::DownstreamOcclusion))
    );
    assert_eq!(
        alarms.update(Condition::DownstreamOcclusion, false, 100),
        None
    );
    assert!(alarms.stopping_flow());
    assert_eq!(alarms.acknowledge(), 1);
    assert!(!alarms.stopping_flow());
    // Non-latching alarms clear with their condition.
    alarms.update(Condition::NearEnd, true, 200);
    assert_eq!(
        alarms.update(Condition::NearEnd, false, 300),
        Some(AlarmChange::Cleared(Condition::NearEnd))
    );
}

#[test]
fn acknowledging_a_present_alarm_keeps_it_until_the_cause_goes() {
    let mut alarms = Alarms::new();
    alarms.update(Condition::AirInLine, true, 0);
    assert_eq!(alarms.acknowledge(), 0);
    assert!(alarms.stopping_flow());
    assert_eq!(
        alarms.update(Condition::AirInLine, false, 10),
        Some(AlarmChange::Cleared(Condition::AirInLine))
    );
    // And it re-arms: the next air raises again.
    assert_eq!(
        alarms.update(Condition::AirInLine, true, 20),
        Some(AlarmChange::Raised(Condition::AirInLine))
    );
}

#[test]
fn silence_lasts_two_minutes_then_the_alarm_sounds_again() {
    let mut alarms = Alarms::new();
    assert!(!alarms.silence(0), "nothing to silence");
    alarms.update(Condition::DownstreamOcclusion, true, 1000);
    assert!(alarms
        .announcement(1000)
        .is_some_and(|a| a.audible && a.priority == Priority::High));
    assert!(alarms.silence(2000));
    assert_eq!(alarms.silence_remaining_ms(62_000), 60_000);
    assert!(alarms.announcement(121_999).is_some_and(|a| !a.audible));
    assert!(
        alarms.announcement(122_000).is_some_and(|a| a.audible),
        "re-annunciates after 2 min"
    );
}

#[test]
fn a_new_alarm_sounds_through_a_silence() {
    let mut alarms = Alarms::new();
    alarms.update(Condition::NearEnd, true, 0);
    alarms.silence(0);
    alarms.update(Condition::AirInLine, true, 5000);
    let announcement = alarms.announcement(5000);
    assert!(announcement.is_some_and(|a| a.audible && a.priority == Priority::High));
}

#[test]
fn priorities_follow_the_harm() {
    for condition in Condition::ALL {
        assert_eq!(
            condition.stops_flow(),
            condition.priority() == Priority::High,
            "{condition:?}"
        );
        assert!(!condition.action().is_empty());
    }
    assert_eq!(Condition::CallbackPaused.priority(), Priority::Medium);
    assert_eq!(Condition::NearEnd.priority(), Priority::Low);
}
