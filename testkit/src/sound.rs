//! Listening by analysis: buzzer sound written to a WAV file and read back,
//! its pulses found, and each pulse's spectrum by FFT (Hann window). Shared
//! by the melody test (the sound as defined) and the register test (the
//! sound rendered from the PWM settings the supervisor wrote on the
//! simulated board).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// The sample rate of every rendering, Hz.
pub const RATE: u32 = 44_100;

/// Writes the samples as a mono 16-bit WAV file and reads them back.
pub fn through_wav(name: &str, samples: &[i16]) -> Vec<i16> {
    let dir = crate::bins::root().join("target/tmp/alarm-sound");
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
pub fn pulses(samples: &[i16]) -> Vec<(usize, usize)> {
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

pub fn ms(samples: usize) -> f32 {
    samples as f32 * 1000.0 / RATE as f32
}

/// The magnitude spectrum of `samples` (Hann window), with the frequency
/// of each bin.
pub fn spectrum(samples: &[i16]) -> (Vec<f32>, f32) {
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
pub fn peak(magnitudes: &[f32], bin_hz: f32, low: f32, high: f32) -> (f32, f32) {
    let (first, last) = ((low / bin_hz) as usize, (high / bin_hz) as usize);
    let (index, magnitude) = magnitudes[first..=last]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    ((first + index) as f32 * bin_hz, *magnitude)
}

pub fn db(ratio: f32) -> f32 {
    20.0 * ratio.log10()
}

/// A pulse's fundamental (the strongest bin in 150 to 1000 Hz), the bin
/// width, and its 2nd to 5th harmonics: (frequency, dB against the fundamental), from the
/// middle three fifths of the pulse (its plateau).
pub fn pulse_spectrum(
    samples: &[i16],
    (start, end): (usize, usize),
) -> (f32, f32, Vec<(f32, f32)>) {
    let length = end - start;
    let plateau = &samples[start + length / 5..end - length / 5];
    let (magnitudes, bin_hz) = spectrum(plateau);
    let (fundamental, level) = peak(&magnitudes, bin_hz, 150.0, 1000.0);
    let harmonics = (2..=5)
        .map(|multiple| {
            let centre = fundamental * multiple as f32;
            let (frequency, magnitude) = peak(&magnitudes, bin_hz, centre - 20.0, centre + 20.0);
            (frequency, db(magnitude / level))
        })
        .collect();
    (fundamental, bin_hz, harmonics)
}
