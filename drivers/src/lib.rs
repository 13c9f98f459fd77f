//! Perfuse hardware layer: chip drivers generic over the embedded-hal 1.0
//! traits, so the same driver code runs on a Raspberry Pi and on the
//! simulated board (DESIGN.md, "The simulated board").
//!
//! Drivers own their bus and give it back (`new` / `release`), never panic,
//! never wait without a deadline, and report bus failures apart from invalid
//! input. Datasheet facts sit next to the registers they describe.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod analog;
pub mod annunciator;
pub mod backend;
pub mod config;
pub mod debounce;
pub mod hat;
pub mod ls7366r;
pub mod mcp3008;
pub mod melody;
pub mod tmc5160;
pub mod tone;

use core::fmt;

/// What a driver call can fail with: the bus itself, or a value outside what
/// the chip or the caller allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<BusError> {
    /// The SPI bus or a GPIO pin reported an error.
    Bus(BusError),
    /// A value given to the driver is outside what the chip accepts.
    InvalidInput(&'static str),
    /// The chip answered with something it should never send.
    UnexpectedResponse(&'static str),
    /// The chip did not become ready before its deadline.
    Timeout,
}

impl<BusError> From<BusError> for Error<BusError> {
    fn from(error: BusError) -> Self {
        Error::Bus(error)
    }
}

impl<BusError: fmt::Debug> fmt::Display for Error<BusError> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bus(error) => write!(f, "bus error: {error:?}"),
            Error::InvalidInput(what) => write!(f, "invalid input: {what}"),
            Error::UnexpectedResponse(what) => {
                write!(f, "unexpected response from the chip: {what}")
            }
            Error::Timeout => f.write_str("the chip did not answer before its deadline"),
        }
    }
}
