//! Bus-level tests of the debounce driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};
use perfuse_drivers::debounce::*;
use perfuse_drivers::Error;

#[test]
fn a_level_is_believed_only_after_enough_equal_samples() {
    let levels = [
        State::Low,
        State::Low,
        State::High,
        State::Low,
        State::Low,
        State::Low,
        State::High,
    ];
    let expected: Vec<Transaction> = levels
        .iter()
        .map(|level| Transaction::get(*level))
        .collect();
    let mut input = DebouncedInput::new(
        Mock::new(&expected),
        Polarity::ActiveLow,
        DebounceSamples::try_from(3).unwrap(),
    );
    let states: Vec<InputReading> = (0..levels.len()).map(|_| input.sample().unwrap()).collect();
    assert_eq!(states[0].state, InputState::Unknown);
    assert_eq!(states[1].state, InputState::Unknown);
    assert_eq!(
        states[2].state,
        InputState::Unknown,
        "a glitch restarts the count"
    );
    assert_eq!(states[3].state, InputState::Unknown);
    assert_eq!(
        states[5],
        InputReading {
            state: InputState::Active,
            changed: true
        }
    );
    assert_eq!(
        states[6],
        InputReading {
            state: InputState::Active,
            changed: false
        },
        "one glitch does not flip it"
    );
    input.release().done();
}

#[test]
fn sample_counts_are_bounded() {
    assert!(DebounceSamples::try_from(0).is_err());
    assert!(DebounceSamples::try_from(65).is_err());
}
