//! What the buzzer sounds like: IEC 60601-1-8 pulses, each a tone with a
//! fundamental and four harmonics under a rise and fall envelope, played in
//! the priority's burst pattern (`annunciator::burst`).
//!
//! One definition for every place the sound is made: the simulated board
//! renders it to the sound card or a WAV file, and the analysis tests
//! check it. The values and their source are in docs/alarm-signals.md.
//!
//! Samples are computed in `f32`: this is sound, never a dose.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use crate::annunciator::{burst, Phase, Priority};

/// The pulse's fundamental, Hz (C5; the standard allows 150 to 1000 Hz).
pub const FUNDAMENTAL_HZ: f32 = 523.25;

/// The harmonics over the fundamental: (multiple, amplitude relative to the
/// fundamental). 2 to 5 x 523 Hz lie in 1046 to 2616 Hz, inside the
/// standard's 300 to 4000 Hz, and each is within 15 dB of the fundamental
/// (-4.4, -6.9, -9.1 and -10.5 dB).
pub const HARMONICS: [(f32, f32); 4] = [(2.0, 0.6), (3.0, 0.45), (4.0, 0.35), (5.0, 0.3)];

/// Rise and fall, each as a fraction of the pulse's duration (the standard
/// asks for a rise of 10 to 20 % of it, and a fall no longer than the
/// pulse's off time).
pub const RISE_FRACTION: f32 = 0.15;

/// The tone at `t` seconds into a pulse, before its envelope, -1 to 1.
fn tone(t: f32) -> f32 {
    let total: f32 = 1.0
        + HARMONICS
            .iter()
            .map(|(_, amplitude)| amplitude)
            .sum::<f32>();
    let fundamental = (core::f32::consts::TAU * FUNDAMENTAL_HZ * t).sin();
    let overtones: f32 = HARMONICS
        .iter()
        .map(|(multiple, amplitude)| {
            amplitude * (core::f32::consts::TAU * FUNDAMENTAL_HZ * multiple * t).sin()
        })
        .sum();
    (fundamental + overtones) / total
}

/// The envelope at `t` seconds into a pulse of `length` seconds: a linear
/// rise, a plateau and a linear fall.
fn envelope(t: f32, length: f32) -> f32 {
    let ramp = (length * RISE_FRACTION).max(f32::EPSILON);
    (t / ramp).min((length - t) / ramp).clamp(0.0, 1.0)
}

/// The buzzer's sound for `priority` from the start of its burst, for
/// `milliseconds`, at `sample_rate` samples a second, at full scale
/// `level` (0 to 1): the pattern repeats as the annunciator plays it.
pub fn render(priority: Priority, sample_rate: u32, milliseconds: u32, level: f32) -> Vec<i16> {
    let pattern: &[Phase] = burst(priority);
    let to_samples = |ms: u32| u64::from(ms) * u64::from(sample_rate) / 1000;
    let samples = to_samples(milliseconds);
    let cycle: u64 = pattern
        .iter()
        .map(|phase| to_samples(phase.milliseconds))
        .sum();
    let mut out = Vec::with_capacity(usize::try_from(samples).unwrap_or(0));
    for index in 0..samples {
        // Where this sample falls in the repeating pattern, to the sample.
        let mut into = index % cycle.max(1);
        let mut value = 0.0;
        for phase in pattern {
            let length = to_samples(phase.milliseconds);
            if into < length {
                if phase.sounding {
                    let t = into as f32 / sample_rate as f32;
                    value = tone(t) * envelope(t, length as f32 / sample_rate as f32);
                }
                break;
            }
            into -= length;
        }
        let scaled = (value * level.clamp(0.0, 1.0) * f32::from(i16::MAX)).round();
        out.push(scaled.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16);
    }
    out
}
