//! Units of the control thread: whole nanolitres, nanolitres per hour and
//! microsteps. The therapy core's exact decimals (0.01 mL/h and 0.01 mL
//! resolution) convert into these without loss, before a program reaches the
//! control thread; inside it, all arithmetic is integer and checked or
//! saturating.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::therapy::{Millilitres, MillilitresPerHour};

/// Nanolitres in a millilitre.
const NL_PER_ML: i64 = 1_000_000;

/// A volume in nanolitres (stored as the bare number).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Nanolitres(pub u64);

/// A flow rate in nanolitres per hour (0.01 mL/h is 10 000 nL/h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NanolitresPerHour(pub u64);

/// A count of microsteps at the platform's microstep setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microsteps(pub u64);

/// A value that does not fit the control units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not a whole number of nanolitres within range")]
pub struct UnitError {
    pub what: &'static str,
}

fn nanolitres_of(value: Decimal, what: &'static str) -> Result<u64, UnitError> {
    let scaled = value
        .checked_mul(Decimal::from(NL_PER_ML))
        .ok_or(UnitError { what })?;
    if scaled.fract() != Decimal::ZERO || scaled < Decimal::ZERO {
        return Err(UnitError { what });
    }
    scaled.to_u64().ok_or(UnitError { what })
}

impl Nanolitres {
    pub fn from_millilitres(volume: Millilitres) -> Result<Self, UnitError> {
        nanolitres_of(volume.value(), "a volume").map(Self)
    }

    pub fn saturating_sub(self, other: Nanolitres) -> Nanolitres {
        Nanolitres(self.0.saturating_sub(other.0))
    }

    pub fn saturating_add(self, other: Nanolitres) -> Nanolitres {
        Nanolitres(self.0.saturating_add(other.0))
    }

    /// As millilitres, for display and the log (exact).
    pub fn millilitres(self) -> Millilitres {
        Millilitres::new(Decimal::from(self.0) / Decimal::from(NL_PER_ML))
    }
}

impl NanolitresPerHour {
    pub fn from_rate(rate: MillilitresPerHour) -> Result<Self, UnitError> {
        nanolitres_of(rate.value(), "a rate").map(Self)
    }

    /// As mL/h, for display and the log (exact).
    pub fn millilitres_per_hour(self) -> MillilitresPerHour {
        MillilitresPerHour::new(Decimal::from(self.0) / Decimal::from(NL_PER_ML))
    }

    /// Volume delivered in `microseconds` at this rate, rounded down.
    pub fn volume_in(self, microseconds: u64) -> Nanolitres {
        let product = u128::from(self.0) * u128::from(microseconds);
        Nanolitres(u64::try_from(product / 3_600_000_000).unwrap_or(u64::MAX))
    }

    /// Microseconds to deliver `volume` at this rate (None at rate 0).
    pub fn time_for(self, volume: Nanolitres) -> Option<u64> {
        if self.0 == 0 {
            return None;
        }
        let product = u128::from(volume.0) * 3_600_000_000;
        Some(u64::try_from(product / u128::from(self.0)).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn therapy_values_convert_exactly() {
        assert_eq!(
            NanolitresPerHour::from_rate(MillilitresPerHour::new(dec!(0.01))),
            Ok(NanolitresPerHour(10_000))
        );
        assert_eq!(
            NanolitresPerHour::from_rate(MillilitresPerHour::new(dec!(999))),
            Ok(NanolitresPerHour(999_000_000))
        );
        assert_eq!(
            Nanolitres::from_millilitres(Millilitres::new(dec!(12.34))),
            Ok(Nanolitres(12_340_000))
        );
        assert!(Nanolitres::from_millilitres(Millilitres::new(dec!(0.0000001))).is_err());
        assert!(Nanolitres::from_millilitres(Millilitres::new(dec!(-1))).is_err());
        assert_eq!(
            Nanolitres(12_340_000).millilitres(),
            Millilitres::new(dec!(12.34))
        );
    }

    #[test]
    fn volume_and_time_at_a_rate() {
        let rate = NanolitresPerHour(25_000_000);
        assert_eq!(rate.volume_in(3_600_000_000), Nanolitres(25_000_000));
        assert_eq!(rate.time_for(Nanolitres(25_000_000)), Some(3_600_000_000));
        assert_eq!(NanolitresPerHour(0).time_for(Nanolitres(1)), None);
    }
}
