//! The `sim` back-end: the board configuration's pins and devices on the
//! simulated board.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::{Board, SimChip, SimPin, SimSpi, SimTone};
use perfuse_drivers::backend::{ControlHardware, SupervisorHardware};
use perfuse_drivers::config::BoardConfig;

pub type SimControlHardware = ControlHardware<SimPin, SimPin, SimSpi>;
pub type SimSupervisorHardware = SupervisorHardware<SimPin, SimTone, SimSpi>;

/// The control thread's hardware; registers this process as the app (the
/// virtual watchdog's board reset kills it).
pub fn open_control(board: &Arc<Board>, config: &BoardConfig) -> SimControlHardware {
    board
        .memory()
        .app_pid
        .store(std::process::id(), Ordering::Release);
    control_lines(board, config)
}

/// The control thread's pins and devices on `board`, registering nobody:
/// for a pump run in one process with its board (tests and benchmarks).
pub fn control_lines(board: &Arc<Board>, config: &BoardConfig) -> SimControlHardware {
    let pin = |line: u8| SimPin::new(board.clone(), line);
    let pins = config.pins;
    ControlHardware {
        step: pin(pins.step),
        direction: pin(pins.direction),
        air_sensor: pin(pins.air_sensor),
        door: pin(pins.door),
        container: pin(pins.container),
        demand: pin(pins.demand),
        light_red: pin(pins.light_red),
        light_yellow: pin(pins.light_yellow),
        stepper: SimSpi::new(board.clone(), SimChip::Stepper),
        adc: SimSpi::new(board.clone(), SimChip::Adc),
    }
}

/// The supervisor's hardware; registers this process as the supervisor.
pub fn open_supervisor(board: &Arc<Board>, config: &BoardConfig) -> SimSupervisorHardware {
    board
        .memory()
        .supervisor_pid
        .store(std::process::id(), Ordering::Release);
    SupervisorHardware {
        motor_enable: SimPin::new(board.clone(), config.pins.motor_enable),
        buzzer: SimTone::new(board.clone()),
        buzzer_attenuate_a: SimPin::new(board.clone(), config.pins.buzzer_attenuate_a),
        buzzer_attenuate_b: SimPin::new(board.clone(), config.pins.buzzer_attenuate_b),
        buzzer_hold: SimPin::new(board.clone(), config.pins.buzzer_hold),
        encoder: SimSpi::new(board.clone(), SimChip::EncoderCounter),
    }
}
