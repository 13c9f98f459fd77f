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
