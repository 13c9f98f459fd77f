//! A pump on the simulated board, in one process on a virtual clock: the
//! real controller (real drivers, detectors, alarms, state machine) against
//! the real physics. The test plays the supervisor (ENABLE) and the nurse.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use std::sync::Arc;

use arrayvec::ArrayVec;
use embedded_hal::digital::OutputPin;
use perfuse::control::controller::{
    Command, ControlEvent, Controller, ControllerHardware, Mode, Snapshot,
};
use perfuse::control::settings::controller_settings;
use perfuse::control::state::{End, Program, Segment};
use perfuse::control::units::{Nanolitres, NanolitresPerHour};
use perfuse::platform::MechanismProfile;
use perfuse::therapy::SegmentPurpose;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_drivers::sim::{
    Board, LineModel, Mechanism, Physics, SensorModel, SimChip, SimPin, SimSpi, SimWiring,
    Simulator, Syringe, Truth,
};

pub enum Platform {
    Syringe50,
    Volumetric,
}

pub struct Rig {
    pub simulator: Simulator,
    pub controller: Controller<SimPin, SimPin, SimSpi>,
    pub board: Arc<Board>,
    pub now_us: u64,
    pub period_us: u64,
    pub enable: SimPin,
    pub events: Vec<ControlEvent>,
    pub last: Snapshot,
    physics_per_period: u32,
    settings: perfuse::control::controller::ControllerSettings,
}

fn profile(name: &str) -> MechanismProfile {
    MechanismProfile::parse(&std::fs::read(super::asset(&format!("platforms/{name}"))).unwrap())
        .unwrap()
}

impl Rig {
    /// A pump of `platform` with a control period of `period_us`.
    pub fn new(platform: Platform, period_us: u64) -> Rig {
        let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
        let (mechanism, settings, reservoir) = match platform {
            Platform::Syringe50 => (
                Mechanism::reference_syringe(Syringe::ML_50),
                controller_settings(
                    &profile("perfuse-s50-syringe.toml"),
                    Some("BD Plastipak 50 mL"),
                    1,
                    period_us,
                    3,
                )
                .unwrap(),
                50.0,
            ),
            Platform::Volumetric => (
                Mechanism::reference_peristaltic(),
                controller_settings(
                    &profile("perfuse-v1-volumetric.toml"),
                    None,
                    1,
                    period_us,
                    3,
                )
                .unwrap(),
                1000.0,
            ),
        };
        let board = Board::in_memory();
        let physics = Physics::new(mechanism, LineModel::ADULT, reservoir);
        let simulator = Simulator::new(
            board.clone(),
            physics,
            SimWiring::from(config.pins),
            SensorModel::REFERENCE,
        );
        let pin = |line: u8| SimPin::new(board.clone(), line);
        let pins = config.pins;
        let hardware = ControllerHardware {
            step: pin(pins.step),
            direction: pin(pins.direction),
            air_sensor: pin(pins.air_sensor),
            door: pin(pins.door),
            light_red: pin(pins.light_red),
            light_yellow: pin(pins.light_yellow),
            stepper: SimSpi::new(board.clone(), SimChip::Stepper),
            adc: SimSpi::new(board.clone(), SimChip::Adc),
            encoder: Some(SimSpi::new(board.clone(), SimChip::EncoderCounter)),
        };
        let controller = Controller::start(hardware, settings, true);
        let mut enable = pin(pins.motor_enable);
        enable.set_low().unwrap();
        Rig {
            simulator,
            controller,
            board,
            now_us: 0,
            period_us,
            enable,
            events: Vec::new(),
            last: Snapshot::default(),
            settings,
            // One physics step per period, at most 10 ms each (the line model is exact at any step).
            physics_per_period: u32::try_from(period_us / 10_000).unwrap().max(1),
        }
    }

    /// One control period with these commands, then the physics for its duration.
    pub fn period(&mut self, commands: Vec<Command>) -> &Snapshot {
        self.now_us += self.period_us;
        let output = self.controller.period(self.now_us, commands);
        self.events.extend(output.events.iter().copied());
        self.last = output.snapshot;
        let step = self.period_us as f64 / 1.0e6 / f64::from(self.physics_per_period);
        for _ in 0..self.physics_per_period {
            self.simulator.step(step);
        }
        &self.last
    }

    pub fn command(&mut self, command: Command) -> &Snapshot {
        self.period(vec![command])
    }

    pub fn run_for(&mut self, seconds: f64) {
        let periods = (seconds * 1.0e6 / self.period_us as f64) as u64;
        for _ in 0..periods {
            self.period(Vec::new());
        }
    }

    /// Runs until `done` or `limit_s` seconds pass; returns the seconds taken.
    pub fn run_until(&mut self, limit_s: f64, done: impl Fn(&Snapshot) -> bool) -> Option<f64> {
        let start = self.now_us;
        while (self.now_us - start) as f64 / 1.0e6 < limit_s {
            let snapshot = *self.period(Vec::new());
            if done(&snapshot) {
                return Some((self.now_us - start) as f64 / 1.0e6);
            }
        }
        None
    }

    /// Restarts the app: a new controller on the same board (the world and
    /// the board are untouched, the program is gone from memory).
    pub fn restart(&mut self) {
        let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
        let pins = config.pins;
        let board = &self.board;
        let pin = |line: u8| SimPin::new(board.clone(), line);
        let hardware = ControllerHardware {
            step: pin(pins.step),
            direction: pin(pins.direction),
            air_sensor: pin(pins.air_sensor),
            door: pin(pins.door),
            light_red: pin(pins.light_red),
            light_yellow: pin(pins.light_yellow),
            stepper: SimSpi::new(board.clone(), SimChip::Stepper),
            adc: SimSpi::new(board.clone(), SimChip::Adc),
            encoder: Some(SimSpi::new(board.clone(), SimChip::EncoderCounter)),
        };
        self.controller = Controller::start(hardware, self.settings, true);
    }

    pub fn truth(&self) -> Truth {
        self.simulator.truth()
    }

    pub fn mode(&self) -> Mode {
        self.last.mode
    }
}

/// A continuous program at `ml_per_hour` for `millilitres`.
pub fn continuous(ml_per_hour: f64, millilitres: f64, end: End) -> Program {
    let mut segments = ArrayVec::new();
    segments.push(Segment {
        purpose: SegmentPurpose::Primary,
        rate: NanolitresPerHour((ml_per_hour * 1.0e6).round() as u64),
        volume: Nanolitres((millilitres * 1.0e6).round() as u64),
    });
    Program { segments, end }
}
