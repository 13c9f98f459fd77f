//! The simulator: couples the physics to the virtual board. Each step reads
//! how far the rotor really turned (from the stepper emulation), advances the
//! physics, and writes back the sensor inputs (ADC counts, digital lines,
//! encoder) and the ground truth. It also runs the virtual watchdog.
//!
//! `perfuse-sim` calls `step` every millisecond in real time; tests call it
//! on a virtual clock.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::memory::{Board, BoardMemory};
use super::physics::{Physics, Truth};

/// ADC inputs of the reference board.
pub mod adc_channel {
    pub const UPSTREAM_PRESSURE: u8 = 0;
    pub const DOWNSTREAM_PRESSURE: u8 = 1;
    pub const PLUNGER_POSITION: u8 = 2;
}

/// Encoder counts per mechanism turn (a 1000-line encoder read x4).
pub const ENCODER_COUNTS_PER_TURN: u32 = 4000;

/// The reference wiring (BCM GPIO numbers on the Pi header; see
/// docs/wiring.md). `perfuse-sim` writes it into the board so the chip
/// emulation follows the same pins the board configuration names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimWiring {
    pub step: u8,
    pub direction: u8,
    pub motor_enable: u8,
    pub air_sensor: u8,
    pub door: u8,
    pub container: u8,
    /// The PCA patient demand button: high while pressed.
    pub demand: u8,
    pub buzzer: u8,
    pub buzzer_attenuate_a: u8,
    pub buzzer_attenuate_b: u8,
    pub buzzer_hold: u8,
    pub light_red: u8,
    pub light_yellow: u8,
}

impl From<perfuse_drivers::config::Pins> for SimWiring {
    fn from(pins: perfuse_drivers::config::Pins) -> Self {
        SimWiring {
            step: pins.step,
            direction: pins.direction,
            motor_enable: pins.motor_enable,
            air_sensor: pins.air_sensor,
            door: pins.door,
            container: pins.container,
            demand: pins.demand,
            buzzer: pins.buzzer,
            buzzer_attenuate_a: pins.buzzer_attenuate_a,
            buzzer_attenuate_b: pins.buzzer_attenuate_b,
            buzzer_hold: pins.buzzer_hold,
            light_red: pins.light_red,
            light_yellow: pins.light_yellow,
        }
    }
}

impl SimWiring {
    pub const REFERENCE: SimWiring = SimWiring {
        step: 23,
        direction: 24,
        motor_enable: 25,
        air_sensor: 5,
        door: 6,
        container: 13,
        demand: 16,
        buzzer: 12,
        buzzer_attenuate_a: 4,
        buzzer_attenuate_b: 22,
        buzzer_hold: 17,
        light_red: 26,
        light_yellow: 27,
    };
}

/// How the simulated sensors turn physical values into counts: the inverse
/// of the calibration a mechanism profile carries for them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorModel {
    /// Pressure transducers: counts at 0 mmHg and counts per mmHg.
    pub pressure_zero_counts: f64,
    pub pressure_counts_per_mmhg: f64,
    /// Plunger potentiometer: counts at 0 mm and counts per mm.
    pub position_zero_counts: f64,
    pub position_counts_per_mm: f64,
}

impl SensorModel {
    /// 200 counts at 0 mmHg, 900 at 1000 mmHg; 50 counts at 0 mm, 9 per mm.
    pub const REFERENCE: SensorModel = SensorModel {
        pressure_zero_counts: 200.0,
        pressure_counts_per_mmhg: 0.7,
        position_zero_counts: 50.0,
        position_counts_per_mm: 9.0,
    };

    /// A transducer saturates inside the fault bands rather than at the rails.
    #[allow(clippy::float_arithmetic)]
    fn counts(zero: f64, per_unit: f64, value: f64) -> u16 {
        (zero + per_unit * value).round().clamp(25.0, 1000.0) as u16
    }
}

pub struct Simulator {
    board: Arc<Board>,
    physics: Physics,
    sensors: SensorModel,
    /// Rotor position the physics has consumed.
    rotor_seen: i64,
}

impl Simulator {
    /// Wires the board, powers it on and starts the physics.
    pub fn new(
        board: Arc<Board>,
        physics: Physics,
        wiring: SimWiring,
        sensors: SensorModel,
    ) -> Self {
        let memory = board.memory();
        let w = &memory.wiring;
        w.step.store(wiring.step, Ordering::Release);
        w.direction.store(wiring.direction, Ordering::Release);
        w.motor_enable.store(wiring.motor_enable, Ordering::Release);
        w.air_sensor.store(wiring.air_sensor, Ordering::Release);
        w.door.store(wiring.door, Ordering::Release);
        w.container.store(wiring.container, Ordering::Release);
        w.demand.store(wiring.demand, Ordering::Release);
        w.buzzer.store(wiring.buzzer, Ordering::Release);
        w.buzzer_attenuate_a
            .store(wiring.buzzer_attenuate_a, Ordering::Release);
        w.buzzer_attenuate_b
            .store(wiring.buzzer_attenuate_b, Ordering::Release);
        w.buzzer_hold.store(wiring.buzzer_hold, Ordering::Release);
        w.light_red.store(wiring.light_red, Ordering::Release);
        w.light_yellow.store(wiring.light_yellow, Ordering::Release);
        memory.power_on_reset();
        let rotor_seen = memory.rotor_actual.load(Ordering::Acquire);
        let mut simulator = Self {
            board,
            physics,
            sensors,
            rotor_seen,
        };
        simulator.publish();
        simulator
    }

    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }

    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// For fault injection and set-up.
    pub fn physics_mut(&mut self) -> &mut Physics {
        &mut self.physics
    }

    pub fn truth(&self) -> Truth {
        self.physics.truth()
    }

    /// Advances the world by `dt_s` seconds.
    pub fn step(&mut self, dt_s: f64) {
        let memory = self.board.memory();
        let rotor = memory.rotor_actual.load(Ordering::Acquire);
        self.rotor_seen = rotor;
        self.physics.advance(dt_s, rotor);
        self.publish();
    }

    /// Writes sensor inputs and ground truth to the board.
    #[allow(clippy::float_arithmetic)]
    fn publish(&mut self) {
        let memory = self.board.memory();
        let truth = self.physics.truth();
        let faults = self.physics.faults();
        memory
            .rotor_blocked
            .store(self.physics.motor_blocked(), Ordering::Release);
        let sensors = self.sensors;
        let pressure = |mmhg| {
            SensorModel::counts(
                sensors.pressure_zero_counts,
                sensors.pressure_counts_per_mmhg,
                mmhg,
            )
        };
        let set_adc = |channel: u8, counts: u16| {
            if let Some(slot) = memory.adc_counts.get(usize::from(channel)) {
                slot.store(counts, Ordering::Release);
            }
        };
        set_adc(
            adc_channel::UPSTREAM_PRESSURE,
            pressure(truth.upstream_pressure_mmhg),
        );
        set_adc(
            adc_channel::DOWNSTREAM_PRESSURE,
            pressure(truth.downstream_pressure_mmhg),
        );
        set_adc(
            adc_channel::PLUNGER_POSITION,
            SensorModel::counts(
                sensors.position_zero_counts,
                sensors.position_counts_per_mm,
                truth.plunger_mm,
            ),
        );
        let line = |field: &std::sync::atomic::AtomicU8| field.load(Ordering::Acquire);
        memory.set_level(line(&memory.wiring.air_sensor), truth.air_at_sensor);
        memory.set_level(line(&memory.wiring.door), !truth.door_open);
        memory.set_level(line(&memory.wiring.container), truth.container_present);
        memory.set_level(line(&memory.wiring.demand), truth.demand_pressed);
        if !faults.encoder_frozen {
            memory.encoder_counts.store(
                self.physics.encoder_counts(ENCODER_COUNTS_PER_TURN),
                Ordering::Release,
            );
        }
        store_truth(memory, &truth);
    }

    /// Checks the virtual watchdog at board time `now_ms`; on expiry the board
    /// resets (as the Pi's watchdog would) and `true` is returned.
    pub fn watchdog_expired(&mut self, now_ms: u64) -> bool {
        let memory = self.board.memory();
        let timeout = u64::from(memory.watchdog_timeout_ms.load(Ordering::Acquire));
        if timeout == 0 {
            return false;
        }
        let fed = memory.watchdog_fed_at_ms.load(Ordering::Acquire);
        if now_ms.saturating_sub(fed) <= timeout {
            return false;
        }
        memory.watchdog_expiries.fetch_add(1, Ordering::AcqRel);
        self.reset_board();
        true
    }

    /// A board reset: the stepper driver loses power and configuration and
    /// its enable line returns to its pull-up (disabled); the watchdog closes.
    /// The world (fluid, syringe, line) is untouched. The caller signals the
    /// processes that ran on the board.
    pub fn reset_board(&mut self) {
        let memory = self.board.memory();
        memory.resets.fetch_add(1, Ordering::AcqRel);
        memory.power_on_reset();
        self.publish();
    }
}

#[allow(clippy::float_arithmetic, clippy::cast_possible_truncation)]
fn store_truth(memory: &BoardMemory, truth: &Truth) {
    let nano = |ml: f64| (ml * 1.0e6).round() as i64;
    let milli = |value: f64| (value * 1000.0).round() as i64;
    memory
        .truth_time_us
        .store((truth.time_s * 1.0e6).round() as u64, Ordering::Release);
    memory
        .truth_delivered_nl
        .store(nano(truth.delivered_ml), Ordering::Release);
    memory
        .truth_air_nl
        .store(nano(truth.air_delivered_ml), Ordering::Release);
    memory
        .truth_downstream_mmhg_milli
        .store(milli(truth.downstream_pressure_mmhg), Ordering::Release);
    memory
        .truth_upstream_mmhg_milli
        .store(milli(truth.upstream_pressure_mmhg), Ordering::Release);
    memory
        .truth_reservoir_nl
        .store(nano(truth.reservoir_ml), Ordering::Release);
    memory
        .truth_plunger_um
        .store(milli(truth.plunger_mm), Ordering::Release);
}
