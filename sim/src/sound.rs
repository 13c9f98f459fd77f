//! The simulated buzzer through the laptop's sound card: the PWM settings
//! the supervisor writes (or the carrier's fail-safe sounder) played
//! sample by sample with `melody::PwmVoice`, at the attenuators' level,
//! so a usability study hears the melody, level and timing the Pi makes.
//!
//! Built with the `sound` feature (cpal on ALSA) and used when the
//! simulator runs with `--sound`. A machine with no sound device runs
//! silent, and says so once.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::Board;

/// Whether the simulated buzzer reaches the sound card, as the board
/// records it for the launcher and `ctl status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundState {
    /// The simulator was not asked to play (`--sound` not given).
    NotAsked,
    Playing,
    /// Built without the `sound` feature.
    NotBuilt,
    /// No sound device, or it would not open.
    NoDevice,
}

impl SoundState {
    fn code(self) -> u8 {
        match self {
            SoundState::NotAsked => 0,
            SoundState::Playing => 1,
            SoundState::NotBuilt => 2,
            SoundState::NoDevice => 3,
        }
    }

    /// What `board` records.
    pub fn of(board: &Board) -> SoundState {
        match board.memory().sound_state.load(Ordering::Acquire) {
            1 => SoundState::Playing,
            2 => SoundState::NotBuilt,
            3 => SoundState::NoDevice,
            _ => SoundState::NotAsked,
        }
    }

    /// In a few words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            SoundState::NotAsked => "silent (the simulator was not asked to play it)",
            SoundState::Playing => "through the sound card",
            SoundState::NotBuilt => "silent: built without sound (apt install libasound2-dev, then cargo run --release --features sound)",
            SoundState::NoDevice => "silent: this machine has no sound device that would open",
        }
    }
}

/// The sound card stream while it plays (dropping it stops the sound).
pub struct Playback {
    #[cfg(feature = "sound")]
    _stream: cpal::Stream,
}

/// Starts playing `board`'s buzzer, or says once why it cannot.
pub fn start(board: Arc<Board>) -> Option<Playback> {
    let state = |board: &Board, state: SoundState| {
        board
            .memory()
            .sound_state
            .store(state.code(), Ordering::Release);
    };
    match open(board.clone()) {
        Ok(playback) => {
            state(&board, SoundState::Playing);
            Some(playback)
        }
        Err(reason) => {
            state(
                &board,
                if cfg!(feature = "sound") {
                    SoundState::NoDevice
                } else {
                    SoundState::NotBuilt
                },
            );
            tracing::warn!("the simulated buzzer is silent: {reason}");
            None
        }
    }
}

#[cfg(not(feature = "sound"))]
fn open(_board: Arc<Board>) -> Result<Playback, String> {
    Err("this simulator was built without sound (build with --features sound, which needs libasound2-dev)".to_owned())
}

#[cfg(feature = "sound")]
#[allow(clippy::float_arithmetic)] // sound samples, never a dose
fn open(board: Arc<Board>) -> Result<Playback, String> {
    use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
    use perfuse_drivers::melody::PwmVoice;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Below full scale: the laptop's own volume control does the rest.
    const LEVEL: f32 = 0.5;

    let host = cpal::default_host();
    let device = host
        .default_output_device()
        .ok_or_else(|| "no sound device on this machine".to_owned())?;
    let supported = device
        .default_output_config()
        .map_err(|error| format!("the sound device offers no output: {error}"))?;
    let format = supported.sample_format();
    let config: cpal::StreamConfig = supported.into();
    let channels = usize::from(config.channels.max(1));
    let rate = config.sample_rate.0;
    let reported = Arc::new(AtomicBool::new(false));
    let on_error = move |error: cpal::StreamError| {
        if !reported.swap(true, Ordering::AcqRel) {
            tracing::warn!("the sound device failed; the simulated buzzer may be silent: {error}");
        }
    };
    let mut voice = PwmVoice::default();
    let mut next = move || {
        let output = board.memory().buzzer_output();
        voice.next(output.tone, output.volume, rate) * LEVEL
    };
    let stream = match format {
        cpal::SampleFormat::F32 => device.build_output_stream(
            &config,
            move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
                for frame in data.chunks_mut(channels) {
                    let value = next();
                    frame.fill(value);
                }
            },
            on_error,
            None,
        ),
        cpal::SampleFormat::I16 => device.build_output_stream(
            &config,
            move |data: &mut [i16], _: &cpal::OutputCallbackInfo| {
                for frame in data.chunks_mut(channels) {
                    #[allow(clippy::cast_possible_truncation)]
                    let value = (next() * f32::from(i16::MAX)) as i16;
                    frame.fill(value);
                }
            },
            on_error,
            None,
        ),
        other => {
            return Err(format!(
                "the sound device wants {other} samples; this plays f32 or i16"
            ))
        }
    }
    .map_err(|error| format!("cannot open the sound device: {error}"))?;
    stream
        .play()
        .map_err(|error| format!("cannot start the sound device: {error}"))?;
    tracing::info!(
        "the simulated buzzer plays through {} at {rate} Hz",
        device
            .name()
            .unwrap_or_else(|_| "the default sound device".to_owned())
    );
    Ok(Playback { _stream: stream })
}
