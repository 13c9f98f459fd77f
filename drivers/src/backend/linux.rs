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
pub type LinuxSupervisorHardware = SupervisorHardware<ReadBackPin, SysfsTone, SpidevDevice>;

/// The buzzer's tone on a PWM channel through Linux's PWM class
/// (`/sys/class/pwm/pwmchip<chip>/pwm<channel>`): period and high time are
/// written to the controller's registers, so the pitch needs no CPU. The
/// paths are made once; each write formats into a fixed buffer.
pub struct SysfsTone {
    period: std::path::PathBuf,
    duty: std::path::PathBuf,
    enable: std::path::PathBuf,
    period_ns: u32,
}

impl SysfsTone {
    /// Exports `channel` of `pwmchip<chip>` if it is not yet, and stops it.
    pub fn open(chip: u8, channel: u8) -> Result<Self, std::io::Error> {
        let base = std::path::PathBuf::from(format!("/sys/class/pwm/pwmchip{chip}"));
        let dir = base.join(format!("pwm{channel}"));
        if !dir.exists() {
            std::fs::write(base.join("export"), channel.to_string())?;
        }
        let mut tone = Self {
            period: dir.join("period"),
            duty: dir.join("duty_cycle"),
            enable: dir.join("enable"),
            period_ns: 0,
        };
        write_number(&tone.enable, 0)?;
        tone.period_ns = read_number(&tone.period)?;
        Ok(tone)
    }
}

fn write_number(path: &Path, value: u32) -> Result<(), std::io::Error> {
    use std::fmt::Write as _;
    let mut text = arrayvec::ArrayString::<12>::new();
    write!(text, "{value}").map_err(|_| std::io::Error::other("number too long"))?;
    std::fs::write(path, text.as_bytes())
}

fn read_number(path: &Path) -> Result<u32, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))
}

impl crate::tone::ToneOutput for SysfsTone {
    type Error = std::io::Error;

    fn set_tone(&mut self, tone: Option<crate::tone::Tone>) -> Result<(), Self::Error> {
        match tone {
            Some(tone) => {
                if tone.period_ns != self.period_ns {
                    // The high time must never exceed the period, even for a moment.
                    write_number(&self.duty, 0)?;
                    write_number(&self.period, tone.period_ns)?;
                    self.period_ns = tone.period_ns;
                }
                write_number(&self.duty, tone.duty_ns)?;
                write_number(&self.enable, 1)
            }
            None => write_number(&self.enable, 0),
        }
    }

    fn tone(&mut self) -> Result<Option<crate::tone::Tone>, Self::Error> {
        if read_number(&self.enable)? == 0 {
            return Ok(None);
        }
        Ok(Some(crate::tone::Tone {
            period_ns: read_number(&self.period)?,
            duty_ns: read_number(&self.duty)?,
        }))
    }
}

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
        // PWM0 or PWM1 of the first PWM controller (the Pi's, with
        // dtoverlay=pwm routing it to the buzzer's pin).
        buzzer: SysfsTone::open(0, config.pins.pwm_channel().unwrap_or(0)).map_err(|error| {
            BackendError::new(
                format!(
                    "pins.buzzer (GPIO {}, PWM through /sys/class/pwm)",
                    config.pins.buzzer
                ),
                error,
            )
        })?,
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
        buzzer_hold: ReadBackPin(line(
            &mut gpio,
            "buzzer_hold",
            config.pins.buzzer_hold,
            out,
            false,
        )?),
        encoder: SpidevDevice::open(config.spi.encoder, Mode::Mode0, 1_000_000).map_err(
            |error| BackendError::new(format!("spi.encoder ({})", config.spi.encoder), error),
        )?,
    })
}
