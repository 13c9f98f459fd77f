//! The stepper driver configured as the app's self-test would, with its
//! STEP/DIR pins, for tests that turn the simulated motor themselves.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use perfuse_drivers::tmc5160::{CurrentScale, DriverConfig, Microsteps, StepDir, Tmc5160};
use perfuse_sim::{Board, SimChip, SimPin, SimSpi, SimWiring};

pub fn configured_stepper(board: &Arc<Board>) -> StepDir<SimPin, SimPin> {
    Tmc5160::new(SimSpi::new(board.clone(), SimChip::Stepper))
        .configure(&DriverConfig {
            microsteps: Microsteps::try_from(16).unwrap(),
            run_current: CurrentScale::try_from(20).unwrap(),
            hold_current: CurrentScale::try_from(8).unwrap(),
            global_scaler: 0,
        })
        .unwrap();
    let wiring = SimWiring::REFERENCE;
    StepDir::new(
        SimPin::new(board.clone(), wiring.step),
        SimPin::new(board.clone(), wiring.direction),
    )
}
