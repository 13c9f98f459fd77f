//! Every driver passes a failing bus up as `Error::Bus`, never as a value.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use embedded_hal::digital::{
    ErrorKind as PinErrorKind, ErrorType as PinErrorType, InputPin, OutputPin,
};
use embedded_hal::spi::{ErrorKind, ErrorType, Operation, SpiDevice};
use perfuse_drivers::*;

struct BrokenBus;

impl ErrorType for BrokenBus {
    type Error = ErrorKind;
}

impl SpiDevice for BrokenBus {
    fn transaction(&mut self, _: &mut [Operation<'_, u8>]) -> Result<(), ErrorKind> {
        Err(ErrorKind::Other)
    }
}

struct BrokenPin;

impl PinErrorType for BrokenPin {
    type Error = PinErrorKind;
}

impl OutputPin for BrokenPin {
    fn set_low(&mut self) -> Result<(), PinErrorKind> {
        Err(PinErrorKind::Other)
    }
    fn set_high(&mut self) -> Result<(), PinErrorKind> {
        Err(PinErrorKind::Other)
    }
}

impl InputPin for BrokenPin {
    fn is_high(&mut self) -> Result<bool, PinErrorKind> {
        Err(PinErrorKind::Other)
    }
    fn is_low(&mut self) -> Result<bool, PinErrorKind> {
        Err(PinErrorKind::Other)
    }
}

#[test]
fn spi_drivers_report_bus_errors() {
    let mut adc = mcp3008::Mcp3008::new(BrokenBus);
    assert_eq!(
        adc.read(mcp3008::Channel::try_from(0).unwrap()),
        Err(Error::Bus(ErrorKind::Other))
    );
    let mut counter = ls7366r::Ls7366r::new(BrokenBus);
    assert_eq!(counter.configure(), Err(Error::Bus(ErrorKind::Other)));
    assert_eq!(counter.count(), Err(Error::Bus(ErrorKind::Other)));
    let mut stepper = tmc5160::Tmc5160::new(BrokenBus);
    assert_eq!(stepper.status(), Err(Error::Bus(ErrorKind::Other)));
}

#[test]
fn pin_drivers_report_bus_errors() {
    let mut pins = tmc5160::StepDir::new(BrokenPin, BrokenPin);
    assert_eq!(
        pins.step(tmc5160::Direction::Forward),
        Err(Error::Bus(PinErrorKind::Other))
    );
    let samples = debounce::DebounceSamples::try_from(2).unwrap();
    let mut input =
        debounce::DebouncedInput::new(BrokenPin, debounce::Polarity::ActiveLow, samples);
    assert_eq!(input.sample(), Err(Error::Bus(PinErrorKind::Other)));
    let mut annunciator = annunciator::Annunciator::new(BrokenPin, BrokenPin, BrokenPin);
    assert_eq!(
        annunciator.update(None, 0),
        Err(Error::Bus(PinErrorKind::Other))
    );
}
