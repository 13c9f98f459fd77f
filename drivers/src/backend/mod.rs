//! Board back-ends: where the pins and SPI devices of the board
//! configuration come from. Every back-end hands out the same two sets,
//! split by who may hold them (docs/wiring.md):
//!
//! - `ControlHardware`: STEP, DIR, sensor inputs, the PCA demand button,
//!   alarm lights and the stepper and ADC SPI devices, for the app's control
//!   thread;
//! - `SupervisorHardware`: the stepper driver's ENABLE line, the buzzer with
//!   its attenuator lines and the encoder counter, for the supervisor process alone.
//!
//! Back-ends: `rpi` (feature `rpi`: rppal GPIO and
//! spidev), `linux` (feature `linux`: GPIO character device and spidev); the
//! simulated board's back-end is `perfuse_sim::hardware`.

#[cfg(any(feature = "rpi", feature = "linux"))]
pub mod spidev;

#[cfg(feature = "linux")]
pub mod linux;
#[cfg(feature = "rpi")]
pub mod rpi;

use std::fmt;

/// Which board a process drives. Command lines take its `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The simulated board of `perfuse-sim`.
    Sim,
    /// A Raspberry Pi 4 / CM4: rppal GPIO, spidev, /dev/watchdog (feature `rpi`).
    Rpi,
    /// Any Linux board: GPIO character device, spidev, /dev/watchdog (feature `linux`).
    Linux,
}

impl Backend {
    /// The name on the command line and of the cargo feature.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Rpi => "rpi",
            Backend::Linux => "linux",
        }
    }
}

/// Command lines take a back-end by name (`--backend sim|rpi|linux`),
/// with each one's description in their help.
#[cfg(feature = "clap")]
impl clap::ValueEnum for Backend {
    fn value_variants<'a>() -> &'a [Self] {
        &[Backend::Sim, Backend::Rpi, Backend::Linux]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Backend::Sim => "The simulated board of perfuse-sim (needs --sim-dir)",
            Backend::Rpi => "A Raspberry Pi 4 / CM4: rppal GPIO, spidev, /dev/watchdog (build with --features rpi)",
            Backend::Linux => "Any Linux board: GPIO character device, spidev, /dev/watchdog (build with --features linux)",
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
    }
}

/// What the control thread drives and reads.
pub struct ControlHardware<OUT, IN, SPI> {
    pub step: OUT,
    pub direction: OUT,
    pub air_sensor: IN,
    pub door: IN,
    pub container: IN,
    /// The PCA patient demand button: high = pressed (a pull-down on the
    /// carrier makes a broken wire read "not pressed").
    pub demand: IN,
    pub light_red: OUT,
    pub light_yellow: OUT,
    pub stepper: SPI,
    pub adc: SPI,
}

/// What only the supervisor holds.
pub struct SupervisorHardware<OUT, TONE, SPI> {
    /// The stepper driver's DRV_ENN: low enables.
    pub motor_enable: OUT,
    /// The buzzer's hardware PWM (`tone::ToneOutput`).
    pub buzzer: TONE,
    /// The buzzer's attenuator lines (`annunciator::AlarmVolume::lines`).
    pub buzzer_attenuate_a: OUT,
    pub buzzer_attenuate_b: OUT,
    /// The fail-safe sounder's hold line, toggled every period.
    pub buzzer_hold: OUT,
    pub encoder: SPI,
}

/// Why a back-end could not open the board.
#[derive(Debug)]
pub struct BackendError {
    /// Which signal or device, as the board configuration names it.
    pub what: String,
    pub detail: String,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot open {}: {}", self.what, self.detail)
    }
}

impl std::error::Error for BackendError {}

impl BackendError {
    pub fn new(what: impl Into<String>, detail: impl fmt::Display) -> Self {
        Self {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
