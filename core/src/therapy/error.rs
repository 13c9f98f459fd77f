//! Errors of the therapy core. Each says what was wrong and what is allowed,
//! in words a nurse can act on; the UI shows them as they are (or translated
//! from their fields), never a bare "invalid input".

use rust_decimal::Decimal;

use super::quantity::display_decimal;

/// A quantity a nurse enters or the core derives, named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    Rate,
    VolumeToBeInfused,
    Duration,
    Weight,
    Height,
    BodySurfaceArea,
    DoseRate,
    DoseAmount,
    ConcentrationAmount,
    ConcentrationVolume,
    KeepVeinOpenRate,
    BolusVolume,
    Lockout,
}

impl Quantity {
    pub const fn name(self) -> &'static str {
        match self {
            Quantity::Rate => "rate",
            Quantity::VolumeToBeInfused => "volume to be infused",
            Quantity::Duration => "duration",
            Quantity::Weight => "weight",
            Quantity::Height => "height",
            Quantity::BodySurfaceArea => "body surface area",
            Quantity::DoseRate => "dose rate",
            Quantity::DoseAmount => "dose",
            Quantity::ConcentrationAmount => "concentration amount",
            Quantity::ConcentrationVolume => "concentration volume",
            Quantity::KeepVeinOpenRate => "KVO rate",
            Quantity::BolusVolume => "bolus volume",
            Quantity::Lockout => "lockout interval",
        }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Patient data a dose calculation may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatientData {
    Weight,
    WeightAndHeight,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TherapyError {
    #[error(
        "\"{text}\" is not a number: use digits and at most one decimal point, such as 0.5 or 12"
    )]
    NotANumber { text: String },
    #[error("\"{text}\" needs a leading zero: enter 0{text}")]
    MissingLeadingZero { text: String },
    #[error("\"{text}\" ends with a decimal point: finish the number or remove the point")]
    IncompleteNumber { text: String },
    #[error("\"{text}\" has too many digits: at most {max_integer_digits} before and {max_decimals} after the decimal point")]
    TooManyDigits {
        text: String,
        max_integer_digits: u32,
        max_decimals: u32,
    },
    #[error("{quantity} {} {unit} is out of range: allowed {} to {} {unit}", display_decimal(*.value), display_decimal(*.min), display_decimal(*.max))]
    OutOfRange {
        quantity: Quantity,
        value: Decimal,
        min: Decimal,
        max: Decimal,
        unit: String,
    },
    #[error("{quantity} {} {unit} is finer than the pump sets it: use steps of {} {unit}", display_decimal(*.value), display_decimal(*.step))]
    FinerThanResolution {
        quantity: Quantity,
        value: Decimal,
        step: Decimal,
        unit: String,
    },
    #[error("cannot convert {from} to {to}: they measure different things")]
    IncompatibleUnits {
        from: &'static str,
        to: &'static str,
    },
    #[error("\"{text}\" is not a unit the pump knows: use {allowed}")]
    UnknownUnit { text: String, allowed: &'static str },
    #[error("the volume to be infused, {} mL, is more than the loaded syringe holds: at most {} mL", display_decimal(*.volume), display_decimal(*.capacity))]
    AboveContainer { volume: Decimal, capacity: Decimal },
    #[error("the concentration needs a drug amount and a volume above zero")]
    NonPositiveConcentration,
    #[error("this dose is per {}: enter the patient's {}", match .needs { PatientData::Weight => "kg", PatientData::WeightAndHeight => "m²" }, match .needs { PatientData::Weight => "weight", PatientData::WeightAndHeight => "weight and height" })]
    MissingPatientData { needs: PatientData },
    #[error("dosing by amount needs a drug with a concentration; a basic infusion is programmed in mL/h or as a volume over a time")]
    NeedsDrug,
    #[error("the volume to be infused, {} mL, must be larger than the loading volume, {} mL", display_decimal(*.vtbi), display_decimal(*.loading))]
    LoadingExceedsVolume { vtbi: Decimal, loading: Decimal },
    #[error("the values are far outside anything a pump can deliver: the calculation overflowed")]
    Overflow,
    #[error("a program in stages has 1 to {max} stages, not {count}")]
    StepCount { count: usize, max: usize },
    #[error("the PCA limit, {limit}, is less than one demand dose, {demand}: no demand could ever be given; raise the limit or lower the dose")]
    PcaLimitBelowDemand {
        limit: super::quantity::DoseAmount,
        demand: super::quantity::DoseAmount,
    },
    #[error("the basal rate alone gives {} mL in {hours} h, which reaches the {hours}-hour limit of {} mL: lower the basal rate or raise the limit", display_decimal(*.basal_ml), display_decimal(*.limit_ml))]
    PcaBasalReachesLimit {
        hours: u32,
        basal_ml: Decimal,
        limit_ml: Decimal,
    },
    #[error("one demand dose, {} mL, takes longer to give than the {lockout_minutes} min lockout: lengthen the lockout or lower the dose", display_decimal(*.demand_ml))]
    PcaDemandLongerThanLockout {
        demand_ml: Decimal,
        lockout_minutes: u32,
    },
    #[error("PCA is programmed as a primary infusion, not as a secondary or a bolus")]
    PcaOnlyPrimary,
}
