//! The simulated buzzer through the sound card, as `--sound` plays it: the
//! simulator runs with ALSA's default device set (by this test's own
//! `.asoundrc`) to the file plugin over the null device, so what cpal
//! sent to "the sound card" is recorded to a WAV file, and analysed. No
//! supervisor runs, so what sounds is the carrier's fail-safe sounder:
//! the alarm tone, C5 with its harmonics, at the loudest. (The null device
//! keeps no clock, so this checks the sound, not its timing: the timing is
//! the PWM register test's, tests/stack/buzzer_pwm.rs, with the same voice.)
#![cfg(feature = "sound")]
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use perfuse_sim::service::{run, SimIdentity};
use perfuse_sim::{Mechanism, SimOptions, SimPaths, SimWiring, Syringe};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

#[test]
fn the_simulator_plays_the_alarm_tone_through_the_sound_card() {
    let home = tempfile::tempdir().unwrap();
    let recorded = home.path().join("played.wav");
    std::fs::write(
        home.path().join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"wav\"\n}}\n",
            recorded.display()
        ),
    )
    .unwrap();
    // The only test in this binary: nothing else reads HOME meanwhile.
    std::env::set_var("HOME", home.path());
    let board_dir = tempfile::tempdir_in(SimPaths::scratch_parent()).unwrap();
    let paths = SimPaths::in_dir(board_dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let simulator = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            run(
                &paths,
                SimOptions {
                    mechanism: Mechanism::reference_syringe(Syringe::ALL[3]),
                    reservoir_ml: 50.0,
                    wiring: SimWiring::REFERENCE,
                    identity: SimIdentity::Matching,
                    sound: true,
                },
                &stop,
            )
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::Release);
    simulator.join().unwrap().unwrap();
    let mut reader = hound::WavReader::open(&recorded).unwrap();
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    // ALSA's file plugin labels every WAV it writes as integer PCM; 32-bit
    // samples are the f32 cpal played, bit for bit.
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, _) => reader.samples::<f32>().map(Result::unwrap).collect(),
        (hound::SampleFormat::Int, 32) => reader
            .samples::<i32>()
            .map(|sample| f32::from_bits(sample.unwrap() as u32))
            .collect(),
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .map(|sample| f32::from(sample.unwrap()) / f32::from(i16::MAX))
            .collect(),
        other => panic!("an unexpected recording format {other:?}"),
    };
    let mono: Vec<f32> = samples.iter().step_by(channels.max(1)).copied().collect();
    let peak = mono
        .iter()
        .fold(0.0_f32, |peak, sample| peak.max(sample.abs()));
    assert!(
        (0.3..=0.6).contains(&peak),
        "the fail-safe sounder plays at the loudest (0.5 of full scale): peak {peak}"
    );
    // A stretch that sounds, by FFT: the fundamental and four harmonics.
    let start = mono.iter().position(|sample| sample.abs() > 0.1).unwrap();
    let chunk = &mono[start..start + 8192];
    let size = 32_768;
    let mut buffer: Vec<Complex<f32>> = chunk
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            let hann = 0.5 - 0.5 * (std::f32::consts::TAU * index as f32 / 8191.0).cos();
            Complex::new(sample * hann, 0.0)
        })
        .collect();
    buffer.resize(size, Complex::new(0.0, 0.0));
    FftPlanner::new()
        .plan_fft_forward(size)
        .process(&mut buffer);
    let bin_hz = spec.sample_rate as f32 / size as f32;
    let strongest = |low: f32, high: f32| {
        let (first, last) = ((low / bin_hz) as usize, (high / bin_hz) as usize);
        (first..=last)
            .map(|bin| (bin as f32 * bin_hz, buffer[bin].norm()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
    };
    let (fundamental, level) = strongest(150.0, 1000.0);
    assert!(
        (fundamental - 523.25).abs() < 3.0 * bin_hz,
        "fundamental {fundamental} Hz"
    );
    for multiple in 2..=5 {
        let centre = fundamental * multiple as f32;
        let (frequency, magnitude) = strongest(centre - 20.0, centre + 20.0);
        let db = 20.0 * (magnitude / level).log10();
        // The pulse wave's own ratio, |sin(pi n d)| / (n sin(pi d)), to 1 dB.
        let expected = 20.0
            * perfuse_drivers::melody::harmonic_amplitude(
                perfuse_drivers::tone::BUZZER_TONE,
                multiple,
            )
            .log10();
        assert!(
            db >= -15.0 && (db - expected).abs() < 1.0,
            "harmonic {multiple} at {frequency} Hz is {db} dB against the fundamental, not {expected} dB"
        );
    }
}
