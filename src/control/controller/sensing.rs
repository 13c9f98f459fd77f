//! Sensing: each period's pressures, plunger position, encoder and
//! debounced inputs, read through the real drivers; a bus error becomes a
//! sensor condition, never a panic.

use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::analog::PressureSensor;
use perfuse_drivers::debounce::InputState;
use perfuse_drivers::mcp3008::Channel;

use crate::control::detectors::Readings;

use super::*;

/// ADC inputs of the reference board (docs/wiring.md).
pub const UPSTREAM_CHANNEL: u8 = 0;
pub const DOWNSTREAM_CHANNEL: u8 = 1;
pub const PLUNGER_CHANNEL: u8 = 2;

impl<OUT, IN, SPI> Controller<OUT, IN, SPI>
where
    OUT: OutputPin,
    IN: InputPin,
    SPI: SpiDevice,
{
    pub(super) fn read_pressure(&mut self, channel: u8, sensor: PressureSensor) -> Option<i32> {
        let channel = Channel::try_from(channel).ok()?;
        match self.adc.read(channel) {
            Ok(counts) => sensor
                .pressure(counts)
                .ok()
                .map(|pascals| pascals.tenths_of_mmhg()),
            Err(_) => {
                self.bus_errors = self.bus_errors.saturating_add(1);
                None
            }
        }
    }

    pub(super) fn read_sensors(&mut self, now_us: u64) -> Readings {
        let settings = self.settings;
        let mut bus_error = false;
        let downstream = self.read_pressure(DOWNSTREAM_CHANNEL, settings.downstream);
        let upstream = settings
            .upstream
            .and_then(|sensor| self.read_pressure(UPSTREAM_CHANNEL, sensor));
        let plunger_um = match (settings.plunger, Channel::try_from(PLUNGER_CHANNEL)) {
            (Some(sensor), Ok(channel)) => self
                .adc
                .read(channel)
                .ok()
                .and_then(|counts| sensor.position(counts).ok())
                .map(|um| um.0),
            _ => None,
        };
        let air = self.air.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let door = self.door.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let container = self.container.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let mut driver_silent = false;
        let driver = if self
            .period
            .is_multiple_of(u64::from(settings.status_every.max(1)))
        {
            match self.stepper.status() {
                Ok(status) => {
                    self.last_driver = Some(status);
                    Some(status)
                }
                Err(perfuse_drivers::Error::UnexpectedResponse(_)) => {
                    driver_silent = true;
                    None
                }
                Err(_) => {
                    bus_error = true;
                    None
                }
            }
        } else {
            None
        };
        let encoder = match &mut self.encoder {
            Some(counter) if self.period.is_multiple_of(10) => match counter.count() {
                Ok(counts) => Some(i64::from(counts.0)),
                Err(_) => {
                    bus_error = true;
                    None
                }
            },
            Some(_) | None => None,
        };
        let rate = self.state.commanded_rate();
        let now_ms = now_us / 1000;
        // ENABLE is read back before every period that would move the motor.
        let enabled = if rate.0 > 0 || self.backoff_left > 0 {
            match self.stepper.enabled() {
                Ok(enabled) => Some(enabled),
                Err(_) => {
                    bus_error = true;
                    Some(false)
                }
            }
        } else {
            None
        };
        self.motor_enabled = enabled == Some(true);
        match (rate.0 > 0, enabled) {
            (true, Some(false)) => {
                self.enable_off_since_ms.get_or_insert(now_ms);
            }
            (true, Some(true)) => {
                self.enable_seen_on = true;
                self.enable_off_since_ms = None;
            }
            (true, None) => {}
            (false, _) => {
                self.enable_off_since_ms = None;
                self.enable_seen_on = false;
            }
        }
        let restarted = rate != self.last_rate && rate.0 > 0;
        self.last_rate = rate;
        if bus_error {
            self.bus_errors = self.bus_errors.saturating_add(1);
        }
        Readings {
            now_us,
            downstream,
            upstream,
            plunger_um,
            air,
            door,
            container,
            driver,
            driver_silent,
            encoder,
            commanded_steps: self.net_steps(),
            delivering: rate.0 > 0,
            rate,
            restarted,
            bus_error,
        }
    }
}
