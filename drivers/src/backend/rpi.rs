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
pub type RpiSupervisorHardware = SupervisorHardware<OutputPin, SpidevDevice>;

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
        buzzer: output(&gpio, "buzzer", config.pins.buzzer, false)?,
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
        encoder: spi("encoder", config.spi.encoder, Mode::Mode0, ENCODER_SPI_HZ)?,
    })
}
