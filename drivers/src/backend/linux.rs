//! The `linux` back-end: any Linux carrier with a GPIO character device
//! (linux-embedded-hal's `CdevPin`) and spidev (`SpidevDevice`). Lines are
//! requested with the consumer name "perfuse"; the kernel releases them when
//! the process exits, so DRV_ENN falls back to its pull-up.

use std::path::Path;

use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
use linux_embedded_hal::CdevPin;

use super::spidev::{Mode, SpidevDevice};
use super::{BackendError, ControlHardware, SupervisorHardware};
use crate::config::BoardConfig;

pub type LinuxControlHardware = ControlHardware<CdevPin, CdevPin, SpidevDevice>;
pub type LinuxSupervisorHardware = SupervisorHardware<ReadBackPin, SpidevDevice>;

/// An output line whose state is read back from the kernel (the line's value,
/// not a remembered one), so the supervisor's self-test and its checks of
/// ENABLE see what the line really carries. `CdevPin` itself offers no
/// `StatefulOutputPin`.
pub struct ReadBackPin(CdevPin);

impl embedded_hal::digital::ErrorType for ReadBackPin {
    type Error = <CdevPin as embedded_hal::digital::ErrorType>::Error;
}

impl embedded_hal::digital::OutputPin for ReadBackPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set_low()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set_high()
    }
}

impl embedded_hal::digital::StatefulOutputPin for ReadBackPin {
    fn is_set_high(&mut self) -> Result<bool, Self::Error> {
        embedded_hal::digital::InputPin::is_high(&mut self.0)
    }

    fn is_set_low(&mut self) -> Result<bool, Self::Error> {
        embedded_hal::digital::InputPin::is_low(&mut self.0)
    }
}

/// The usual GPIO chip of the Pi header on a mainline kernel.
pub const DEFAULT_CHIP: &str = "/dev/gpiochip0";

fn chip(path: &Path) -> Result<Chip, BackendError> {
    Chip::new(path)
        .map_err(|error| BackendError::new(format!("the GPIO chip {}", path.display()), error))
}

/// Whether a line is requested as an output or an input.
#[derive(Clone, Copy)]
enum Use {
    Output,
    Input,
}

fn line(
    chip: &mut Chip,
    name: &str,
    number: u8,
    usage: Use,
    high: bool,
) -> Result<CdevPin, BackendError> {
    let what = || format!("pins.{name} (line {number})");
    let flags = match usage {
        Use::Output => LineRequestFlags::OUTPUT,
        Use::Input => LineRequestFlags::INPUT,
    };
    let handle = chip
        .get_line(u32::from(number))
        .and_then(|line| line.request(flags, u8::from(high), "perfuse"))
        .map_err(|error| BackendError::new(what(), error))?;
    CdevPin::new(handle).map_err(|error| BackendError::new(what(), error))
}

/// The control thread's hardware on the GPIO chip at `chip_path`.
pub fn open_control(
    config: &BoardConfig,
    chip_path: &Path,
) -> Result<LinuxControlHardware, BackendError> {
    let mut gpio = chip(chip_path)?;
    let pins = config.pins;
    let (out, inp) = (Use::Output, Use::Input);
    Ok(ControlHardware {
        step: line(&mut gpio, "step", pins.step, out, false)?,
        direction: line(&mut gpio, "direction", pins.direction, out, true)?,
        air_sensor: line(&mut gpio, "air_sensor", pins.air_sensor, inp, false)?,
        door: line(&mut gpio, "door", pins.door, inp, false)?,
        container: line(&mut gpio, "container", pins.container, inp, false)?,
        // No bias requested: the carrier's 10 kΩ pull-down holds an unplugged
        // handset low, "not pressed" (docs/wiring.md).
        demand: line(&mut gpio, "demand", pins.demand, inp, false)?,
        light_red: line(&mut gpio, "light_red", pins.light_red, out, false)?,
        light_yellow: line(&mut gpio, "light_yellow", pins.light_yellow, out, false)?,
        stepper: SpidevDevice::open(config.spi.stepper, Mode::Mode3, 2_000_000).map_err(
            |error| BackendError::new(format!("spi.stepper ({})", config.spi.stepper), error),
        )?,
        adc: SpidevDevice::open(config.spi.adc, Mode::Mode0, 1_000_000)
            .map_err(|error| BackendError::new(format!("spi.adc ({})", config.spi.adc), error))?,
    })
}

/// The supervisor's hardware; DRV_ENN is requested high (driver disabled).
pub fn open_supervisor(
    config: &BoardConfig,
    chip_path: &Path,
) -> Result<LinuxSupervisorHardware, BackendError> {
    let mut gpio = chip(chip_path)?;
    let out = Use::Output;
    Ok(SupervisorHardware {
        motor_enable: ReadBackPin(line(
            &mut gpio,
            "motor_enable",
            config.pins.motor_enable,
            out,
            true,
        )?),
        buzzer: ReadBackPin(line(&mut gpio, "buzzer", config.pins.buzzer, out, false)?),
        buzzer_attenuate_a: ReadBackPin(line(
            &mut gpio,
            "buzzer_attenuate_a",
            config.pins.buzzer_attenuate_a,
            out,
            false,
        )?),
        buzzer_attenuate_b: ReadBackPin(line(
            &mut gpio,
            "buzzer_attenuate_b",
            config.pins.buzzer_attenuate_b,
            out,
            false,
        )?),
        encoder: SpidevDevice::open(config.spi.encoder, Mode::Mode0, 1_000_000).map_err(
            |error| BackendError::new(format!("spi.encoder ({})", config.spi.encoder), error),
        )?,
    })
}
