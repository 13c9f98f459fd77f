//! Calibrated analog sensors on the ADC: line pressure (upstream and
//! downstream) and plunger position.
//!
//! Each unit is calibrated at two points (zero and span) when it is built;
//! readings convert linearly in integer arithmetic. Counts near either rail
//! mean a broken sensor (open circuit or short), never a pressure, and are
//! reported as such.

use crate::mcp3008::AdcCounts;

/// Pressure in pascals (1 mmHg = 133.322 Pa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pascals(pub i32);

impl Pascals {
    /// The pressure in tenths of a millimetre of mercury, rounded toward zero.
    pub fn tenths_of_mmhg(self) -> i32 {
        let tenths = i64::from(self.0) * 10_000 / 133_322;
        i32::try_from(tenths).unwrap_or(if self.0 < 0 { i32::MIN } else { i32::MAX })
    }

    /// The pressure in whole kilopascals, rounded toward zero.
    pub const fn kilopascals(self) -> i32 {
        self.0 / 1000
    }
}

/// A length in micrometres (plunger travel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Micrometres(pub i32);

/// A reading that can only come from a broken sensor or wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorFault {
    pub counts: u16,
    pub allowed_min: u16,
    pub allowed_max: u16,
}

impl core::fmt::Display for SensorFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "sensor reads {} counts, outside {} to {}: open circuit or short",
            self.counts, self.allowed_min, self.allowed_max
        )
    }
}

/// A two-point calibration from counts to a value in the sensor's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    zero_counts: u16,
    span_counts: u16,
    span_value: i32,
    fault_below: u16,
    fault_above: u16,
}

impl Calibration {
    /// `zero_counts` read at value 0 and `span_counts` at `span_value`;
    /// counts outside `fault_below..=fault_above` are faults.
    pub fn new(
        zero_counts: u16,
        span_counts: u16,
        span_value: i32,
        fault_below: u16,
        fault_above: u16,
    ) -> Result<Self, &'static str> {
        if zero_counts == span_counts {
            return Err("calibration zero and span counts must differ");
        }
        if fault_below >= fault_above || fault_above > AdcCounts::MAX {
            return Err("the valid count range must be non-empty and within 0 to 1023");
        }
        Ok(Self {
            zero_counts,
            span_counts,
            span_value,
            fault_below,
            fault_above,
        })
    }

    /// Converts counts, refusing readings only a broken sensor gives.
    pub fn apply(&self, counts: AdcCounts) -> Result<i32, SensorFault> {
        let raw = counts.get();
        if raw < self.fault_below || raw > self.fault_above {
            return Err(SensorFault {
                counts: raw,
                allowed_min: self.fault_below,
                allowed_max: self.fault_above,
            });
        }
        let offset = i64::from(raw) - i64::from(self.zero_counts);
        let span = i64::from(self.span_counts) - i64::from(self.zero_counts);
        let value = offset * i64::from(self.span_value) / span;
        Ok(i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX }))
    }
}

/// A pressure transducer on one ADC channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PressureSensor(pub Calibration);

impl PressureSensor {
    pub fn pressure(&self, counts: AdcCounts) -> Result<Pascals, SensorFault> {
        self.0.apply(counts).map(Pascals)
    }
}

/// The plunger-position potentiometer of a syringe mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionSensor(pub Calibration);

impl PositionSensor {
    pub fn position(&self, counts: AdcCounts) -> Result<Micrometres, SensorFault> {
        self.0.apply(counts).map(Micrometres)
    }
}
