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
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

const RATE: u32 = 44_100;

/// Writes the samples as a mono 16-bit WAV file and reads them back.
fn through_wav(name: &str, samples: &[i16]) -> Vec<i16> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("alarm-sound");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for sample in samples {
        writer.write_sample(*sample).unwrap();
    }
    writer.finalize().unwrap();
    let mut reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec(), spec);
    reader.samples::<i16>().map(Result::unwrap).collect()
}

/// The sounding stretches, as (start, end) sample indices: where the
/// signal's peak over 2 ms (a period of the fundamental and more) is above
/// 5 % of full scale.
fn pulses(samples: &[i16]) -> Vec<(usize, usize)> {
    let window = (RATE / 500) as usize;
    let threshold = i32::from(i16::MAX) / 20;
    let mut found = Vec::new();
    let mut start = None;
    for (index, chunk) in samples.chunks(window).enumerate() {
        let loud = chunk
            .iter()
            .map(|sample| i32::from(*sample).abs())
            .max()
            .unwrap_or(0)
            > threshold;
        match (loud, start) {
            (true, None) => start = Some(index * window),
            (false, Some(begun)) => {
                found.push((begun, index * window));
                start = None;
            }
            _ => {}
        }
    }
    found
}

fn ms(samples: usize) -> f32 {
    samples as f32 * 1000.0 / RATE as f32
}

/// The magnitude spectrum of `samples` (Hann window), with the frequency
/// of each bin.
fn spectrum(samples: &[i16]) -> (Vec<f32>, f32) {
    let size = samples.len().next_power_of_two() * 4;
    let mut buffer: Vec<Complex<f32>> = samples
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            let hann = 0.5
                - 0.5 * (std::f32::consts::TAU * index as f32 / (samples.len() - 1) as f32).cos();
            Complex::new(f32::from(*sample) * hann, 0.0)
        })
        .collect();
    buffer.resize(size, Complex::new(0.0, 0.0));
    FftPlanner::new()
        .plan_fft_forward(size)
        .process(&mut buffer);
    let magnitudes = buffer[..size / 2].iter().map(|bin| bin.norm()).collect();
    (magnitudes, RATE as f32 / size as f32)
}

/// The highest bin between `low` and `high` Hz: (frequency, magnitude).
fn peak(magnitudes: &[f32], bin_hz: f32, low: f32, high: f32) -> (f32, f32) {
    let (first, last) = ((low / bin_hz) as usize, (high / bin_hz) as usize);
    let (index, magnitude) = magnitudes[first..=last]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    ((first + index) as f32 * bin_hz, *magnitude)
}

fn db(ratio: f32) -> f32 {
    20.0 * ratio.log10()
}

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
            let length = end - start;
            let plateau = &samples[start + length / 5..end - length / 5];
            let (magnitudes, bin_hz) = spectrum(plateau);
            let (fundamental, level) = peak(&magnitudes, bin_hz, 150.0, 1000.0);
            assert!(
                (150.0..=1000.0).contains(&fundamental)
                    && (fundamental - FUNDAMENTAL_HZ).abs() < 3.0 * bin_hz + 2.0,
                "{name}: fundamental {fundamental} Hz"
            );
            let harmonics: Vec<(f32, f32)> = (2..=5)
                .map(|multiple| {
                    let centre = fundamental * multiple as f32;
                    let (frequency, magnitude) =
                        peak(&magnitudes, bin_hz, centre - 20.0, centre + 20.0);
                    (frequency, db(magnitude / level))
                })
                .collect();
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
