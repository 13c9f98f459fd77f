//! Physics of the simulated pump: the ground truth for volume delivered.
//!
//! A pure model advanced by `advance(dt, rotor)`: the rotor position (in
//! microsteps, as the stepper really turned) drives a mechanism, which pushes
//! fluid into a compliant line that drains into the patient through a
//! resistance. Occlusions raise that resistance (downstream) or starve the
//! pump (upstream); air bubbles pass the air sensor and displace fluid; the
//! syringe ends; the bag empties. It runs in real time in `perfuse-sim` and
//! on a virtual clock in tests and benchmarks (two hours in well under a
//! second).
//!
//! This is a model of the world, not device code: it uses floating point,
//! and its constants are plausible values for adult IV therapy, named with
//! their units.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::VecDeque;

/// Rotor positions are counted in the stepper chip's native resolution:
/// 1/256 of a full step, whatever microstep setting the driver uses.
pub const NATIVE_MICROSTEPS_PER_STEP: u32 = 256;

/// A syringe size the syringe mechanism accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Syringe {
    pub name: &'static str,
    pub capacity_ml: f64,
    /// Barrel inner diameter, mm (BD Plastipak nominal values).
    pub inner_diameter_mm: f64,
}

impl Syringe {
    pub const ML_10: Syringe = Syringe {
        name: "10 mL",
        capacity_ml: 10.0,
        inner_diameter_mm: 14.43,
    };
    pub const ML_20: Syringe = Syringe {
        name: "20 mL",
        capacity_ml: 20.0,
        inner_diameter_mm: 19.13,
    };
    pub const ML_30: Syringe = Syringe {
        name: "30 mL",
        capacity_ml: 30.0,
        inner_diameter_mm: 21.59,
    };
    pub const ML_50: Syringe = Syringe {
        name: "50 mL",
        capacity_ml: 50.0,
        inner_diameter_mm: 26.59,
    };
    pub const ALL: [Syringe; 4] = [
        Syringe::ML_10,
        Syringe::ML_20,
        Syringe::ML_30,
        Syringe::ML_50,
    ];

    /// Plunger area, mm².
    pub fn area_mm2(&self) -> f64 {
        std::f64::consts::PI * self.inner_diameter_mm * self.inner_diameter_mm / 4.0
    }

    /// Plunger travel from full to empty, mm.
    pub fn stroke_mm(&self) -> f64 {
        self.capacity_ml * 1000.0 / self.area_mm2()
    }
}

/// The mechanism that turns rotor motion into displaced volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mechanism {
    /// A lead screw pushing a syringe plunger.
    Syringe {
        syringe: Syringe,
        /// Lead screw pitch: plunger travel per screw turn, mm.
        pitch_mm: f64,
        /// Full motor steps per screw turn (motor steps x gear ratio).
        full_steps_per_turn: u32,
        /// Free play taken up before the plunger moves after a reversal, mm.
        backlash_mm: f64,
    },
    /// A linear peristaltic (volumetric) mechanism on an administration set.
    Peristaltic {
        /// Nominal volume per camshaft turn at zero back-pressure, mL.
        ml_per_turn: f64,
        /// Full motor steps per camshaft turn.
        full_steps_per_turn: u32,
        /// Fractional loss of stroke volume per mmHg of downstream pressure
        /// (the set's tubing balloons against the fingers).
        back_pressure_loss_per_mmhg: f64,
        /// Flow ripple within a turn, 0 (none) to 1.
        ripple: f64,
    },
}

impl Mechanism {
    /// The reference syringe mechanism: 1 mm lead screw driven by a 200-step
    /// motor through a 5:1 gear (1000 full steps per turn).
    pub fn reference_syringe(syringe: Syringe) -> Self {
        Mechanism::Syringe {
            syringe,
            pitch_mm: 1.0,
            full_steps_per_turn: 1000,
            backlash_mm: 0.02,
        }
    }

    /// The reference volumetric mechanism: 0.2 mL per camshaft turn, a
    /// 200-step motor on the camshaft, 0.02 % stroke loss per mmHg, 30 % ripple.
    pub fn reference_peristaltic() -> Self {
        Mechanism::Peristaltic {
            ml_per_turn: 0.2,
            full_steps_per_turn: 200,
            back_pressure_loss_per_mmhg: 0.0002,
            ripple: 0.3,
        }
    }

    /// Full motor steps per mechanism turn.
    pub fn full_steps_per_turn(&self) -> u32 {
        match self {
            Mechanism::Syringe {
                full_steps_per_turn,
                ..
            }
            | Mechanism::Peristaltic {
                full_steps_per_turn,
                ..
            } => *full_steps_per_turn,
        }
    }

    /// Native (1/256 step) microsteps per mechanism turn.
    pub fn native_per_turn(&self) -> u64 {
        u64::from(self.full_steps_per_turn()) * u64::from(NATIVE_MICROSTEPS_PER_STEP)
    }

    /// Nominal volume per native microstep, mL (what a profile states, scaled).
    pub fn nominal_ml_per_native_step(&self) -> f64 {
        let per_turn = self.native_per_turn() as f64;
        match self {
            Mechanism::Syringe {
                syringe, pitch_mm, ..
            } => pitch_mm / per_turn * syringe.area_mm2() / 1000.0,
            Mechanism::Peristaltic { ml_per_turn, .. } => ml_per_turn / per_turn,
        }
    }
}

/// Where an occlusion is and how bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occlusion {
    None,
    /// Flow still passes through a narrowed line (a kinked, not closed, tube).
    Partial,
    /// The line is closed (a clamp left shut).
    Full,
}

impl Occlusion {
    /// How many times the line's resistance rises.
    fn resistance_factor(self) -> f64 {
        match self {
            Occlusion::None => 1.0,
            Occlusion::Partial => 20.0,
            Occlusion::Full => 1.0e7,
        }
    }
}

/// Faults a test or a usability facilitator can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    pub downstream: Occlusion,
    pub upstream: Occlusion,
    pub door_open: bool,
    /// The motor is mechanically blocked: steps are lost.
    pub motor_stall: bool,
    /// The encoder stops counting (a broken wire).
    pub encoder_frozen: bool,
    /// The syringe (or the administration set) is taken out of the pump:
    /// the container-present switch opens and the mechanism pushes nothing.
    pub container_removed: bool,
}

impl Faults {
    pub const NONE: Faults = Faults {
        downstream: Occlusion::None,
        upstream: Occlusion::None,
        door_open: false,
        motor_stall: false,
        encoder_frozen: false,
        container_removed: false,
    };
}

/// The PCA patient demand button as the patient (or a test) works it. Not a
/// fault: `Faults` stays what can go wrong; this is what the patient does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DemandButton {
    Released,
    /// Pressed until the simulated time `until_s`; `advance` releases it
    /// when that time has passed (no thread sleeps on it).
    PressedUntil {
        until_s: f64,
    },
    /// Pressed and kept pressed until released (a stuck button).
    Held,
}

/// Line and patient constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineModel {
    /// Compliance of syringe or set plus tubing downstream, mL per mmHg.
    pub downstream_compliance_ml_per_mmhg: f64,
    /// Resistance of the catheter and vein, mmHg per (mL/s).
    pub patient_resistance: f64,
    /// Central venous pressure the line drains into, mmHg.
    pub venous_pressure_mmhg: f64,
    /// Head of the bag above the pump (peristaltic), mmHg.
    pub container_head_mmhg: f64,
    /// Compliance of the tubing between bag and pump, mL per mmHg.
    pub upstream_compliance_ml_per_mmhg: f64,
    /// Resistance from bag to pump, mmHg per (mL/s).
    pub upstream_resistance: f64,
}

impl LineModel {
    /// An adult peripheral IV: about 15 mmHg across the catheter at 100 mL/h,
    /// venous pressure 8 mmHg, a bag 30 cm above the pump on a gravity set.
    pub const ADULT: LineModel = LineModel {
        downstream_compliance_ml_per_mmhg: 0.0025,
        patient_resistance: 540.0,
        venous_pressure_mmhg: 8.0,
        container_head_mmhg: 22.0,
        upstream_compliance_ml_per_mmhg: 0.002,
        // A spiked bag and a gravity set flow litres per hour: about 5 mmHg
        // lost at 1 L/h.
        upstream_resistance: 20.0,
    };
}

/// The most bubbles waiting upstream at once; more injections are refused.
pub const MAX_BUBBLES: usize = 64;

/// The simulated world: mechanism, line, container, faults.
#[derive(Debug, Clone)]
pub struct Physics {
    mechanism: Mechanism,
    line: LineModel,
    faults: Faults,
    /// Rotor position last seen, microsteps.
    rotor: i64,
    /// Backlash taken up so far in the current direction, mm (syringe).
    slack_mm: f64,
    last_direction: i8,
    /// Plunger travel from the start position, mm (syringe).
    plunger_mm: f64,
    /// Fluid left in the syringe or bag, mL.
    reservoir_ml: f64,
    /// Fluid stored in the downstream compliance above venous pressure, mL.
    stored_ml: f64,
    upstream_pressure_mmhg: f64,
    delivered_ml: f64,
    air_delivered_ml: f64,
    bubbles: VecDeque<f64>,
    time_s: f64,
    demand: DemandButton,
}

/// What the physics reports: ground truth and sensor inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    pub time_s: f64,
    /// Fluid that has reached the patient, mL.
    pub delivered_ml: f64,
    /// Air pumped into the line, mL.
    pub air_delivered_ml: f64,
    pub downstream_pressure_mmhg: f64,
    pub upstream_pressure_mmhg: f64,
    /// Air in front of the air-in-line sensor.
    pub air_at_sensor: bool,
    pub door_open: bool,
    /// A syringe or administration set is loaded.
    pub container_present: bool,
    /// The PCA patient demand button is pressed (its line reads high).
    pub demand_pressed: bool,
    /// Fluid left in the syringe or bag, mL.
    pub reservoir_ml: f64,
    /// Plunger travel, mm (0 for the volumetric mechanism).
    pub plunger_mm: f64,
    /// The rotor cannot turn further: end of syringe, or a stall.
    pub motor_blocked: bool,
}

impl Physics {
    /// A syringe or bag holding `reservoir_ml`, nothing delivered yet. A
    /// syringe filled below capacity has its plunger further in.
    pub fn new(mechanism: Mechanism, line: LineModel, reservoir_ml: f64) -> Self {
        let mut physics = Self {
            mechanism,
            line,
            faults: Faults::NONE,
            rotor: 0,
            slack_mm: 0.0,
            last_direction: 1,
            plunger_mm: 0.0,
            reservoir_ml: reservoir_ml.max(0.0),
            stored_ml: 0.0,
            upstream_pressure_mmhg: line.container_head_mmhg,
            delivered_ml: 0.0,
            air_delivered_ml: 0.0,
            bubbles: VecDeque::with_capacity(MAX_BUBBLES),
            time_s: 0.0,
            demand: DemandButton::Released,
        };
        physics.set_reservoir(reservoir_ml);
        physics
    }

    pub fn mechanism(&self) -> &Mechanism {
        &self.mechanism
    }

    pub fn faults(&self) -> Faults {
        self.faults
    }

    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Puts a bubble of `microlitres` in front of the air sensor; false if
    /// `MAX_BUBBLES` are already waiting or the size is not positive.
    pub fn inject_air(&mut self, microlitres: f64) -> bool {
        if !microlitres.is_finite() || microlitres <= 0.0 || self.bubbles.len() >= MAX_BUBBLES {
            return false;
        }
        self.bubbles.push_back(microlitres / 1000.0);
        true
    }

    pub fn demand_button(&self) -> DemandButton {
        self.demand
    }

    /// Presses the demand button for `milliseconds` of simulated time from
    /// now; a press already under way (timed or held) becomes this one.
    pub fn press_demand(&mut self, milliseconds: u32) {
        self.demand = DemandButton::PressedUntil {
            until_s: self.time_s + f64::from(milliseconds) / 1000.0,
        };
    }

    /// Presses the demand button and keeps it pressed (a stuck button).
    pub fn hold_demand(&mut self) {
        self.demand = DemandButton::Held;
    }

    pub fn release_demand(&mut self) {
        self.demand = DemandButton::Released;
    }

    /// Removes air waiting in front of the sensor (the nurse primed it out).
    pub fn clear_air(&mut self) {
        self.bubbles.clear();
    }

    /// Loads a fresh syringe, or hangs a bag, holding `millilitres`.
    pub fn set_reservoir(&mut self, millilitres: f64) {
        let millilitres = millilitres.max(0.0);
        match self.mechanism {
            Mechanism::Syringe { syringe, .. } => {
                self.reservoir_ml = millilitres.min(syringe.capacity_ml);
                self.plunger_mm =
                    (syringe.capacity_ml - self.reservoir_ml) * 1000.0 / syringe.area_mm2();
                self.slack_mm = 0.0;
            }
            Mechanism::Peristaltic { .. } => self.reservoir_ml = millilitres,
        }
    }

    /// An empty bag lets the volumetric pump draw air into the line; an
    /// empty syringe only bottoms out its plunger (no air enters).
    fn pumps_air(&self) -> bool {
        match self.mechanism {
            Mechanism::Syringe { .. } => false,
            Mechanism::Peristaltic { .. } => self.reservoir_ml <= 0.0,
        }
    }

    /// Can the rotor turn forward from here? (End of syringe or a stall block it.)
    pub fn motor_blocked(&self) -> bool {
        if self.faults.motor_stall {
            return true;
        }
        match self.mechanism {
            Mechanism::Syringe { syringe, .. } => self.plunger_mm >= self.travel_limit_mm(syringe),
            Mechanism::Peristaltic { .. } => false,
        }
    }

    fn travel_limit_mm(&self, syringe: Syringe) -> f64 {
        // The plunger stops at the end of the barrel.
        syringe.stroke_mm()
    }

    /// Encoder reading for the rotor as it really turned, for `counts_per_turn`.
    pub fn encoder_counts(&self, counts_per_turn: u32) -> i64 {
        let turns_times_counts = i128::from(self.rotor) * i128::from(counts_per_turn);
        let counts = turns_times_counts / i128::from(self.mechanism.native_per_turn().max(1));
        i64::try_from(counts).unwrap_or(0)
    }

    pub fn rotor(&self) -> i64 {
        self.rotor
    }

    /// Advances the world by `dt_s` seconds, the rotor having turned to `rotor`
    /// (microsteps, forward positive) during that time.
    pub fn advance(&mut self, dt_s: f64, rotor: i64) {
        let dt_s = dt_s.max(0.0);
        let moved = rotor - self.rotor;
        self.rotor = rotor;
        let displaced = if self.faults.door_open || self.faults.container_removed {
            0.0
        } else {
            self.displaced_ml(moved)
        };
        let pumped = self.draw_from_reservoir(displaced, dt_s);
        self.push_downstream(pumped);
        self.drain_downstream(dt_s);
        self.time_s += dt_s;
        if let DemandButton::PressedUntil { until_s } = self.demand {
            if self.time_s >= until_s {
                self.demand = DemandButton::Released;
            }
        }
    }

    /// Volume the mechanism displaced for `moved` microsteps.
    fn displaced_ml(&mut self, moved: i64) -> f64 {
        if moved == 0 {
            return 0.0;
        }
        let direction: i8 = if moved > 0 { 1 } else { -1 };
        let steps = moved.unsigned_abs() as f64;
        match self.mechanism {
            Mechanism::Syringe {
                syringe,
                pitch_mm,
                backlash_mm,
                ..
            } => {
                if direction != self.last_direction {
                    self.slack_mm = 0.0;
                    self.last_direction = direction;
                }
                let mut travel = steps * pitch_mm / self.mechanism.native_per_turn() as f64;
                let take_up = (backlash_mm - self.slack_mm).min(travel).max(0.0);
                self.slack_mm += take_up;
                travel -= take_up;
                let signed = travel * f64::from(direction);
                let limit = self.travel_limit_mm(syringe);
                let new_position = (self.plunger_mm + signed).clamp(0.0, limit.max(0.0));
                let actual = new_position - self.plunger_mm;
                self.plunger_mm = new_position;
                actual * syringe.area_mm2() / 1000.0
            }
            Mechanism::Peristaltic {
                ml_per_turn,
                back_pressure_loss_per_mmhg,
                ripple,
                ..
            } => {
                let per_turn = self.mechanism.native_per_turn() as f64;
                let phase = |position: i64| {
                    let angle = position as f64 / per_turn * std::f64::consts::TAU;
                    // Integral of (1 + ripple * sin(4 angle)) over the angle: the
                    // ripple cancels over each quarter turn.
                    angle - ripple * (4.0 * angle).cos() / 4.0
                };
                let swept = (phase(self.rotor) - phase(self.rotor - moved)) / std::f64::consts::TAU
                    * ml_per_turn;
                let pressure = self.downstream_pressure_mmhg().max(0.0);
                let back_pressure = (1.0 - back_pressure_loss_per_mmhg * pressure).max(0.0);
                let fill = self.fill_fraction();
                if swept < 0.0 {
                    // Running the fingers backwards draws fluid back from the line.
                    swept
                } else {
                    swept * back_pressure * fill
                }
            }
        }
    }

    /// A peristaltic segment refills less when the upstream pressure falls.
    fn fill_fraction(&self) -> f64 {
        (1.0 + self.upstream_pressure_mmhg.min(0.0) / 150.0).clamp(0.0, 1.0)
    }

    /// Takes `displaced` mL from the reservoir side; returns the fluid pumped on
    /// (air bubbles and an empty container replace fluid with air).
    fn draw_from_reservoir(&mut self, displaced: f64, dt_s: f64) -> f64 {
        if let Mechanism::Peristaltic { .. } = self.mechanism {
            let line = self.line;
            let head = if self.reservoir_ml > 0.0 {
                line.container_head_mmhg
            } else {
                0.0
            };
            let resistance = line.upstream_resistance * self.faults.upstream.resistance_factor();
            let refill = ((head - self.upstream_pressure_mmhg) / resistance * dt_s).max(0.0);
            self.upstream_pressure_mmhg +=
                (refill - displaced) / line.upstream_compliance_ml_per_mmhg;
            self.upstream_pressure_mmhg = self.upstream_pressure_mmhg.max(-600.0);
        }
        if displaced <= 0.0 {
            // A syringe pulled back draws fluid back from the line.
            return displaced;
        }
        let mut remaining = displaced;
        let mut fluid = 0.0;
        while remaining > 0.0 {
            if let Some(bubble) = self.bubbles.front_mut() {
                let air = bubble.min(remaining);
                *bubble -= air;
                remaining -= air;
                self.air_delivered_ml += air;
                if *bubble <= 1e-12 {
                    self.bubbles.pop_front();
                }
                continue;
            }
            let from_reservoir = self.reservoir_ml.min(remaining);
            self.reservoir_ml -= from_reservoir;
            fluid += from_reservoir;
            remaining -= from_reservoir;
            if remaining > 0.0 {
                // Container empty: the mechanism pumps air.
                self.air_delivered_ml += remaining;
                remaining = 0.0;
            }
        }
        fluid
    }

    fn push_downstream(&mut self, fluid_ml: f64) {
        self.stored_ml += fluid_ml;
        if self.stored_ml < 0.0 {
            // Fluid drawn back out of the line (syringe reversal) comes from
            // the patient side once the stored volume is gone.
            self.delivered_ml += self.stored_ml;
            self.stored_ml = 0.0;
        }
    }

    fn drain_downstream(&mut self, dt_s: f64) {
        let line = self.line;
        let resistance = line.patient_resistance * self.faults.downstream.resistance_factor();
        // Exact solution of dV/dt = -V / (R C) over dt: stable for any dt.
        let time_constant = resistance * line.downstream_compliance_ml_per_mmhg;
        let kept = (-dt_s / time_constant).exp();
        let outflow = self.stored_ml * (1.0 - kept);
        self.stored_ml -= outflow;
        self.delivered_ml += outflow;
    }

    /// Pressure in the line just after the pump, mmHg.
    pub fn downstream_pressure_mmhg(&self) -> f64 {
        self.line.venous_pressure_mmhg
            + self.stored_ml / self.line.downstream_compliance_ml_per_mmhg
    }

    pub fn truth(&self) -> Truth {
        let plunger_mm = match self.mechanism {
            Mechanism::Syringe { .. } => self.plunger_mm,
            Mechanism::Peristaltic { .. } => 0.0,
        };
        Truth {
            time_s: self.time_s,
            delivered_ml: self.delivered_ml,
            air_delivered_ml: self.air_delivered_ml,
            downstream_pressure_mmhg: self.downstream_pressure_mmhg(),
            upstream_pressure_mmhg: self.upstream_pressure_mmhg,
            air_at_sensor: !self.bubbles.is_empty() || self.pumps_air(),
            door_open: self.faults.door_open,
            container_present: !self.faults.container_removed,
            demand_pressed: match self.demand {
                DemandButton::Released => false,
                DemandButton::PressedUntil { .. } | DemandButton::Held => true,
            },
            reservoir_ml: self.reservoir_ml,
            plunger_mm,
            motor_blocked: self.motor_blocked(),
        }
    }
}

#[cfg(test)]
mod tests;
