//! The `rpi` back-end: a Raspberry Pi 4 / CM4. GPIO through rppal (memory-
//! mapped, no system call per write, so STEP toggles are cheap); SPI through
//! spidev (`SpidevDevice`, which never allocates).
//!
//! rppal resets each pin to an input when its handle is dropped, so when the
//! supervisor exits DRV_ENN floats to its pull-up: driver disabled.

use rppal::gpio::{Gpio, InputPin, OutputPin};

use super::spidev::{Mode, SpidevDevice};
use super::{BackendError, ControlHardware, SupervisorHardware};
use crate::config::BoardConfig;

/// TMC5160 SPI clock with its internal 12 MHz clock: at most fCLK/4 (datasheet).
pub const STEPPER_SPI_HZ: u32 = 2_000_000;
/// MCP3008 at 3.3 V: at most 1.35 MHz (datasheet).
pub const ADC_SPI_HZ: u32 = 1_000_000;
/// LS7366R: well below its 8 MHz maximum.
pub const ENCODER_SPI_HZ: u32 = 1_000_000;

pub type RpiControlHardware = ControlHardware<OutputPin, InputPin, SpidevDevice>;
pub type RpiSupervisorHardware = SupervisorHardware<OutputPin, RpiTone, SpidevDevice>;

/// The buzzer's tone on the BCM2711's hardware PWM (`dtoverlay=pwm,pin=12,
/// func=4` routes PWM0 to GPIO 12), through rppal. The period and high time
/// live in the PWM's registers: the pitch holds however busy the CPU is.
pub struct RpiTone(rppal::pwm::Pwm);

impl crate::tone::ToneOutput for RpiTone {
    type Error = rppal::pwm::Error;

    fn set_tone(&mut self, tone: Option<crate::tone::Tone>) -> Result<(), Self::Error> {
        use std::time::Duration;
        match tone {
            Some(tone) => {
                let period = Duration::from_nanos(u64::from(tone.period_ns));
                if self.0.period()? != period {
                    // The high time must never exceed the period, even for a moment.
                    self.0.set_pulse_width(Duration::ZERO)?;
                    self.0.set_period(period)?;
                }
                self.0
                    .set_pulse_width(Duration::from_nanos(u64::from(tone.duty_ns)))?;
                self.0.enable()
            }
            None => self.0.disable(),
        }
    }

    fn tone(&mut self) -> Result<Option<crate::tone::Tone>, Self::Error> {
        if !self.0.is_enabled()? {
            return Ok(None);
        }
        let nanos =
            |duration: std::time::Duration| u32::try_from(duration.as_nanos()).unwrap_or(u32::MAX);
        Ok(Some(crate::tone::Tone {
            period_ns: nanos(self.0.period()?),
            duty_ns: nanos(self.0.pulse_width()?),
        }))
    }
}

fn tone(config: &BoardConfig) -> Result<RpiTone, BackendError> {
    use rppal::pwm::{Channel, Polarity, Pwm};
    let what = format!("pins.buzzer (GPIO {}, hardware PWM)", config.pins.buzzer);
    let channel = match config.pins.pwm_channel() {
        Some(0) => Channel::Pwm0,
        Some(_) => Channel::Pwm1,
        None => return Err(BackendError::new(what, "not a PWM pin")),
    };
    let period = std::time::Duration::from_nanos(u64::from(crate::tone::BUZZER_TONE.period_ns));
    Pwm::with_period(
        channel,
        period,
        std::time::Duration::ZERO,
        Polarity::Normal,
        false,
    )
    .map(RpiTone)
    .map_err(|error| BackendError::new(what, error))
}

fn gpio() -> Result<Gpio, BackendError> {
    Gpio::new().map_err(|error| BackendError::new("the GPIO peripheral (/dev/gpiomem)", error))
}

fn output(gpio: &Gpio, name: &str, line: u8, high: bool) -> Result<OutputPin, BackendError> {
    let pin = gpio
        .get(line)
        .map_err(|error| BackendError::new(format!("pins.{name} (GPIO {line})"), error))?;
    Ok(if high {
        pin.into_output_high()
    } else {
        pin.into_output_low()
    })
}

fn input(gpio: &Gpio, name: &str, line: u8) -> Result<InputPin, BackendError> {
    // The carrier has its own pull resistors (docs/wiring.md).
    let pin = gpio
        .get(line)
        .map_err(|error| BackendError::new(format!("pins.{name} (GPIO {line})"), error))?;
    Ok(pin.into_input())
}

fn spi(
    name: &str,
    address: crate::config::SpiAddress,
    mode: Mode,
    speed_hz: u32,
) -> Result<SpidevDevice, BackendError> {
    SpidevDevice::open(address, mode, speed_hz)
        .map_err(|error| BackendError::new(format!("spi.{name} ({address})"), error))
}

/// The control thread's hardware.
pub fn open_control(config: &BoardConfig) -> Result<RpiControlHardware, BackendError> {
    let gpio = gpio()?;
    let pins = config.pins;
    Ok(ControlHardware {
        step: output(&gpio, "step", pins.step, false)?,
        direction: output(&gpio, "direction", pins.direction, true)?,
        air_sensor: input(&gpio, "air_sensor", pins.air_sensor)?,
        door: input(&gpio, "door", pins.door)?,
        container: input(&gpio, "container", pins.container)?,
        // Floating input: the carrier's pull-down reads an unplugged handset as not pressed.
        demand: input(&gpio, "demand", pins.demand)?,
        light_red: output(&gpio, "light_red", pins.light_red, false)?,
        light_yellow: output(&gpio, "light_yellow", pins.light_yellow, false)?,
        stepper: spi("stepper", config.spi.stepper, Mode::Mode3, STEPPER_SPI_HZ)?,
        adc: spi("adc", config.spi.adc, Mode::Mode0, ADC_SPI_HZ)?,
    })
}

/// The supervisor's hardware; DRV_ENN starts high (driver disabled).
pub fn open_supervisor(config: &BoardConfig) -> Result<RpiSupervisorHardware, BackendError> {
    let gpio = gpio()?;
    Ok(SupervisorHardware {
        motor_enable: output(&gpio, "motor_enable", config.pins.motor_enable, true)?,
        buzzer: tone(config)?,
        buzzer_attenuate_a: output(
            &gpio,
            "buzzer_attenuate_a",
            config.pins.buzzer_attenuate_a,
            false,
        )?,
        buzzer_attenuate_b: output(
            &gpio,
            "buzzer_attenuate_b",
            config.pins.buzzer_attenuate_b,
            false,
        )?,
        buzzer_hold: output(&gpio, "buzzer_hold", config.pins.buzzer_hold, false)?,
        encoder: spi("encoder", config.spi.encoder, Mode::Mode0, ENCODER_SPI_HZ)?,
    })
}
