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

fn timing() -> AlarmTiming {
    AlarmTiming {
        escalate_after_ms: 30_000,
        reminder_every_ms: 15_000,
    }
}

#[test]
fn an_unanswered_medium_alarm_escalates_to_high_and_acknowledging_answers_it() {
    let mut alarms = Alarms::with_timing(timing());
    alarms.update(Condition::InfusionComplete, true, 1_000);
    assert_eq!(
        alarms.update(Condition::InfusionComplete, true, 30_999),
        None
    );
    let top = alarms.active().next().unwrap();
    assert_eq!((top.priority, top.escalated), (Priority::Medium, false));
    assert_eq!(
        alarms.update(Condition::InfusionComplete, true, 31_000),
        Some(AlarmChange::Escalated(Condition::InfusionComplete))
    );
    let top = alarms.active().next().unwrap();
    assert_eq!((top.priority, top.escalated), (Priority::High, true));
    // It sounds high from the moment it escalated, and stops no flow.
    let sound = alarms.announcement(31_000).unwrap();
    assert_eq!((sound.priority, sound.since_ms), (Priority::High, 31_000));
    assert!(!alarms.stopping_flow());
    // Once only.
    assert_eq!(
        alarms.update(Condition::InfusionComplete, true, 90_000),
        None
    );
    // Answered: back to medium, and it does not escalate again.
    alarms.acknowledge();
    let top = alarms.active().next().unwrap();
    assert_eq!((top.priority, top.escalated), (Priority::Medium, false));
    assert_eq!(
        alarms.update(Condition::InfusionComplete, true, 500_000),
        None
    );
}

#[test]
fn a_silence_defers_escalation_to_its_end_and_some_alarms_never_escalate() {
    let mut alarms = Alarms::with_timing(timing());
    alarms.update(Condition::CallbackPaused, true, 0);
    alarms.update(Condition::StorageFault, true, 0);
    alarms.update(Condition::NearEnd, true, 0);
    assert!(alarms.silence(10_000));
    // Due at 30 s, but the nurse asked for quiet until 130 s.
    assert_eq!(alarms.update(Condition::CallbackPaused, true, 31_000), None);
    assert_eq!(
        alarms.update(Condition::CallbackPaused, true, 130_000),
        Some(AlarmChange::Escalated(Condition::CallbackPaused))
    );
    assert_eq!(alarms.silence_remaining_ms(130_000), 0);
    for condition in [Condition::StorageFault, Condition::NearEnd] {
        assert_eq!(
            alarms.update(condition, true, 900_000),
            None,
            "{condition:?}"
        );
    }
    // Every escalating condition is medium: escalation only ever raises.
    for condition in Condition::ALL.into_iter().filter(|c| c.escalates()) {
        assert_eq!(condition.priority(), Priority::Medium, "{condition:?}");
    }
}

#[test]
fn a_reminder_pulses_during_an_audio_pause_and_while_a_program_waits() {
    let mut alarms = Alarms::with_timing(timing());
    // Nothing raised, nothing waiting: no reminder ever.
    assert!(!alarms.reminder(15_000));
    // A program loaded at 2 s and not started: a pulse every 15 s.
    alarms.set_waiting(Some(2_000));
    assert!(!alarms.reminder(16_999));
    assert!(alarms.reminder(17_000));
    assert!(alarms.reminder(17_000 + REMINDER_WINDOW_MS - 1));
    assert!(!alarms.reminder(17_000 + REMINDER_WINDOW_MS));
    assert!(alarms.reminder(32_100));
    // An alarm sounding is no time for a reminder.
    alarms.update(Condition::CallbackUnstarted, true, 40_000);
    assert!(!alarms.reminder(47_000));
    // Silenced at 50 s with the condition present: 65 s, 80 s, ...
    assert!(alarms.silence(50_000));
    assert!(!alarms.reminder(60_000));
    assert!(alarms.reminder(65_000));
    assert!(alarms.reminder(80_100));
    // The condition went away: no reminder for what is no longer there.
    alarms.update(Condition::CallbackUnstarted, false, 81_000);
    alarms.set_waiting(None);
    assert!(!alarms.reminder(95_000));
}
