//! The drug library file format (TOML, read with serde) and its meaning.
//!
//! A pharmacist writes this file; `validate.rs` checks that it makes sense
//! before anything can use it. Numbers may be written as TOML integers,
//! decimals or quoted strings; they are read as exact decimals. Unknown keys
//! are refused, so a misspelt "sof_max" is an error rather than a missing
//! limit.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::exact::{exact_decimal, optional_exact_decimal};

use crate::therapy::{AmountUnit, DoseAmountUnit, DoseRateUnit, TherapyError};

/// The library format version this software reads.
pub const FORMAT_VERSION: u32 = 1;

/// A whole drug library file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryFile {
    pub library: Header,
    #[serde(rename = "care_area", default)]
    pub care_areas: Vec<CareArea>,
}

/// Who the library is and from when it applies.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    pub version: String,
    /// First day the library may be activated, as a TOML date (2026-11-01).
    pub effective: toml::value::Datetime,
    pub format: u32,
}

/// A care area (ICU, Medical-Surgical...) and its own entries.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CareArea {
    pub id: String,
    pub name: String,
    /// Largest rate of a basic infusion (no drug) in this care area, mL/h;
    /// the platform maximum caps it in any case.
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub basic_max_rate_ml_h: Option<Decimal>,
    /// The rate that keeps the vein open (KVO) when a program's volume is
    /// done, mL/h; never above the rate the program ran at. None: this care
    /// area offers no KVO, and every program stops at its end.
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub kvo_rate_ml_h: Option<Decimal>,
    #[serde(rename = "entry", default)]
    pub entries: Vec<Entry>,
}

/// How an entry is dosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DosingUnit {
    /// A fluid programmed in mL/h (no concentration).
    Flow,
    /// A continuous dose rate such as mcg/kg/min.
    Rate(DoseRateUnit),
    /// An intermittent dose amount such as mg, given over a time.
    Amount(DoseAmountUnit),
}

impl FromStr for DosingUnit {
    type Err = TherapyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "mL/h" {
            return Ok(DosingUnit::Flow);
        }
        let is_rate = text.ends_with("/min") || text.ends_with("/h");
        if is_rate {
            text.parse().map(DosingUnit::Rate)
        } else {
            text.parse().map(DosingUnit::Amount)
        }
    }
}

impl TryFrom<String> for DosingUnit {
    type Error = TherapyError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<DosingUnit> for String {
    fn from(unit: DosingUnit) -> String {
        unit.to_string()
    }
}

impl fmt::Display for DosingUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DosingUnit::Flow => f.write_str("mL/h"),
            DosingUnit::Rate(unit) => unit.fmt(f),
            DosingUnit::Amount(unit) => unit.fmt(f),
        }
    }
}

/// A dose-amount unit written in the file ("units/kg").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AmountUnitText(pub DoseAmountUnit);

impl TryFrom<String> for AmountUnitText {
    type Error = TherapyError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse().map(AmountUnitText)
    }
}

impl From<AmountUnitText> for String {
    fn from(unit: AmountUnitText) -> String {
        unit.0.to_string()
    }
}

/// Soft and hard limits, in the unit of whatever they limit.
///
/// Beyond a soft limit the nurse must confirm an override; beyond a hard limit
/// the program cannot be started. Every entry has a hard maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub hard_min: Option<Decimal>,
    pub soft_min: Option<Decimal>,
    pub soft_max: Option<Decimal>,
    pub hard_max: Decimal,
}

/// A dose as the library states it: its unit, the usual value, its limits,
/// and for doses given over a time (intermittent, bolus, loading) the
/// shortest time allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec<U> {
    pub unit: U,
    #[serde(deserialize_with = "exact_decimal")]
    pub default: Decimal,
    /// Shortest time the dose may be given over, minutes.
    #[serde(default)]
    pub min_duration_min: Option<u32>,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub hard_min: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub soft_min: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub soft_max: Option<Decimal>,
    #[serde(deserialize_with = "exact_decimal")]
    pub hard_max: Decimal,
}

impl<U> Spec<U> {
    pub fn limits(&self) -> Limits {
        Limits {
            hard_min: self.hard_min,
            soft_min: self.soft_min,
            soft_max: self.soft_max,
            hard_max: self.hard_max,
        }
    }
}

/// The main dose of an entry.
pub type DoseSpec = Spec<DosingUnit>;

/// A bolus or loading dose.
pub type AmountSpec = Spec<AmountUnitText>;

/// A standard concentration as on the bag or syringe label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConcentrationSpec {
    #[serde(deserialize_with = "exact_decimal")]
    pub amount: Decimal,
    pub unit: AmountUnit,
    #[serde(deserialize_with = "exact_decimal")]
    pub volume_ml: Decimal,
}

/// Bounds of a custom concentration, as amount per mL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomConcentrationSpec {
    pub unit: AmountUnit,
    #[serde(deserialize_with = "exact_decimal")]
    pub min_per_ml: Decimal,
    #[serde(deserialize_with = "exact_decimal")]
    pub max_per_ml: Decimal,
}

/// One drug (or fluid) as the nurse picks it from the list.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub generic_name: String,
    /// As shown on screen, with tall-man lettering where ISMP lists it (DOPamine).
    pub display_name: String,
    pub dose: DoseSpec,
    #[serde(default)]
    pub concentrations: Vec<ConcentrationSpec>,
    #[serde(default)]
    pub custom_concentration: Option<CustomConcentrationSpec>,
    #[serde(deserialize_with = "exact_decimal")]
    pub max_vtbi_ml: Decimal,
    #[serde(default)]
    pub bolus: Option<AmountSpec>,
    #[serde(default)]
    pub loading: Option<AmountSpec>,
    #[serde(default)]
    pub advisory: Option<String>,
    /// Whether the nurse may keep the vein open at the end of the volume.
    #[serde(default)]
    pub kvo: KvoRule,
    /// The entry may run as patient-controlled analgesia, within these
    /// limits (its dose limits the basal rate).
    #[serde(default)]
    pub pca: Option<PcaSpec>,
}

/// The PCA limits of an entry: the demand dose, the lockout after each
/// demand given, and the most over the window (basal and demands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PcaSpec {
    pub demand: PcaAmountSpec,
    pub lockout_min: LockoutSpec,
    pub limit: PcaAmountSpec,
    /// The limit's window, hours: 1 or 4.
    pub window_h: u32,
}

/// A PCA amount (demand dose or limit): its unit, usual value and limits;
/// no duration (a demand runs at the pump's highest rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PcaAmountSpec {
    pub unit: AmountUnitText,
    #[serde(deserialize_with = "exact_decimal")]
    pub default: Decimal,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub hard_min: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub soft_min: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_exact_decimal")]
    pub soft_max: Option<Decimal>,
    #[serde(deserialize_with = "exact_decimal")]
    pub hard_max: Decimal,
}

impl PcaAmountSpec {
    pub fn limits(&self) -> Limits {
        Limits {
            hard_min: self.hard_min,
            soft_min: self.soft_min,
            soft_max: self.soft_max,
            hard_max: self.hard_max,
        }
    }
}

/// The lockout interval, whole minutes: a shorter lockout gives more drug,
/// so its hard minimum is the limit that matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutSpec {
    pub default: u32,
    pub hard_min: u32,
    #[serde(default)]
    pub soft_min: Option<u32>,
    pub hard_max: u32,
}

impl LockoutSpec {
    pub fn limits(&self) -> Limits {
        Limits {
            hard_min: Some(Decimal::from(self.hard_min)),
            soft_min: self.soft_min.map(Decimal::from),
            soft_max: None,
            hard_max: Decimal::from(self.hard_max),
        }
    }
}

/// What an entry allows at the end of its volume: keep the vein open (at
/// the care area's KVO rate) or stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KvoRule {
    /// The nurse may choose KVO on the review; the program stops unless she does.
    #[default]
    Offered,
    /// KVO is chosen unless the nurse chooses to stop.
    Default,
    /// Never KVO (a drug whose KVO flow would still dose the patient): the
    /// program stops at its end.
    Never,
}

impl KvoRule {
    /// The file's word for the rule.
    pub fn name(self) -> &'static str {
        match self {
            KvoRule::Offered => "offered",
            KvoRule::Default => "default",
            KvoRule::Never => "never",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[derive(Deserialize)]
    struct Numbers {
        #[serde(deserialize_with = "exact_decimal")]
        float: Decimal,
        #[serde(deserialize_with = "exact_decimal")]
        integer: Decimal,
        #[serde(deserialize_with = "exact_decimal")]
        text: Decimal,
    }

    #[test]
    fn toml_numbers_are_read_exactly() {
        let numbers: Numbers =
            toml::from_str("float = 0.1\ninteger = 25000\ntext = \"0.03\"").unwrap();
        assert_eq!(numbers.float, dec!(0.1));
        assert_eq!(numbers.integer, dec!(25000));
        assert_eq!(numbers.text, dec!(0.03));
    }

    #[test]
    fn dosing_units_parse() {
        assert_eq!("mL/h".parse::<DosingUnit>().unwrap(), DosingUnit::Flow);
        assert!(matches!(
            "mcg/kg/min".parse::<DosingUnit>().unwrap(),
            DosingUnit::Rate(_)
        ));
        assert!(matches!(
            "mg".parse::<DosingUnit>().unwrap(),
            DosingUnit::Amount(_)
        ));
        assert!("mL/min".parse::<DosingUnit>().is_err());
    }
}
