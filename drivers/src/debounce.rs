//! Debounced digital inputs: air-in-line detector, door latch, syringe or
//! cassette present.
//!
//! The control thread samples each input once per period; a new level is
//! believed only after it has been read the same a configured number of
//! times in a row. Until then the input is `Unknown`, which callers must
//! treat as the unsafe state (door open, air present, no container).

use embedded_hal::digital::InputPin;

use crate::Error;

/// Which electrical level means "active" (air present, door closed...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    ActiveHigh,
    ActiveLow,
}

/// Consecutive equal samples needed to accept a level: 1 to 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebounceSamples(u8);

impl TryFrom<u8> for DebounceSamples {
    type Error = &'static str;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        if (1..=64).contains(&value) {
            Ok(Self(value))
        } else {
            Err("debounce needs 1 to 64 equal samples")
        }
    }
}

/// What a debounced input currently says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputState {
    /// Not yet read the same often enough since start.
    Unknown,
    Active,
    Inactive,
}

/// One sample's outcome: the debounced state and whether it just changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputReading {
    pub state: InputState,
    pub changed: bool,
}

pub struct DebouncedInput<P> {
    pin: P,
    polarity: Polarity,
    required: u8,
    state: InputState,
    candidate: bool,
    run: u8,
}

impl<P: InputPin> DebouncedInput<P> {
    pub fn new(pin: P, polarity: Polarity, samples: DebounceSamples) -> Self {
        Self {
            pin,
            polarity,
            required: samples.0,
            state: InputState::Unknown,
            candidate: false,
            run: 0,
        }
    }

    pub fn release(self) -> P {
        self.pin
    }

    pub fn state(&self) -> InputState {
        self.state
    }

    /// Reads the pin once and updates the debounced state.
    pub fn sample(&mut self) -> Result<InputReading, Error<P::Error>> {
        let high = self.pin.is_high()?;
        let active = match self.polarity {
            Polarity::ActiveHigh => high,
            Polarity::ActiveLow => !high,
        };
        if active == self.candidate {
            self.run = self.run.saturating_add(1);
        } else {
            self.candidate = active;
            self.run = 1;
        }
        let before = self.state;
        if self.run >= self.required {
            self.state = if active {
                InputState::Active
            } else {
                InputState::Inactive
            };
        }
        Ok(InputReading {
            state: self.state,
            changed: self.state != before,
        })
    }
}
