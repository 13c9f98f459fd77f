//! The real chip drivers against the simulated board, on a virtual clock:
//! configure the stepper, step it, read the ADC and the encoder, and check
//! the volume the physics says reached the patient.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use embedded_hal::digital::OutputPin;
use perfuse_drivers::analog::{Calibration, Pascals, PressureSensor};
use perfuse_drivers::ls7366r::Ls7366r;
use perfuse_drivers::mcp3008::{Channel, Mcp3008};
use perfuse_drivers::tmc5160::{
    CurrentScale, Direction, DriverConfig, Microsteps, StepDir, Tmc5160,
};
use perfuse_sim::*;

const MICROSTEPS: u16 = 16;

struct Rig {
    simulator: Simulator,
    board: Arc<Board>,
    stepper: Tmc5160<SimSpi>,
    pins: StepDir<SimPin, SimPin>,
    enable: SimPin,
    adc: Mcp3008<SimSpi>,
    encoder: Ls7366r<SimSpi>,
    /// Volume per STEP edge at 16 microsteps, mL.
    ml_per_step: f64,
    step_credit: f64,
}

impl Rig {
    fn new(mechanism: Mechanism, reservoir_ml: f64) -> Rig {
        let board = Board::in_memory();
        let physics = Physics::new(mechanism, LineModel::ADULT, reservoir_ml);
        let simulator = Simulator::new(
            board.clone(),
            physics,
            SimWiring::REFERENCE,
            SensorModel::REFERENCE,
        );
        let wiring = SimWiring::REFERENCE;
        let mut stepper = Tmc5160::new(SimSpi::new(board.clone(), SimChip::Stepper));
        stepper
            .configure(&DriverConfig {
                microsteps: Microsteps::try_from(MICROSTEPS).unwrap(),
                run_current: CurrentScale::try_from(20).unwrap(),
                hold_current: CurrentScale::try_from(8).unwrap(),
                global_scaler: 0,
            })
            .unwrap();
        let mut encoder = Ls7366r::new(SimSpi::new(board.clone(), SimChip::EncoderCounter));
        encoder.configure().unwrap();
        let ml_per_step = mechanism.nominal_ml_per_native_step() * f64::from(256 / MICROSTEPS);
        Rig {
            simulator,
            pins: StepDir::new(
                SimPin::new(board.clone(), wiring.step),
                SimPin::new(board.clone(), wiring.direction),
            ),
            enable: SimPin::new(board.clone(), wiring.motor_enable),
            adc: Mcp3008::new(SimSpi::new(board.clone(), SimChip::Adc)),
            board,
            stepper,
            encoder,
            ml_per_step,
            step_credit: 0.0,
        }
    }

    /// Runs at `ml_per_hour` for `seconds` in 1 ms ticks, stepping through the real pins.
    fn run(&mut self, ml_per_hour: f64, seconds: f64) {
        let steps_per_tick = ml_per_hour / 3600.0 / 1000.0 / self.ml_per_step;
        for _ in 0..(seconds * 1000.0) as u64 {
            self.step_credit += steps_per_tick;
            while self.step_credit >= 1.0 {
                self.pins.step(Direction::Forward).unwrap();
                self.step_credit -= 1.0;
            }
            self.simulator.step(0.001);
        }
    }

    fn downstream_pressure(&mut self) -> Pascals {
        // The calibration a profile carries for the reference transducer:
        // 200 counts at 0 Pa, 900 counts at 1000 mmHg (133 322 Pa).
        let sensor = PressureSensor(Calibration::new(200, 900, 133_322, 20, 1003).unwrap());
        let counts = self
            .adc
            .read(Channel::try_from(adc_channel::DOWNSTREAM_PRESSURE).unwrap())
            .unwrap();
        sensor.pressure(counts).unwrap()
    }
}

#[test]
fn the_real_drivers_deliver_the_programmed_volume_on_the_syringe() {
    let mut rig = Rig::new(Mechanism::reference_syringe(Syringe::ML_50), 50.0);
    rig.enable.set_low().unwrap();
    rig.run(25.0, 600.0);
    rig.run(0.0, 30.0);
    let truth = rig.simulator.truth();
    // 25 mL/h for 10 min is 4.1667 mL; the 0.02 mm of backlash keeps 0.0111 mL.
    let backlash_ml = 0.02 * Syringe::ML_50.area_mm2() / 1000.0;
    let expected = 25.0 / 6.0 - backlash_ml;
    assert!(
        (truth.delivered_ml - expected).abs() < 0.003,
        "delivered {} mL, expected {expected}",
        truth.delivered_ml
    );
    let memory = rig.board.memory();
    assert_eq!(memory.steps_while_disabled.load(Ordering::Acquire), 0);
    assert_eq!(
        memory.rotor_actual.load(Ordering::Acquire),
        memory.rotor_commanded.load(Ordering::Acquire)
    );
}

#[test]
fn the_real_drivers_deliver_on_the_volumetric_mechanism() {
    let mut rig = Rig::new(Mechanism::reference_peristaltic(), 1000.0);
    rig.enable.set_low().unwrap();
    rig.run(100.0, 360.0);
    rig.run(0.0, 30.0);
    let delivered = rig.simulator.truth().delivered_ml;
    assert!(
        (delivered - 10.0).abs() < 0.06,
        "delivered {delivered} mL of 10"
    );
}

#[test]
fn with_enable_off_no_step_moves_fluid() {
    let mut rig = Rig::new(Mechanism::reference_syringe(Syringe::ML_50), 50.0);
    // DRV_ENN is at its pull-up after power-on: disabled.
    rig.run(100.0, 60.0);
    let truth = rig.simulator.truth();
    assert_eq!(truth.delivered_ml, 0.0);
    let memory = rig.board.memory();
    assert!(memory.steps_while_disabled.load(Ordering::Acquire) > 1000);
    assert_eq!(memory.rotor_actual.load(Ordering::Acquire), 0);
}

#[test]
fn pressure_and_encoder_read_through_the_real_drivers() {
    let mut rig = Rig::new(Mechanism::reference_syringe(Syringe::ML_50), 50.0);
    rig.enable.set_low().unwrap();
    let at_rest = rig.downstream_pressure().tenths_of_mmhg();
    assert!(
        (at_rest - 80).abs() <= 15,
        "venous pressure about 8 mmHg: {at_rest}"
    );
    rig.simulator.physics_mut().set_faults(Faults {
        downstream: Occlusion::Full,
        ..Faults::NONE
    });
    rig.run(25.0, 120.0);
    let occluded = rig.downstream_pressure().tenths_of_mmhg();
    assert!(
        occluded > 3000,
        "over 300 mmHg after 2 min occluded at 25 mL/h: {}",
        occluded / 10
    );
    let counts = rig.encoder.count().unwrap().0;
    let turns = rig.board.memory().rotor_actual.load(Ordering::Acquire) as f64 / 256_000.0;
    assert_eq!(counts, (turns * 4000.0) as i32);
    assert!(counts > 0);
}

#[test]
fn a_stall_shows_in_the_driver_status_and_loses_the_steps() {
    let mut rig = Rig::new(Mechanism::reference_peristaltic(), 1000.0);
    rig.enable.set_low().unwrap();
    rig.simulator.physics_mut().set_faults(Faults {
        motor_stall: true,
        ..Faults::NONE
    });
    rig.simulator.step(0.001);
    rig.run(100.0, 1.0);
    let status = rig.stepper.status().unwrap();
    assert!(status.stall, "{status:?}");
    assert!(status.is_fault());
    assert_eq!(rig.board.memory().rotor_actual.load(Ordering::Acquire), 0);
    assert!(rig.board.memory().rotor_commanded.load(Ordering::Acquire) > 0);
}

#[test]
fn an_injected_overtemperature_shuts_the_driver_down_until_cleared() {
    let mut rig = Rig::new(Mechanism::reference_peristaltic(), 1000.0);
    rig.enable.set_low().unwrap();
    rig.board.memory().chip_faults.store(
        perfuse_sim::memory::chip_fault::OVERTEMPERATURE,
        Ordering::Release,
    );
    rig.run(100.0, 1.0);
    let status = rig.stepper.status().unwrap();
    assert!(status.overtemperature && status.driver_error);
    assert_eq!(rig.board.memory().rotor_actual.load(Ordering::Acquire), 0);
}

#[test]
fn an_unfed_watchdog_resets_the_board_and_the_driver_forgets_its_setup() {
    let mut rig = Rig::new(Mechanism::reference_peristaltic(), 1000.0);
    rig.enable.set_low().unwrap();
    let watchdog = SimWatchdog::open(rig.board.clone(), 100);
    let opened = board_clock_ms();
    assert!(!rig.simulator.watchdog_expired(opened + 50));
    drop(watchdog); // closing does not stop it
    assert!(rig.simulator.watchdog_expired(opened + 200));
    let memory = rig.board.memory();
    assert!(
        !memory.motor_enabled(),
        "the enable line is back at its pull-up: disabled"
    );
    assert_eq!(memory.resets.load(Ordering::Acquire), 1);
    assert!(
        rig.stepper.status().unwrap().reset,
        "the stepper reports its reset"
    );
    rig.run(100.0, 1.0);
    let memory = rig.board.memory();
    assert_eq!(
        memory.rotor_actual.load(Ordering::Acquire),
        0,
        "no configuration, enable off: nothing moves"
    );
    assert!(memory.steps_while_disabled.load(Ordering::Acquire) > 0);
}
