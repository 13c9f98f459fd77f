//! Detectors: from one period's sensor readings to the alarm conditions
//! present now. Each keeps only fixed-size state, and none remembers that it
//! already alarmed: a condition that is there is reported every period, so
//! every detector is armed again the moment its alarm is cleared,
//! acknowledged, silenced or the pump restarts (DESIGN.md, F4).
//!
//! Pressures are in tenths of a millimetre of mercury, volumes in nL, times
//! in microseconds.

use perfuse_drivers::debounce::InputState;
use perfuse_drivers::tmc5160::DriverStatus;

use super::units::{Nanolitres, NanolitresPerHour};
use crate::alarms::Condition;

/// A set of alarm conditions (one bit each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions(u32);

impl Conditions {
    fn bit(condition: Condition) -> u32 {
        let index = Condition::ALL
            .iter()
            .position(|other| *other == condition)
            .unwrap_or(31);
        1 << index
    }

    pub fn insert(&mut self, condition: Condition) {
        self.0 |= Self::bit(condition);
    }

    pub fn contains(&self, condition: Condition) -> bool {
        self.0 & Self::bit(condition) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// Detector settings from the platform profile and the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorSettings {
    /// Downstream occlusion alarm pressure (profile level), tenths of mmHg.
    pub downstream_threshold: i32,
    /// Rise above the settled baseline that means an occlusion, tenths of mmHg.
    pub downstream_rise: i32,
    /// Time after a start, resume or rate change before the baseline is taken.
    pub settle_us: u64,
    /// How long a pressure condition must last before it counts.
    pub persist_us: u64,
    /// Upstream occlusion pressure (volumetric only), tenths of mmHg.
    pub upstream_threshold: Option<i32>,
    /// Air passing the sensor in one go that alarms, nL.
    pub single_bubble: Nanolitres,
    /// Air passing in `accumulated_window_us` that alarms, nL.
    pub accumulated_air: Nanolitres,
    pub accumulated_window_us: u64,
    /// Plunger travel at which the syringe is empty (syringe only), um.
    pub syringe_end_um: Option<i32>,
    /// Encoder counts per microstep, as a fraction (counts per turn, microsteps per turn).
    pub encoder_counts_per_turn: u64,
    pub microsteps_per_turn: u64,
}

impl DetectorSettings {
    /// Values for an adult line on the reference platforms: 300 mmHg, a
    /// 40 mmHg rise after 10 s of settling, held for 2 s; 50 uL single
    /// bubble; 1 mL of air in 15 minutes.
    pub fn reference(microsteps_per_turn: u64) -> Self {
        Self {
            downstream_threshold: 3000,
            downstream_rise: 400,
            settle_us: 10_000_000,
            persist_us: 2_000_000,
            upstream_threshold: None,
            single_bubble: Nanolitres(50_000),
            accumulated_air: Nanolitres(1_000_000),
            accumulated_window_us: 15 * 60 * 1_000_000,
            syringe_end_um: None,
            encoder_counts_per_turn: 4000,
            microsteps_per_turn,
        }
    }
}

/// What the detectors see in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readings {
    pub now_us: u64,
    /// Downstream pressure, tenths of mmHg, or None if the sensor failed.
    pub downstream: Option<i32>,
    pub upstream: Option<i32>,
    /// Plunger travel, um (syringe), or None if not fitted or failed.
    pub plunger_um: Option<i32>,
    pub air: InputState,
    pub door: InputState,
    /// The syringe (or set) present switch.
    pub container: InputState,
    /// The stepper driver's status, when read this period.
    pub driver: Option<DriverStatus>,
    /// The stepper driver did not answer as a TMC5160 when its status was
    /// read this period (a silent chip): a driver fault, not noise.
    pub driver_silent: bool,
    /// Encoder count, when read this period.
    pub encoder: Option<i64>,
    /// Microsteps commanded forward so far (net).
    pub commanded_steps: i64,
    /// Flow is being commanded this period.
    pub delivering: bool,
    pub rate: NanolitresPerHour,
    /// The delivery (re)started or its rate changed this period.
    pub restarted: bool,
    /// A sensor read failed on the bus this period.
    pub bus_error: bool,
}

/// Pressure too high, by threshold or by rise above the settled baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownstreamOcclusion {
    baseline: Option<i32>,
    settled_at_us: u64,
    candidate_since_us: Option<u64>,
}

impl DownstreamOcclusion {
    pub fn update(
        &mut self,
        pressure: Option<i32>,
        readings: &Readings,
        settings: &DetectorSettings,
    ) -> bool {
        let Some(pressure) = pressure else {
            return false;
        };
        if readings.restarted {
            self.baseline = None;
            self.settled_at_us = readings.now_us.saturating_add(settings.settle_us);
        }
        let over_threshold = pressure >= settings.downstream_threshold;
        let mut risen = false;
        if readings.delivering && readings.now_us >= self.settled_at_us {
            let baseline = self
                .baseline
                .map_or(pressure, |baseline| baseline.min(pressure));
            self.baseline = Some(baseline);
            risen = pressure.saturating_sub(baseline) >= settings.downstream_rise;
        } else if !readings.delivering {
            // Stopped, an open line drains below its running baseline.
            // Pressure held at half the alarm rise above it means the
            // occlusion is still there: the condition stays present (and its
            // alarm shown, acknowledged or not) until the line is freed or
            // relieved. The back-off relieves to within `backoff_margin`
            // (less than half the rise), so a relieved line lets it clear.
            risen = self.baseline.is_some_and(|baseline| {
                pressure.saturating_sub(baseline) >= settings.downstream_rise / 2
            });
        }
        if over_threshold || risen {
            let since = *self.candidate_since_us.get_or_insert(readings.now_us);
            readings.now_us.saturating_sub(since) >= settings.persist_us
        } else {
            self.candidate_since_us = None;
            false
        }
    }

    /// The settled baseline, tenths of mmHg (for back-off and the UI).
    pub fn baseline(&self) -> Option<i32> {
        self.baseline
    }
}

/// Upstream pressure too low (volumetric mechanism).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamOcclusion {
    candidate_since_us: Option<u64>,
}

impl UpstreamOcclusion {
    pub fn update(&mut self, readings: &Readings, settings: &DetectorSettings) -> bool {
        let (Some(threshold), Some(pressure)) = (settings.upstream_threshold, readings.upstream)
        else {
            return false;
        };
        if pressure <= threshold {
            let since = *self.candidate_since_us.get_or_insert(readings.now_us);
            readings.now_us.saturating_sub(since) >= settings.persist_us / 2
        } else {
            self.candidate_since_us = None;
            false
        }
    }
}

/// Buckets of the accumulated-air window.
const AIR_BUCKETS: usize = 15;

/// Microseconds in an hour: air volumes are integrated exactly as
/// rate x time (nL/h x us) and divided only when compared.
const US_PER_HOUR: u64 = 3_600_000_000;

/// Air: one bubble too large, or too much air over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Air {
    /// Air of the bubble in front of the sensor, nL x us/h.
    bubble: u64,
    bubble_alarmed: bool,
    /// Air passed per bucket of the window, nL x us/h.
    buckets: [u64; AIR_BUCKETS],
    bucket_index: usize,
    bucket_started_us: u64,
    last_us: Option<u64>,
}

impl Air {
    /// Forgets the air counted so far: the nurse acknowledged an air alarm
    /// after priming the line, so counting starts again from nothing (and a
    /// new bubble alarms again).
    pub fn restart(&mut self) {
        self.bubble = 0;
        self.bubble_alarmed = false;
        self.buckets = [0; AIR_BUCKETS];
    }

    /// Returns (single bubble, accumulated) presence.
    pub fn update(&mut self, readings: &Readings, settings: &DetectorSettings) -> (bool, bool) {
        let elapsed = readings.last_elapsed(&mut self.last_us);
        let bucket_length = settings.accumulated_window_us / AIR_BUCKETS as u64;
        while readings.now_us.saturating_sub(self.bucket_started_us) >= bucket_length.max(1) {
            self.bucket_index = (self.bucket_index + 1) % AIR_BUCKETS;
            if let Some(bucket) = self.buckets.get_mut(self.bucket_index) {
                *bucket = 0;
            }
            self.bucket_started_us = self.bucket_started_us.saturating_add(bucket_length.max(1));
            if self.bucket_started_us + bucket_length * AIR_BUCKETS as u64 <= readings.now_us {
                self.buckets = [0; AIR_BUCKETS];
                self.bucket_started_us = readings.now_us;
            }
        }
        let air_here = !matches!(readings.air, InputState::Inactive);
        if air_here {
            let passed = if readings.delivering {
                readings.rate.0.saturating_mul(elapsed)
            } else {
                0
            };
            self.bubble = self.bubble.saturating_add(passed);
            if let Some(bucket) = self.buckets.get_mut(self.bucket_index) {
                *bucket = bucket.saturating_add(passed);
            }
            if self.bubble >= settings.single_bubble.0.saturating_mul(US_PER_HOUR) {
                self.bubble_alarmed = true;
            }
        } else {
            self.bubble = 0;
            self.bubble_alarmed = false;
        }
        let accumulated: u64 = self
            .buckets
            .iter()
            .fold(0_u64, |sum, bucket| sum.saturating_add(*bucket));
        (
            self.bubble_alarmed,
            accumulated >= settings.accumulated_air.0.saturating_mul(US_PER_HOUR),
        )
    }
}

/// The encoder against the commanded steps, over one-second windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncoderCheck {
    window_start: Option<(u64, i64, i64)>,
    strikes: u8,
}

/// Window of the encoder comparison.
const ENCODER_WINDOW_US: u64 = 1_000_000;

impl EncoderCheck {
    pub fn update(&mut self, readings: &Readings, settings: &DetectorSettings) -> bool {
        let Some(encoder) = readings.encoder else {
            return self.strikes >= 2;
        };
        let Some((started, start_steps, start_counts)) = self.window_start else {
            self.window_start = Some((readings.now_us, readings.commanded_steps, encoder));
            return false;
        };
        if readings.now_us.saturating_sub(started) < ENCODER_WINDOW_US {
            return self.strikes >= 2;
        }
        let steps = i128::from(readings.commanded_steps - start_steps);
        let expected = steps * i128::from(settings.encoder_counts_per_turn)
            / i128::from(settings.microsteps_per_turn.max(1));
        let actual = i128::from(encoder - start_counts);
        let tolerance = (expected.abs() / 10).max(8);
        if (actual - expected).abs() > tolerance {
            self.strikes = self.strikes.saturating_add(1);
        } else {
            self.strikes = 0;
        }
        self.window_start = Some((readings.now_us, readings.commanded_steps, encoder));
        self.strikes >= 2
    }
}

impl Readings {
    /// Microseconds since the last call (0 the first time).
    fn last_elapsed(&self, last: &mut Option<u64>) -> u64 {
        let elapsed = last.map_or(0, |previous| self.now_us.saturating_sub(previous));
        *last = Some(self.now_us);
        elapsed
    }
}

/// All detectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detectors {
    pub downstream: DownstreamOcclusion,
    pub upstream: UpstreamOcclusion,
    pub air: Air,
    pub encoder: EncoderCheck,
    last_driver: Option<DriverStatus>,
}

impl Detectors {
    /// Forgets the last driver status read (the driver was set up again):
    /// the next read says what is true now.
    pub fn forget_driver_status(&mut self) {
        self.last_driver = None;
    }

    /// The conditions present this period.
    pub fn evaluate(&mut self, readings: &Readings, settings: &DetectorSettings) -> Conditions {
        let mut present = Conditions::default();
        if self
            .downstream
            .update(readings.downstream, readings, settings)
        {
            present.insert(Condition::DownstreamOcclusion);
        }
        if self.upstream.update(readings, settings) {
            present.insert(Condition::UpstreamOcclusion);
        }
        let (bubble, accumulated) = self.air.update(readings, settings);
        if bubble {
            present.insert(Condition::AirInLine);
        }
        if accumulated {
            present.insert(Condition::AccumulatedAir);
        }
        if readings.delivering && !matches!(readings.door, InputState::Active) {
            present.insert(Condition::DoorOpen);
        }
        if readings.delivering && !matches!(readings.container, InputState::Active) {
            present.insert(Condition::SyringeNotLoaded);
        }
        if let (Some(end), Some(position)) = (settings.syringe_end_um, readings.plunger_um) {
            if position >= end {
                present.insert(Condition::EndOfContainer);
            }
        }
        if readings.driver.is_some() {
            self.last_driver = readings.driver;
        }
        if let Some(status) = self.last_driver {
            if status.stall && readings.delivering {
                present.insert(Condition::MotorStall);
            }
            let shutdown = status.overtemperature
                || status.short_to_ground_a
                || status.short_to_ground_b
                || status.driver_error
                || status.undervoltage
                || status.reset
                || (!status.standstill && (status.open_load_a || status.open_load_b));
            if shutdown {
                present.insert(Condition::DriverFault);
            }
        }
        if readings.driver_silent {
            present.insert(Condition::DriverFault);
        }
        if readings.delivering && self.encoder.update(readings, settings) {
            present.insert(Condition::EncoderDisagreement);
        }
        let pressure_missing = readings.downstream.is_none()
            || (settings.upstream_threshold.is_some() && readings.upstream.is_none());
        if readings.bus_error || pressure_missing {
            present.insert(Condition::SensorFault);
        }
        present
    }
}

#[cfg(test)]
mod tests;
