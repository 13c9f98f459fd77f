use super::*;

fn volume(level: u8) -> AlarmVolume {
    AlarmVolume::new(level).unwrap_or(AlarmVolume::LOUDEST)
}

#[test]
fn the_set_volume_is_used_except_below_the_high_priority_floor_and_after_a_trip() {
    for level in 1..=4 {
        let set = volume(level);
        for alarm in [AlarmLevel::None, AlarmLevel::Low, AlarmLevel::Medium] {
            assert_eq!(sounding_volume(alarm, set, false), set);
        }
        assert_eq!(
            sounding_volume(AlarmLevel::High, set, false),
            volume(level.max(3)),
            "high priority at set level {level}"
        );
        for alarm in [
            AlarmLevel::None,
            AlarmLevel::Low,
            AlarmLevel::Medium,
            AlarmLevel::High,
        ] {
            assert_eq!(sounding_volume(alarm, set, true), AlarmVolume::LOUDEST);
        }
    }
}

#[test]
fn a_reminder_sounds_two_levels_below_the_set_volume_and_never_silent() {
    assert_eq!(
        sounding_volume(AlarmLevel::Reminder, volume(4), false),
        volume(2)
    );
    assert_eq!(
        sounding_volume(AlarmLevel::Reminder, volume(2), false),
        volume(1)
    );
    assert_eq!(
        sounding_volume(AlarmLevel::Reminder, volume(1), false),
        volume(1)
    );
}

#[test]
fn the_burst_plays_from_when_it_was_asked_for_not_from_each_heartbeat() {
    // Heartbeats every 10 ms repeat a medium request: the pattern keeps its
    // phase (3 pulses of 200 ms, 200 ms apart, then 5 s quiet), rather than
    // starting over, which would hold the buzzer on.
    let mut playing = Playing::QUIET;
    let mut sounding_ms = 0;
    for ms in 0..6_200_u64 {
        let now = 1_000_000 + ms * 1000;
        if ms % 10 == 0 {
            playing = playing.follow(AlarmLevel::Medium, true, now);
        }
        if playing.sounding(now) {
            sounding_ms += 1;
        }
    }
    assert_eq!(
        sounding_ms,
        600 + 200,
        "three pulses, then the next burst's first"
    );
    // Another level starts its own pattern; the same one after a silence too.
    let high = playing.follow(AlarmLevel::High, true, 9_000_000);
    assert_eq!(high.since_us, 9_000_000);
    let paused = high.follow(AlarmLevel::High, false, 9_500_000);
    assert!(!paused.sounding(9_500_000));
    let again = paused.follow(AlarmLevel::High, true, 9_600_000);
    assert_eq!(again.since_us, 9_600_000);
    assert!(again.sounding(9_600_000));
    // A reminder is one 150 ms pulse.
    let reminder = Playing::QUIET.follow(AlarmLevel::Reminder, true, 0);
    let pulse = (0..1000_u64)
        .filter(|ms| reminder.sounding(ms * 1000))
        .count();
    assert_eq!(pulse, 150);
}
