//! Unit-typed quantities of the therapy core.
//!
//! Every value a nurse types or a drug library states is an exact decimal
//! (`rust_decimal`) wrapped in a type that names its unit, so mL/h can never be
//! passed where mcg/kg/min is meant. Arithmetic here is checked: an overflow is
//! an error, never a wrap-around or a panic. Nothing in this file rounds; the
//! rounding rules live in `rounding.rs`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::TherapyError;

/// Multiplies two decimals, reporting overflow as a typed error.
pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, TherapyError> {
    a.checked_mul(b).ok_or(TherapyError::Overflow)
}

/// Divides two decimals, reporting overflow or a zero divisor as a typed error.
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, TherapyError> {
    a.checked_div(b).ok_or(TherapyError::Overflow)
}

/// Formats a decimal the way the pump shows numbers: a leading zero always
/// ("0.5", never ".5") and no trailing zeros ("5", never "5.0").
pub fn display_decimal(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Formats a derived value (a dose computed back from a rounded rate) to four
/// significant digits, in the same style as `display_decimal`. Limits are
/// judged on the exact value; this is only how it is shown.
pub fn display_significant(value: Decimal) -> String {
    let rounded = value
        .round_sf_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .unwrap_or(value);
    display_decimal(rounded)
}

macro_rules! decimal_quantity {
    ($(#[$doc:meta])* $name:ident, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Decimal);

        impl $name {
            /// The unit this quantity is expressed in, as shown beside every number.
            pub const UNIT: &'static str = $unit;

            /// Wraps an exact decimal value expressed in this unit.
            pub const fn new(value: Decimal) -> Self {
                Self(value)
            }

            /// The value in this unit.
            pub const fn value(self) -> Decimal {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", display_decimal(self.0), $unit)
            }
        }

        impl FromStr for $name {
            type Err = TherapyError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                super::entry::parse_decimal(text).map(Self)
            }
        }
    };
}

decimal_quantity!(
    /// A volume in millilitres.
    Millilitres,
    "mL"
);
decimal_quantity!(
    /// A flow rate in millilitres per hour.
    MillilitresPerHour,
    "mL/h"
);
decimal_quantity!(
    /// Patient body weight in kilograms.
    Kilograms,
    "kg"
);
decimal_quantity!(
    /// Patient height in centimetres.
    Centimetres,
    "cm"
);
decimal_quantity!(
    /// Body surface area in square metres.
    SquareMetres,
    "m²"
);

/// How long an infusion or a phase of it lasts, in whole seconds.
///
/// Nurses enter hours and minutes; derived durations are rounded to the
/// nearest second, which is far below anything a pump displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InfusionDuration(u32);

impl InfusionDuration {
    /// A duration of whole seconds.
    pub const fn from_seconds(seconds: u32) -> Self {
        Self(seconds)
    }

    /// A duration of whole minutes; saturates rather than overflowing.
    pub const fn from_minutes(minutes: u32) -> Self {
        Self(minutes.saturating_mul(60))
    }

    /// A duration entered as hours and minutes; saturates rather than overflowing.
    pub const fn from_hours_minutes(hours: u32, minutes: u32) -> Self {
        Self(
            hours
                .saturating_mul(3600)
                .saturating_add(minutes.saturating_mul(60)),
        )
    }

    /// Whole seconds.
    pub const fn seconds(self) -> u32 {
        self.0
    }

    /// The duration in hours, exactly.
    pub fn hours(self) -> Decimal {
        Decimal::from(self.0) / Decimal::from(3600)
    }
}

impl fmt::Display for InfusionDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hours = self.0 / 3600;
        let minutes = (self.0 % 3600) / 60;
        let seconds = self.0 % 60;
        if seconds == 0 {
            write!(f, "{hours} h {minutes:02} min")
        } else {
            write!(f, "{hours} h {minutes:02} min {seconds:02} s")
        }
    }
}

/// What a dose amount is counted in.
///
/// Units within one family convert exactly; across families (mass, units,
/// millimoles, milliequivalents) there is no conversion without knowing the
/// drug, so it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AmountUnit {
    #[serde(rename = "g")]
    Gram,
    #[serde(rename = "mg")]
    Milligram,
    #[serde(rename = "mcg")]
    Microgram,
    #[serde(rename = "ng")]
    Nanogram,
    #[serde(rename = "units")]
    Unit,
    #[serde(rename = "milli-units")]
    MilliUnit,
    #[serde(rename = "mEq")]
    Milliequivalent,
    #[serde(rename = "mmol")]
    Millimole,
}

/// Families of amount units that convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmountFamily {
    Mass,
    Units,
    Milliequivalents,
    Millimoles,
}

impl AmountUnit {
    /// Every amount unit, for pickers and exhaustive tests.
    pub const ALL: [AmountUnit; 8] = [
        AmountUnit::Gram,
        AmountUnit::Milligram,
        AmountUnit::Microgram,
        AmountUnit::Nanogram,
        AmountUnit::Unit,
        AmountUnit::MilliUnit,
        AmountUnit::Milliequivalent,
        AmountUnit::Millimole,
    ];

    /// The symbol shown on screen. "mcg" rather than "µg": ISMP lists "µg" as
    /// an error-prone abbreviation (read as "mg").
    pub const fn symbol(self) -> &'static str {
        match self {
            AmountUnit::Gram => "g",
            AmountUnit::Milligram => "mg",
            AmountUnit::Microgram => "mcg",
            AmountUnit::Nanogram => "ng",
            AmountUnit::Unit => "units",
            AmountUnit::MilliUnit => "milli-units",
            AmountUnit::Milliequivalent => "mEq",
            AmountUnit::Millimole => "mmol",
        }
    }

    /// The family this unit converts within.
    pub const fn family(self) -> AmountFamily {
        match self {
            AmountUnit::Gram
            | AmountUnit::Milligram
            | AmountUnit::Microgram
            | AmountUnit::Nanogram => AmountFamily::Mass,
            AmountUnit::Unit | AmountUnit::MilliUnit => AmountFamily::Units,
            AmountUnit::Milliequivalent => AmountFamily::Milliequivalents,
            AmountUnit::Millimole => AmountFamily::Millimoles,
        }
    }

    /// How many of the family's smallest unit one of this unit holds
    /// (nanograms for mass, milli-units for units).
    const fn base_count(self) -> i64 {
        match self {
            AmountUnit::Gram => 1_000_000_000,
            AmountUnit::Milligram => 1_000_000,
            AmountUnit::Microgram => 1_000,
            AmountUnit::Nanogram => 1,
            AmountUnit::Unit => 1_000,
            AmountUnit::MilliUnit => 1,
            AmountUnit::Milliequivalent => 1,
            AmountUnit::Millimole => 1,
        }
    }

    /// Converts `value` of this unit into `target`, exactly.
    pub fn convert(self, value: Decimal, target: AmountUnit) -> Result<Decimal, TherapyError> {
        if self.family() != target.family() {
            return Err(TherapyError::IncompatibleUnits {
                from: self.symbol(),
                to: target.symbol(),
            });
        }
        let in_base = mul(value, Decimal::from(self.base_count()))?;
        div(in_base, Decimal::from(target.base_count()))
    }
}

impl fmt::Display for AmountUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// An amount of drug: a value with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    pub value: Decimal,
    pub unit: AmountUnit,
}

impl Amount {
    pub const fn new(value: Decimal, unit: AmountUnit) -> Self {
        Self { value, unit }
    }

    /// The same amount expressed in `unit`.
    pub fn to_unit(self, unit: AmountUnit) -> Result<Amount, TherapyError> {
        Ok(Amount {
            value: self.unit.convert(self.value, unit)?,
            unit,
        })
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", display_decimal(self.value), self.unit)
    }
}

/// What a dose is scaled by: the whole patient, body weight, or body surface area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoseBasis {
    /// Not scaled: the dose is for the patient as a whole.
    Patient,
    /// Per kilogram of body weight.
    PerKilogram,
    /// Per square metre of body surface area (Mosteller).
    PerSquareMetre,
}

impl DoseBasis {
    const fn suffix(self) -> &'static str {
        match self {
            DoseBasis::Patient => "",
            DoseBasis::PerKilogram => "/kg",
            DoseBasis::PerSquareMetre => "/m²",
        }
    }
}

/// The time base of a dose rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBase {
    PerMinute,
    PerHour,
}

impl TimeBase {
    /// How many of this time base fit in one hour.
    pub(crate) fn per_hour(self) -> Decimal {
        match self {
            TimeBase::PerMinute => Decimal::from(60),
            TimeBase::PerHour => Decimal::ONE,
        }
    }

    const fn suffix(self) -> &'static str {
        match self {
            TimeBase::PerMinute => "/min",
            TimeBase::PerHour => "/h",
        }
    }
}

/// The unit of a dose amount, such as "units/kg" or "mg".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoseAmountUnit {
    pub amount: AmountUnit,
    pub basis: DoseBasis,
}

impl fmt::Display for DoseAmountUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.basis.suffix())
    }
}

/// A dose amount such as a bolus of 80 units/kg or a loading dose of 4 g.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoseAmount {
    pub value: Decimal,
    pub unit: DoseAmountUnit,
}

impl fmt::Display for DoseAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", display_decimal(self.value), self.unit)
    }
}

/// The unit of a dose rate, such as "mcg/kg/min" or "units/h".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoseRateUnit {
    pub amount: AmountUnit,
    pub basis: DoseBasis,
    pub per: TimeBase,
}

impl DoseRateUnit {
    /// The amount part of this rate unit ("mcg/kg" for "mcg/kg/min").
    pub const fn amount_unit(self) -> DoseAmountUnit {
        DoseAmountUnit {
            amount: self.amount,
            basis: self.basis,
        }
    }
}

impl fmt::Display for DoseRateUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.amount,
            self.basis.suffix(),
            self.per.suffix()
        )
    }
}

/// A dose rate such as 0.1 mcg/kg/min.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoseRate {
    pub value: Decimal,
    pub unit: DoseRateUnit,
}

impl fmt::Display for DoseRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", display_decimal(self.value), self.unit)
    }
}

/// A drug concentration: an amount of drug in a volume of solution, as the bag
/// or syringe label states it (for example 4 mg in 250 mL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Concentration {
    pub amount: Amount,
    pub volume: Millilitres,
}

impl Concentration {
    /// The amount of drug in one millilitre, expressed in `unit`.
    pub fn per_millilitre(self, unit: AmountUnit) -> Result<Decimal, TherapyError> {
        let amount = self.amount.unit.convert(self.amount.value, unit)?;
        if self.volume.value() <= Decimal::ZERO || amount <= Decimal::ZERO {
            return Err(TherapyError::NonPositiveConcentration);
        }
        div(amount, self.volume.value())
    }
}

impl fmt::Display for Concentration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.amount, self.volume)
    }
}

impl FromStr for AmountUnit {
    type Err = TherapyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AmountUnit::ALL
            .into_iter()
            .find(|unit| unit.symbol() == text)
            .ok_or_else(|| TherapyError::UnknownUnit {
                text: text.to_owned(),
                allowed: "g, mg, mcg, ng, units, milli-units, mEq, mmol",
            })
    }
}

/// Splits "mcg/kg/min" into the amount unit and the remaining parts.
fn split_unit(text: &str) -> (&str, Vec<&str>) {
    let mut parts = text.split('/');
    let amount = parts.next().unwrap_or_default();
    (amount, parts.collect())
}

fn parse_basis(part: Option<&str>) -> Option<DoseBasis> {
    match part {
        None => Some(DoseBasis::Patient),
        Some("kg") => Some(DoseBasis::PerKilogram),
        Some("m2" | "m²") => Some(DoseBasis::PerSquareMetre),
        Some(_) => None,
    }
}

impl FromStr for DoseAmountUnit {
    type Err = TherapyError;

    /// Parses "mg", "units/kg" or "mg/m2".
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || TherapyError::UnknownUnit {
            text: text.to_owned(),
            allowed: "an amount unit, optionally per kg or per m2, such as mg, units/kg or mg/m2",
        };
        let (amount, rest) = split_unit(text);
        let amount = amount.parse::<AmountUnit>().map_err(|_| unknown())?;
        match rest.as_slice() {
            [] | [_] => {
                let basis = parse_basis(rest.first().copied()).ok_or_else(unknown)?;
                Ok(DoseAmountUnit { amount, basis })
            }
            _ => Err(unknown()),
        }
    }
}

impl FromStr for DoseRateUnit {
    type Err = TherapyError;

    /// Parses "units/h", "mcg/kg/min" or "mg/m2/h".
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || {
            TherapyError::UnknownUnit {
            text: text.to_owned(),
            allowed: "an amount unit, optionally per kg or per m2, per min or per h, such as mcg/kg/min or units/h",
        }
        };
        let (amount, rest) = split_unit(text);
        let amount = amount.parse::<AmountUnit>().map_err(|_| unknown())?;
        let (basis, time) = match rest.as_slice() {
            [time] => (None, *time),
            [basis, time] => (Some(*basis), *time),
            _ => return Err(unknown()),
        };
        let basis = parse_basis(basis).ok_or_else(unknown)?;
        let per = match time {
            "min" => TimeBase::PerMinute,
            "h" => TimeBase::PerHour,
            _ => return Err(unknown()),
        };
        Ok(DoseRateUnit { amount, basis, per })
    }
}

#[cfg(test)]
mod tests;
