//! What the buzzer sounds like: IEC 60601-1-8 pulses, each the PWM's
//! pulse wave (`tone::BUZZER_TONE`, C5 at 15 % duty) under a rise and fall
//! envelope, played in the priority's burst pattern (`annunciator::burst`).
//!
//! One definition for every place the sound is made: the simulated board
//! renders it to the sound card or a WAV file from the same PWM settings
//! the supervisor writes on the Pi, and the analysis tests check it. The
//! values and their source are in docs/alarm-signals.md.
//!
//! Samples are computed in `f32`: this is sound, never a dose.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use crate::annunciator::{burst, Phase, Priority};
use crate::tone::{Tone, BUZZER_TONE};

/// The pulse's fundamental, Hz (C5; the standard allows 150 to 1000 Hz).
pub const FUNDAMENTAL_HZ: f32 = 523.25;

/// The transducer passes the pulse wave's harmonics up to about this, Hz
/// (a piezo or small magnetic sounder rolls off above); the rendering
/// stops there, which also keeps it free of aliasing at 44.1 kHz.
pub const BANDWIDTH_HZ: f32 = 8_000.0;

/// Rise and fall, each as a fraction of the pulse's duration (the standard
/// asks for a rise of 10 to 20 % of it, and a fall no longer than the
/// pulse's off time).
pub const RISE_FRACTION: f32 = 0.15;

/// Harmonic `n`'s amplitude in `tone`'s pulse wave, relative to the
/// fundamental: |sin(pi n d)| / (n sin(pi d)), d the duty cycle.
pub fn harmonic_amplitude(tone: Tone, n: u32) -> f32 {
    let duty = tone.duty_ns as f32 / (tone.period_ns.max(1)) as f32;
    let first = (core::f32::consts::PI * duty).sin();
    if first.abs() < f32::EPSILON {
        return 0.0;
    }
    ((core::f32::consts::PI * n as f32 * duty).sin() / (n as f32 * first)).abs()
}

/// The harmonics the transducer passes for a tone of `hz`.
fn harmonics(hz: f32) -> u32 {
    ((BANDWIDTH_HZ / hz.max(1.0)) as u32).max(1)
}

/// A pulse wave high for the first `duty` of each period, at `phase`
/// (cycles), without its mean, band-limited: the Fourier series' cosines
/// about the pulse's centre, unscaled.
fn pulse_series(duty: f32, phase: f32, harmonics: u32) -> f32 {
    (1..=harmonics)
        .map(|n| {
            let n = n as f32;
            (core::f32::consts::PI * n * duty).sin() / n
                * (core::f32::consts::TAU * n * (phase - duty / 2.0)).cos()
        })
        .sum()
}

/// The alarm tone's peak, to scale every tone against: a lower duty (the
/// rise and fall) is proportionally quieter, as it is from the PWM.
fn full_scale() -> f32 {
    let duty = BUZZER_TONE.duty_ns as f32 / BUZZER_TONE.period_ns as f32;
    (1..=harmonics(FUNDAMENTAL_HZ))
        .map(|n| ((core::f32::consts::PI * n as f32 * duty).sin() / n as f32).abs())
        .sum()
}

/// What the transducer gives for the PWM setting `tone` at `phase` cycles
/// into its period: -1 to 1 at the alarm tone's full duty.
pub fn pulse_sample(tone: Tone, phase: f32) -> f32 {
    let period = tone.period_ns.max(1) as f32;
    let duty = tone.duty_ns as f32 / period;
    let hz = 1.0e9 / period;
    pulse_series(duty, phase.fract(), harmonics(hz)) / full_scale()
}

/// `tone`'s pulse wave at `t` seconds (`pulse_sample` at that phase).
pub fn pulse_wave(tone: Tone, t: f32) -> f32 {
    let hz = 1.0e9 / tone.period_ns.max(1) as f32;
    pulse_sample(tone, (hz * t).fract())
}

/// Gain of a volume level: 6 dB a level below the loudest.
pub fn volume_gain(volume: crate::annunciator::AlarmVolume) -> f32 {
    10.0_f32.powf(-f32::from(volume.attenuation_db()) / 20.0)
}

/// Plays PWM settings as they change, sample by sample, with a phase that
/// runs on across them (as the PWM's counter does): what the simulated
/// board sends to the sound card and what the register tests analyse.
#[derive(Debug, Clone, Copy, Default)]
pub struct PwmVoice {
    phase: f32,
}

impl PwmVoice {
    /// The next sample at `sample_rate` for what the buzzer does now.
    pub fn next(
        &mut self,
        tone: Option<Tone>,
        volume: crate::annunciator::AlarmVolume,
        sample_rate: u32,
    ) -> f32 {
        let Some(tone) = tone.filter(|tone| tone.sounds()) else {
            return 0.0;
        };
        let hz = 1.0e9 / tone.period_ns as f32;
        self.phase = (self.phase + hz / sample_rate.max(1) as f32).fract();
        pulse_sample(tone, self.phase) * volume_gain(volume)
    }
}

/// The alarm tone at `t` seconds into a pulse, before its envelope.
fn tone(t: f32) -> f32 {
    pulse_wave(BUZZER_TONE, t)
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
