//! The Pi's PWM path on the simulated board, end to end: heartbeats ask the
//! real supervisor for each priority; the board's PWM registers (period,
//! high time, running) are read every millisecond, checked against the
//! alarm tone's settings, rendered to a WAV file with the simulator's own
//! voice (what the laptop's sound card plays), and analysed like the
//! melody: pulses, lengths, fundamental and harmonics. Then the supervisor
//! is killed and the carrier's fail-safe sounder is heard: within 100 ms,
//! at the loudest, gated at 2 Hz.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use perfuse_drivers::annunciator::{burst, AlarmVolume, Priority};
use perfuse_drivers::melody::{PwmVoice, FUNDAMENTAL_HZ};
use perfuse_drivers::tone::BUZZER_TONE;
use perfuse_heartbeat::protocol::{AlarmLevel, Kind};
use perfuse_sim::BuzzerOutput;
use perfuse_testkit::faults::*;
use perfuse_testkit::sound::*;

use std::time::{Duration, Instant};

/// Heartbeats asking for `level` for `duration`, the board's buzzer read
/// every millisecond: (us since the first request, output).
fn record(
    stack: &Stack,
    app: &mut FakeApp,
    level: AlarmLevel,
    duration: Duration,
) -> Vec<(u64, BuzzerOutput)> {
    let memory = stack.board.memory();
    perfuse_testkit::listen::as_a_microphone();
    app.alarm = level;
    let started = Instant::now();
    let mut last_beat = started - Duration::from_secs(1);
    let mut timeline = Vec::new();
    while started.elapsed() < duration {
        if last_beat.elapsed() >= Duration::from_millis(10) {
            app.send(Kind::Heartbeat, 0);
            last_beat = Instant::now();
        }
        timeline.push((started.elapsed().as_micros() as u64, memory.buzzer_output()));
        std::thread::sleep(Duration::from_micros(500));
    }
    app.alarm = AlarmLevel::None;
    for _ in 0..20 {
        app.send(Kind::Heartbeat, 0);
        std::thread::sleep(Duration::from_millis(10));
    }
    timeline
}

/// The timeline played by the simulator's voice at `RATE`.
fn render(timeline: &[(u64, BuzzerOutput)]) -> Vec<i16> {
    let end_us = timeline.last().map_or(0, |(at, _)| *at);
    let samples = end_us * u64::from(RATE) / 1_000_000;
    let mut voice = PwmVoice::default();
    let mut index = 0;
    (0..samples)
        .map(|sample| {
            let at = sample * 1_000_000 / u64::from(RATE);
            while index + 1 < timeline.len() && timeline[index + 1].0 <= at {
                index += 1;
            }
            let output = timeline[index].1;
            let value = voice.next(output.tone, output.volume, RATE) * 0.9;
            (value * f32::from(i16::MAX)).round() as i16
        })
        .collect()
}

#[test]
fn the_supervisor_plays_each_priority_on_the_pwm_registers_and_the_failsafe_sounds_when_it_dies() {
    let _machine = crate::machine::shared();
    let mut stack = Stack::start();
    let mut app = FakeApp::delivering(&stack, 0x5057_4d00);
    // What was heard, for anyone to read: target/tmp/alarm-sound/pwm-analysis.txt.
    let mut report = String::new();
    // Every priority heard first, the heartbeats never pausing (analysing
    // between them would leave the supervisor without heartbeats: a trip).
    let timelines: Vec<_> = [
        (AlarmLevel::High, Priority::High, "high"),
        (AlarmLevel::Medium, Priority::Medium, "medium"),
        (AlarmLevel::Low, Priority::Low, "low"),
    ]
    .into_iter()
    .map(|(level, priority, name)| {
        let cycle: u32 = burst(priority).iter().map(|phase| phase.milliseconds).sum();
        let timeline = record(
            &stack,
            &mut app,
            level,
            Duration::from_millis(u64::from(cycle.min(8_000)) + 200),
        );
        (priority, name, timeline)
    })
    .collect();
    let log = stack.log();
    assert!(
        !log.contains("TRIP"),
        "the supervisor tripped while listening:\n{log}"
    );
    for (priority, name, timeline) in timelines {
        let pattern = burst(priority);
        // The registers: only ever the alarm tone's period, its high time
        // never above the tone's 15 %, reaching it on every pulse's plateau.
        let tones: Vec<_> = timeline.iter().filter_map(|(_, out)| out.tone).collect();
        assert!(
            timeline.iter().all(|(_, out)| !out.failsafe),
            "{name}: the fail-safe sounder ran with the supervisor alive"
        );
        assert!(!tones.is_empty(), "{name}: the PWM never ran");
        assert!(
            tones
                .iter()
                .all(|tone| tone.period_ns == BUZZER_TONE.period_ns
                    && tone.duty_ns <= BUZZER_TONE.duty_ns),
            "{name}: PWM settings other than the alarm tone's: {:?}",
            tones
                .iter()
                .find(|tone| tone.period_ns != BUZZER_TONE.period_ns
                    || tone.duty_ns > BUZZER_TONE.duty_ns)
        );
        assert!(tones.contains(&BUZZER_TONE), "{name}: never at full duty");
        let ramp = tones
            .iter()
            .filter(|tone| tone.duty_ns < BUZZER_TONE.duty_ns)
            .count();
        assert!(ramp > 0, "{name}: the pulses do not rise and fall");
        // The sound, as the laptop would play it, analysed.
        let samples = through_wav(&format!("pwm-{name}"), &render(&timeline));
        let found = pulses(&samples);
        let expected: Vec<u32> = pattern
            .iter()
            .filter(|phase| phase.sounding)
            .map(|phase| phase.milliseconds)
            .collect();
        // The low pattern's cycle is 15.6 s; 8 s hold its burst of 2.
        let whole: Vec<_> = found.iter().take(expected.len()).collect();
        assert_eq!(whole.len(), expected.len(), "{name}: pulses {found:?}");
        for ((start, end), nominal) in whole.iter().zip(&expected) {
            let length = ms(end - start);
            assert!(
                (length - *nominal as f32).abs() <= 20.0,
                "{name}: a pulse of {length} ms from the registers, the pattern's is {nominal} ms; pulses {:?}\nsupervisor log:\n{}",
                found.iter().map(|(start, end)| (ms(*start), ms(end - start))).collect::<Vec<_>>(),
                log
            );
            let (fundamental, bin_hz, harmonics) = pulse_spectrum(&samples, (*start, *end));
            assert!(
                (fundamental - FUNDAMENTAL_HZ).abs() < 3.0 * bin_hz + 2.0,
                "{name}: fundamental {fundamental} Hz"
            );
            let strong = harmonics
                .iter()
                .filter(|(frequency, relative)| {
                    (300.0..=4000.0).contains(frequency) && *relative >= -15.0
                })
                .count();
            assert!(strong >= 4, "{name}: harmonics {harmonics:?}");
            report.push_str(&format!(
                "{name}: pulse at {:.0} ms, {length:.0} ms long (pattern {nominal} ms), fundamental {fundamental:.1} Hz, harmonics {}\n",
                ms(*start),
                harmonics
                    .iter()
                    .map(|(frequency, db)| format!("{frequency:.0} Hz {db:.1} dB"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let dir = perfuse_testkit::bins::root().join("target/tmp/alarm-sound");
    std::fs::write(dir.join("pwm-analysis.txt"), &report).unwrap();
    println!("{report}");
    // The supervisor dies: the hold line stops, the fail-safe sounder starts.
    let memory = stack.board.memory();
    stack.supervisor.kill().unwrap();
    let killed = Instant::now();
    while !memory.buzzer_output().failsafe {
        assert!(
            killed.elapsed() < Duration::from_millis(500),
            "the fail-safe sounder did not start after the supervisor died"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let started_after = killed.elapsed();
    let heard = perfuse_testkit::listen::listen(&stack.board, Duration::from_secs(2));
    assert!(
        started_after < Duration::from_millis(150),
        "the fail-safe sounder started {started_after:?} after the supervisor died"
    );
    assert!(
        (3..=5).contains(&heard.len()),
        "the fail-safe sounder is gated at 2 Hz: {heard:?}"
    );
    for pulse in &heard[1..heard.len() - 1] {
        assert!((220..=290).contains(&pulse.length_ms), "{heard:?}");
        assert_eq!(pulse.volume, AlarmVolume::LOUDEST.level(), "{heard:?}");
    }
    drop(app);
}
