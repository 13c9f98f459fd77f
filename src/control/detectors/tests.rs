use super::*;

fn readings(now_s: u64, pressure: i32) -> Readings {
    Readings {
        now_us: now_s * 1_000_000,
        downstream: Some(pressure),
        upstream: Some(200),
        plunger_um: None,
        air: InputState::Inactive,
        door: InputState::Active,
        container: InputState::Active,
        driver: None,
        driver_silent: false,
        encoder: None,
        commanded_steps: 0,
        delivering: true,
        rate: NanolitresPerHour(1_000_000),
        restarted: now_s == 0,
        bus_error: false,
    }
}

#[test]
fn a_slow_rise_alarms_long_before_the_threshold() {
    let settings = DetectorSettings::reference(16_000);
    let mut detector = DownstreamOcclusion::default();
    // 1 mL/h into a closed line: about 1.1 mmHg per 10 s.
    let mut alarmed_at = None;
    for second in 0..3000 {
        let pressure = 80
            + if second > 60 {
                (second - 60) as i32 * 11 / 10
            } else {
                0
            };
        if detector.update(Some(pressure), &readings(second, pressure), &settings) {
            alarmed_at = Some(second);
            break;
        }
    }
    // 40 mmHg above baseline at about 6 minutes, held 2 s; the 300 mmHg threshold would take 45.
    let at = alarmed_at.unwrap_or(u64::MAX);
    assert!((420..=430).contains(&at), "alarmed at {at} s");
}

#[test]
fn steady_pressure_and_the_start_transient_do_not_alarm() {
    let settings = DetectorSettings::reference(16_000);
    let mut detector = DownstreamOcclusion::default();
    for second in 0..600 {
        // The pressure climbs to its working level in the first seconds.
        let pressure = if second < 5 {
            80 + second as i32 * 300
        } else {
            1580
        };
        assert!(
            !detector.update(Some(pressure), &readings(second, pressure), &settings),
            "{second}"
        );
    }
}

#[test]
fn a_brief_spike_does_not_alarm_but_a_held_one_does() {
    let settings = DetectorSettings::reference(16_000);
    let mut detector = DownstreamOcclusion::default();
    for second in 0..20 {
        detector.update(Some(100), &readings(second, 100), &settings);
    }
    assert!(!detector.update(Some(3500), &readings(20, 3500), &settings));
    assert!(!detector.update(Some(100), &readings(21, 100), &settings));
    assert!(!detector.update(Some(3500), &readings(22, 3500), &settings));
    assert!(!detector.update(Some(3500), &readings(23, 3500), &settings));
    assert!(detector.update(Some(3500), &readings(24, 3500), &settings));
}

#[test]
fn a_bubble_alarms_by_volume_and_small_ones_add_up() {
    let settings = DetectorSettings::reference(16_000);
    let mut air = Air::default();
    // 100 mL/h = 27.8 uL/s: a 50 uL bubble takes 1.8 s to pass.
    let mut reading = readings(0, 100);
    reading.rate = NanolitresPerHour(100_000_000);
    reading.air = InputState::Active;
    let mut alarmed_after_ms = None;
    for ms in 0..3000 {
        reading.now_us = ms * 1000;
        if air.update(&reading, &settings).0 {
            alarmed_after_ms = Some(ms);
            break;
        }
    }
    assert_eq!(alarmed_after_ms, Some(1800));
    // 40 bubbles of 30 uL, one every 20 s (13 min): none alarms alone;
    // together they pass 1 mL within the 15-minute window.
    let mut air = Air::default();
    let mut accumulated = false;
    for ms in 0..800_000_u64 {
        reading.now_us = ms * 1000;
        reading.air = if ms % 20_000 < 1080 {
            InputState::Active
        } else {
            InputState::Inactive
        };
        let (single, total) = air.update(&reading, &settings);
        assert!(!single, "a 30 uL bubble alone at {ms} ms");
        accumulated |= total;
    }
    assert!(accumulated);
}

#[test]
fn an_occlusion_still_holding_pressure_after_the_stop_stays_present() {
    let settings = DetectorSettings::reference(16_000);
    let mut detector = DownstreamOcclusion::default();
    // Settle at 8 mmHg while delivering, then the line closes.
    for second in 0..=20 {
        detector.update(Some(80), &readings(second, 80), &settings);
    }
    let mut stopped = readings(30, 1240);
    stopped.delivering = false;
    stopped.restarted = false;
    // Held 124 mmHg with the pump stopped: the clamp is still closed.
    assert!(!detector.update(Some(1240), &stopped, &settings));
    stopped.now_us += settings.persist_us;
    assert!(detector.update(Some(1240), &stopped, &settings));
    // Freed: the line drains to its baseline and the condition goes.
    stopped.now_us += 1_000_000;
    assert!(!detector.update(Some(90), &stopped, &settings));
}

#[test]
fn a_missing_syringe_is_unsafe_while_delivering() {
    let settings = DetectorSettings::reference(16_000);
    let mut detectors = Detectors::default();
    let mut reading = readings(0, 100);
    assert!(!detectors
        .evaluate(&reading, &settings)
        .contains(Condition::SyringeNotLoaded));
    for state in [InputState::Inactive, InputState::Unknown] {
        reading.container = state;
        reading.delivering = true;
        assert!(detectors
            .evaluate(&reading, &settings)
            .contains(Condition::SyringeNotLoaded));
        reading.delivering = false;
        assert!(!detectors
            .evaluate(&reading, &settings)
            .contains(Condition::SyringeNotLoaded));
    }
}

#[test]
fn the_door_and_an_unknown_input_are_unsafe_while_delivering() {
    let settings = DetectorSettings::reference(16_000);
    let mut detectors = Detectors::default();
    let mut reading = readings(0, 100);
    reading.door = InputState::Unknown;
    assert!(detectors
        .evaluate(&reading, &settings)
        .contains(Condition::DoorOpen));
    reading.delivering = false;
    assert!(!detectors
        .evaluate(&reading, &settings)
        .contains(Condition::DoorOpen));
}

#[test]
fn the_encoder_must_follow_the_steps() {
    let settings = DetectorSettings::reference(16_000);
    let mut check = EncoderCheck::default();
    let mut reading = readings(0, 100);
    // 1600 steps per second = 400 counts per second expected.
    let mut flagged = false;
    for second in 0..6_u64 {
        reading.now_us = second * 1_000_000;
        reading.commanded_steps = second as i64 * 1600;
        reading.encoder = Some(if second < 3 {
            second as i64 * 400
        } else {
            1200
        });
        flagged = check.update(&reading, &settings);
        assert_eq!(flagged, second >= 5, "second {second}");
    }
    assert!(flagged);
}

#[test]
fn a_failed_sensor_is_a_condition() {
    let settings = DetectorSettings::reference(16_000);
    let mut detectors = Detectors::default();
    let mut reading = readings(0, 100);
    reading.downstream = None;
    assert!(detectors
        .evaluate(&reading, &settings)
        .contains(Condition::SensorFault));
}
