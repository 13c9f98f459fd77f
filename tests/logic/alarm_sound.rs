//! A test that listens: the buzzer's sound for each priority is rendered
//! to a WAV file, read back, and analysed: the pulses' number, length and
//! spacing against the burst pattern and IEC 60601-1-8's ranges, and each
//! pulse's fundamental (150 to 1000 Hz) and harmonics (at least four in
//! 300 to 4000 Hz, each within 15 dB of the fundamental). The WAV files are
//! kept in target/tmp/alarm-sound/ to listen to.
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

use perfuse_drivers::annunciator::{burst, Priority};
use perfuse_drivers::melody::{render, FUNDAMENTAL_HZ};
use perfuse_testkit::sound::*;

#[test]
fn each_priority_sounds_its_pulses_with_a_fundamental_and_four_harmonics() {
    // (priority, pulses a burst, pulse length and spacing the standard allows, ms)
    for (priority, name, count, (short, long), (gap_min, gap_max)) in [
        (Priority::High, "high", 10, (75.0, 200.0), (50.0, 125.0)),
        (
            Priority::Medium,
            "medium",
            3,
            (125.0, 250.0),
            (125.0, 250.0),
        ),
        (Priority::Low, "low", 2, (125.0, 250.0), (125.0, 250.0)),
    ] {
        let pattern = burst(priority);
        let cycle: u32 = pattern.iter().map(|phase| phase.milliseconds).sum();
        let samples = through_wav(name, &render(priority, RATE, cycle, 0.9));
        let found = pulses(&samples);
        assert_eq!(found.len(), count, "{name}: {found:?}");
        // Each pulse as long as the pattern says (the 5 % threshold cuts
        // a little off each ramp), within the standard's range.
        let expected: Vec<u32> = pattern
            .iter()
            .filter(|phase| phase.sounding)
            .map(|phase| phase.milliseconds)
            .collect();
        for ((start, end), nominal) in found.iter().zip(&expected) {
            let length = ms(end - start);
            assert!(
                (length - *nominal as f32).abs() <= 8.0,
                "{name}: a pulse of {length} ms, the pattern's is {nominal} ms"
            );
            assert!((short..=long).contains(&length), "{name}: {length} ms");
        }
        // The spacing within a group of pulses (onset to onset, less the
        // pulse), within the standard's range.
        let within: Vec<f32> = found
            .windows(2)
            .map(|pair| ms(pair[1].0 - pair[0].1))
            .filter(|gap| *gap < 300.0)
            .collect();
        assert!(!within.is_empty(), "{name}");
        for gap in within {
            assert!(
                (gap_min..=gap_max + 12.0).contains(&gap),
                "{name}: {gap} ms between pulses"
            );
        }
        // Each pulse's sound: its plateau analysed.
        for (start, end) in &found {
            let (fundamental, bin_hz, harmonics) = pulse_spectrum(&samples, (*start, *end));
            assert!(
                (150.0..=1000.0).contains(&fundamental)
                    && (fundamental - FUNDAMENTAL_HZ).abs() < 3.0 * bin_hz + 2.0,
                "{name}: fundamental {fundamental} Hz"
            );
            let strong = harmonics
                .iter()
                .filter(|(frequency, relative)| {
                    (300.0..=4000.0).contains(frequency) && *relative >= -15.0
                })
                .count();
            assert!(strong >= 4, "{name}: harmonics {harmonics:?}");
        }
    }
}

#[test]
fn silence_between_bursts_is_silent_and_the_level_scales() {
    let loud = render(Priority::Medium, RATE, 1600, 1.0);
    let quiet = render(Priority::Medium, RATE, 1600, 0.25);
    let peak = |samples: &[i16]| samples.iter().map(|s| i32::from(*s).abs()).max().unwrap();
    let ratio = peak(&quiet) as f32 / peak(&loud) as f32;
    assert!((ratio - 0.25).abs() < 0.01, "{ratio}");
    // After the third pulse (1000 ms in), the 5 s pause: nothing.
    let pause = &loud[(RATE as usize * 1100 / 1000)..];
    assert!(pause.iter().all(|sample| *sample == 0));
}
