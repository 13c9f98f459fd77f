//! Board back-ends hand out the configured pins and devices. The simulated
//! one is exercised fully; the Pi and Linux ones (built with their features)
//! must fail cleanly, naming what they could not open, on a machine without
//! the hardware.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use embedded_hal::digital::{InputPin, OutputPin, StatefulOutputPin};
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_drivers::mcp3008::{Channel, Mcp3008};
use perfuse_sim::hardware::{open_control, open_supervisor};
use perfuse_sim::{Board, LineModel, Mechanism, Physics, SensorModel, SimWiring, Simulator};
use std::sync::atomic::Ordering;

#[test]
fn the_sim_back_end_hands_out_the_configured_wiring_and_registers_the_processes() {
    let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
    let board = Board::in_memory();
    let physics = Physics::new(Mechanism::reference_peristaltic(), LineModel::ADULT, 500.0);
    let mut simulator = Simulator::new(
        board.clone(),
        physics,
        SimWiring::from(config.pins),
        SensorModel::REFERENCE,
    );
    let mut control = open_control(&board, &config);
    let mut supervisor = open_supervisor(&board, &config);
    let memory = board.memory();
    assert_eq!(memory.app_pid.load(Ordering::Acquire), std::process::id());
    assert_eq!(
        memory.supervisor_pid.load(Ordering::Acquire),
        std::process::id()
    );
    // Door closed reads high; opening it is seen on the configured line.
    assert!(control.door.is_high().unwrap());
    simulator.physics_mut().set_faults(perfuse_sim::Faults {
        door_open: true,
        ..perfuse_sim::Faults::NONE
    });
    simulator.step(0.001);
    assert!(control.door.is_low().unwrap());
    // The PCA demand button reads low (not pressed) until the patient presses it.
    assert!(control.demand.is_low().unwrap());
    simulator.physics_mut().hold_demand();
    simulator.step(0.001);
    assert!(control.demand.is_high().unwrap());
    simulator.physics_mut().release_demand();
    simulator.step(0.001);
    assert!(control.demand.is_low().unwrap());
    // The supervisor's enable line starts disabled (pull-up) and reads back what it drives.
    assert!(supervisor.motor_enable.is_set_high().unwrap());
    supervisor.motor_enable.set_low().unwrap();
    assert!(memory.motor_enabled());
    supervisor.motor_enable.set_high().unwrap();
    assert!(!memory.motor_enabled());
    // The ADC on the configured device reads the simulated pressure.
    let mut adc = Mcp3008::new(control.adc);
    assert!(adc.read(Channel::try_from(1).unwrap()).unwrap().get() > 200);
}

#[cfg(feature = "rpi")]
#[test]
fn the_pi_back_end_fails_cleanly_without_a_pi() {
    let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
    if std::path::Path::new("/dev/gpiomem").exists() {
        return; // on a real Pi this test has nothing to show
    }
    let error = perfuse_drivers::backend::rpi::open_control(&config)
        .err()
        .unwrap();
    assert!(error.to_string().starts_with("cannot open "), "{error}");
    let error = perfuse_drivers::backend::rpi::open_supervisor(&config)
        .err()
        .unwrap();
    assert!(error.to_string().starts_with("cannot open "), "{error}");
}

#[cfg(feature = "linux")]
#[test]
fn the_linux_back_end_names_the_missing_gpio_chip() {
    let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
    let missing = std::path::Path::new("/dev/gpiochip-that-is-not-there");
    let error = perfuse_drivers::backend::linux::open_control(&config, missing)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("/dev/gpiochip-that-is-not-there"),
        "{error}"
    );
}
