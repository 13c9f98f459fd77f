//! The written-down rules: allowed ranges and rounding.
//!
//! Ranges here are what the therapy core accepts at all; a platform narrows
//! the rate range to what its mechanism delivers, and a drug library narrows
//! doses further.
//!
//! Rounding rules:
//! - A rate **typed** by the nurse must already be on the resolution grid
//!   below; a finer value is refused, never silently rounded.
//! - A rate **derived** (from a dose, or a volume over a time) is rounded to
//!   the nearest step of the grid, halves away from zero:
//!   below 10 mL/h in steps of 0.01, below 100 mL/h in steps of 0.1, from
//!   100 mL/h in whole mL/h. The bracket is chosen from the unrounded value.
//! - Derived volumes are rounded to the nearest 0.01 mL, halves away from zero.
//! - Derived durations are rounded to the nearest second.
//! - Body surface area (Mosteller) is rounded to the nearest 0.01 m².
//! - Doses derived back from a rate are not rounded: limit checks see the dose
//!   the rounded rate will really deliver.

use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;

use super::error::Quantity;
use super::TherapyError;

/// An inclusive range of a quantity, with the unit used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub quantity: Quantity,
    pub min: Decimal,
    pub max: Decimal,
    pub unit: &'static str,
}

impl Range {
    /// Returns `value` if it lies within the range, or an error naming the range.
    pub fn check(&self, value: Decimal) -> Result<Decimal, TherapyError> {
        if value < self.min || value > self.max {
            return Err(TherapyError::OutOfRange {
                quantity: self.quantity,
                value,
                min: self.min,
                max: self.max,
                unit: self.unit.to_owned(),
            });
        }
        Ok(value)
    }

    /// The same range for another quantity (for example a KVO rate within the
    /// rate range).
    pub const fn named(self, quantity: Quantity) -> Range {
        Range { quantity, ..self }
    }
}

/// Rates any Perfuse platform may support, mL/h: 0.1 to 999 (DESIGN.md).
/// A platform's mechanism profile narrows this.
pub const RATE: Range = Range {
    quantity: Quantity::Rate,
    min: dec!(0.1),
    max: dec!(999),
    unit: "mL/h",
};

/// Volume to be infused, mL: 0.1 mL (a small syringe dose) to 9999 mL.
pub const VOLUME_TO_BE_INFUSED: Range = Range {
    quantity: Quantity::VolumeToBeInfused,
    min: dec!(0.1),
    max: dec!(9999),
    unit: "mL",
};

/// Keep-vein-open rate, mL/h: 0.1 to 20 (common pump practice).
pub const KEEP_VEIN_OPEN: Range = Range {
    quantity: Quantity::KeepVeinOpenRate,
    min: dec!(0.1),
    max: dec!(20),
    unit: "mL/h",
};

/// Patient weight, kg: 0.3 (an extremely premature neonate) to 350.
pub const WEIGHT: Range = Range {
    quantity: Quantity::Weight,
    min: dec!(0.3),
    max: dec!(350),
    unit: "kg",
};

/// Patient height, cm: 20 (a premature neonate) to 250.
pub const HEIGHT: Range = Range {
    quantity: Quantity::Height,
    min: dec!(20),
    max: dec!(250),
    unit: "cm",
};

/// Infusion or phase duration, seconds: 1 minute to 99 hours.
pub const DURATION_SECONDS: Range = Range {
    quantity: Quantity::Duration,
    min: dec!(60),
    max: dec!(356400),
    unit: "s",
};

/// Volume of a bag or syringe a concentration is stated for, mL.
pub const CONCENTRATION_VOLUME: Range = Range {
    quantity: Quantity::ConcentrationVolume,
    min: dec!(0.1),
    max: dec!(5000),
    unit: "mL",
};

/// Step of the rate grid for a rate of this size (see the module rules).
pub fn rate_resolution(rate: Decimal) -> Decimal {
    if rate < dec!(10) {
        dec!(0.01)
    } else if rate < dec!(100) {
        dec!(0.1)
    } else {
        Decimal::ONE
    }
}

fn decimals_of(step: Decimal) -> u32 {
    step.normalize().scale()
}

/// Rounds a derived rate onto the rate grid.
pub fn round_rate(raw: Decimal) -> Decimal {
    raw.round_dp_with_strategy(
        decimals_of(rate_resolution(raw)),
        RoundingStrategy::MidpointAwayFromZero,
    )
    .normalize()
}

/// Refuses a typed rate that is finer than the grid allows.
pub fn check_rate_on_grid(rate: Decimal, quantity: Quantity) -> Result<Decimal, TherapyError> {
    let step = rate_resolution(rate);
    if rate.normalize().scale() > decimals_of(step) {
        return Err(TherapyError::FinerThanResolution {
            quantity,
            value: rate,
            step,
            unit: "mL/h".to_owned(),
        });
    }
    Ok(rate)
}

/// Rounds a derived volume to the nearest 0.01 mL.
pub fn round_volume(raw: Decimal) -> Decimal {
    raw.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_the_written_brackets() {
        assert_eq!(rate_resolution(dec!(9.99)), dec!(0.01));
        assert_eq!(rate_resolution(dec!(10)), dec!(0.1));
        assert_eq!(rate_resolution(dec!(99.9)), dec!(0.1));
        assert_eq!(rate_resolution(dec!(100)), dec!(1));
    }

    #[test]
    fn derived_rates_round_half_away_from_zero() {
        assert_eq!(round_rate(dec!(4.005)), dec!(4.01));
        assert_eq!(round_rate(dec!(4.0049)), dec!(4));
        assert_eq!(round_rate(dec!(21.05)), dec!(21.1));
        assert_eq!(round_rate(dec!(150.5)), dec!(151));
        assert_eq!(round_rate(dec!(9.996)), dec!(10));
    }

    #[test]
    fn typed_rates_finer_than_the_grid_are_refused() {
        assert!(check_rate_on_grid(dec!(5.25), Quantity::Rate).is_ok());
        assert!(check_rate_on_grid(dec!(5.255), Quantity::Rate).is_err());
        assert!(check_rate_on_grid(dec!(12.5), Quantity::Rate).is_ok());
        let error = check_rate_on_grid(dec!(12.55), Quantity::Rate).unwrap_err();
        assert_eq!(
            error.to_string(),
            "rate 12.55 mL/h is finer than the pump sets it: use steps of 0.1 mL/h"
        );
        assert!(check_rate_on_grid(dec!(150.5), Quantity::Rate).is_err());
        assert!(check_rate_on_grid(dec!(150.0), Quantity::Rate).is_ok());
    }

    #[test]
    fn ranges_name_what_is_allowed() {
        let error = RATE.check(dec!(1200)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "rate 1200 mL/h is out of range: allowed 0.1 to 999 mL/h"
        );
    }
}
