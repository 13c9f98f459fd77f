//! Dose-error reduction: a program checked against the care area's entry.
//!
//! The check works on the delivery plan, so it judges the dose the rounded
//! rate will really deliver. Inside limits the program may start; beyond a
//! soft limit only with an explicit override that names the limit and the
//! value; beyond a hard limit, never. A basic infusion (no drug) is allowed
//! outside the library, capped by the platform and the care area.
//!
//! A library drug is programmed in its dose unit, never in mL/h: a dose rate
//! (mcg/kg/min, units/h...) for a continuous drug, a dose over a time for an
//! intermittent one. Refusing mL/h for drugs makes the classic slip of a dose
//! typed into the rate field impossible rather than merely unlikely.
//!
//! `review` produces a `Review` listing every checked value with its limit
//! status (what the review screen shows); `confirm` turns it into a
//! `ConfirmedProgram`, the only thing the pump starts.

use std::fmt;

use rust_decimal::Decimal;

use crate::druglib::model::{AmountSpec, CareArea, DosingUnit, Entry, KvoRule, Limits};
use crate::druglib::validate::{Library, LibraryIdentity};
use crate::therapy::{
    amount_for_volume, display_decimal, display_significant, dose_for_flow, plan, plan_bolus,
    plan_secondary, BolusRequest, Concentration, Delivery, DeliveryPlan, DoseAmount,
    DoseAmountUnit, EndOfInfusion, InfusionDuration, Medication, Millilitres, MillilitresPerHour,
    Patient, Program, RateLimits, SecondaryProgram, Segment, SegmentPurpose, TherapyError,
};

mod checker;
mod review;

pub use review::{review, review_bolus, review_secondary};

/// The program parameter a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parameter {
    DoseRate,
    FlowRate,
    DoseAmount,
    BolusDose,
    LoadingDose,
    Duration,
    VolumeToBeInfused,
    /// A PCA demand dose.
    DemandDose,
    /// A PCA lockout interval, minutes.
    Lockout,
    /// A PCA limit over its window.
    PcaLimit,
}

impl Parameter {
    pub const fn name(self) -> &'static str {
        match self {
            Parameter::DoseRate => "dose rate",
            Parameter::FlowRate => "rate",
            Parameter::DoseAmount => "dose",
            Parameter::BolusDose => "bolus dose",
            Parameter::LoadingDose => "loading dose",
            Parameter::Duration => "duration",
            Parameter::VolumeToBeInfused => "volume to be infused",
            Parameter::DemandDose => "demand dose",
            Parameter::Lockout => "lockout interval",
            Parameter::PcaLimit => "PCA limit",
        }
    }
}

/// Which side of a range a limit bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    Minimum,
    Maximum,
}

/// Where a value stands against its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitStatus {
    Within,
    BeyondSoft { bound: Bound, limit: Decimal },
    BeyondHard { bound: Bound, limit: Decimal },
}

impl LimitStatus {
    /// Classifies `value` against `limits`; hard limits win.
    pub fn of(value: Decimal, limits: &Limits) -> LimitStatus {
        if value > limits.hard_max {
            return LimitStatus::BeyondHard {
                bound: Bound::Maximum,
                limit: limits.hard_max,
            };
        }
        if let Some(limit) = limits.hard_min.filter(|limit| value < *limit) {
            return LimitStatus::BeyondHard {
                bound: Bound::Minimum,
                limit,
            };
        }
        if let Some(limit) = limits.soft_max.filter(|limit| value > *limit) {
            return LimitStatus::BeyondSoft {
                bound: Bound::Maximum,
                limit,
            };
        }
        if let Some(limit) = limits.soft_min.filter(|limit| value < *limit) {
            return LimitStatus::BeyondSoft {
                bound: Bound::Minimum,
                limit,
            };
        }
        LimitStatus::Within
    }
}

/// One program value as the review screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedValue {
    pub parameter: Parameter,
    pub value: Decimal,
    pub unit: String,
    pub status: LimitStatus,
}

impl fmt::Display for CheckedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value, unit) = (
            self.parameter.name(),
            display_significant(self.value),
            &self.unit,
        );
        match self.status {
            LimitStatus::Within => write!(f, "{name} {value} {unit} is within limits"),
            LimitStatus::BeyondSoft { bound, limit } | LimitStatus::BeyondHard { bound, limit } => {
                let hardness = if matches!(self.status, LimitStatus::BeyondHard { .. }) {
                    "hard"
                } else {
                    "soft"
                };
                let (side, extreme) = match bound {
                    Bound::Maximum => ("above", "maximum"),
                    Bound::Minimum => ("below", "minimum"),
                };
                write!(
                    f,
                    "{name} {value} {unit} is {side} the {hardness} {extreme} of {} {unit}",
                    display_decimal(limit)
                )
            }
        }
    }
}

/// Why a concentration is refused for an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConcentrationProblem {
    #[error("{concentration} is not a concentration of this entry, and it allows no custom concentration")]
    NotListed { concentration: String },
    #[error("custom concentration {value} is outside the allowed {min} to {max}")]
    OutsideCustom {
        value: String,
        min: String,
        max: String,
    },
}

/// Why a program does not fit the entry it was made for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("{drug} is a fluid programmed in mL/h, without a concentration")]
    FluidHasNoConcentration { drug: String },
    #[error("{drug} needs its concentration")]
    NeedsConcentration { drug: String },
    #[error("{drug} is a continuous infusion dosed in {unit}")]
    Continuous { drug: String, unit: String },
    #[error(
        "{drug} is programmed by dose in {unit}: enter the dose, and the pump calculates the rate"
    )]
    DoseNotRate { drug: String, unit: String },
    #[error(
        "{drug} is an intermittent dose: enter the dose in {unit} and the time to give it over"
    )]
    Intermittent { drug: String, unit: String },
    #[error("the library gives {drug} no loading dose")]
    NoLoadingDose { drug: String },
    #[error("a basic infusion has no drug: pick the drug from the library")]
    BasicHasNoDrug,
    #[error("the library allows no bolus of {drug}")]
    NoBolus { drug: String },
    #[error("{drug} never keeps the vein open at its end: its KVO flow would go on dosing")]
    NoKeepVeinOpen { drug: String },
    #[error("care area {care_area} keeps no vein open: programs stop at their end")]
    NoKeepVeinOpenInArea { care_area: String },
    #[error("KVO at {rate} mL/h is above the {max} mL/h of care area {care_area}")]
    KeepVeinOpenAbove {
        care_area: String,
        rate: Decimal,
        max: Decimal,
    },
    #[error("the library does not allow {drug} as PCA")]
    NoPca { drug: String },
    #[error("the PCA limit of {drug} counts over {hours} h in the library")]
    PcaWindow { drug: String, hours: u32 },
}

/// Why a program cannot start, whatever the nurse confirms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocker {
    #[error("{0}")]
    HardLimit(CheckedValue),
    #[error("this entry is dosed in {expected}; {entered} cannot be used for it")]
    UnitMismatch { expected: String, entered: String },
    #[error("{0}")]
    Concentration(ConcentrationProblem),
    #[error("{0}")]
    NotForThisEntry(Mismatch),
    #[error("care area \"{0}\" is not in the active drug library")]
    UnknownCareArea(String),
    #[error("entry \"{0}\" is not in this care area of the active drug library")]
    UnknownEntry(String),
    #[error("{0}")]
    Program(#[from] TherapyError),
}

/// What was picked from the drug list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrugChoice<'a> {
    /// A basic infusion: fluid in mL/h, outside the library.
    Basic,
    Entry(&'a str),
}

/// The result of checking a program: every checked value and what blocks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub library: LibraryIdentity,
    pub care_area: String,
    /// None for a basic infusion, which is outside the library.
    pub entry: Option<String>,
    pub plan: Option<DeliveryPlan>,
    pub values: Vec<CheckedValue>,
    pub blockers: Vec<Blocker>,
}

impl Review {
    /// Is this infusion outside the drug library (a basic infusion)?
    pub fn outside_library(&self) -> bool {
        self.entry.is_none()
    }

    /// Values beyond a soft limit: each needs an explicit override.
    pub fn soft_findings(&self) -> impl Iterator<Item = &CheckedValue> {
        self.values
            .iter()
            .filter(|value| matches!(value.status, LimitStatus::BeyondSoft { .. }))
    }

    /// The overrides that would confirm every soft finding, as the review
    /// screen offers them to the nurse one by one.
    pub fn overrides_needed(&self) -> Vec<Override> {
        self.soft_findings()
            .filter_map(|value| match value.status {
                LimitStatus::BeyondSoft { bound, limit } => Some(Override {
                    parameter: value.parameter,
                    bound,
                    limit,
                    value: value.value,
                }),
                LimitStatus::Within | LimitStatus::BeyondHard { .. } => None,
            })
            .collect()
    }

    /// Can the program start without any override?
    pub fn is_within_limits(&self) -> bool {
        self.blockers.is_empty() && self.soft_findings().next().is_none()
    }

    /// Would any check stop or question this program? (Used by the use-error
    /// tests: a slip must be caught by a soft or hard limit.)
    pub fn is_caught(&self) -> bool {
        !self.is_within_limits()
    }
}

/// A nurse's explicit confirmation of one value beyond one soft limit,
/// recorded with the value and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    pub parameter: Parameter,
    pub bound: Bound,
    pub limit: Decimal,
    pub value: Decimal,
}

/// Why a review could not be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    #[error("the program cannot start: {}", list(.0))]
    Blocked(Vec<Blocker>),
    #[error("confirm each value beyond a soft limit first: {}", list(.0))]
    OverrideMissing(Vec<CheckedValue>),
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A program that passed the check, with the overrides the nurse confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedProgram {
    pub review: Review,
    pub plan: DeliveryPlan,
    pub overrides: Vec<Override>,
}

/// Confirms a review: nothing may block it, and every soft finding needs an
/// override naming exactly its value and limit (an override given for another
/// value does not carry over).
pub fn confirm(review: Review, overrides: &[Override]) -> Result<ConfirmedProgram, ConfirmError> {
    if !review.blockers.is_empty() {
        return Err(ConfirmError::Blocked(review.blockers));
    }
    let needed = review.overrides_needed();
    let missing: Vec<CheckedValue> = review
        .soft_findings()
        .zip(&needed)
        .filter(|(_, wanted)| !overrides.contains(wanted))
        .map(|(value, _)| value.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ConfirmError::OverrideMissing(missing));
    }
    match review.plan.clone() {
        Some(plan) => Ok(ConfirmedProgram {
            review,
            plan,
            overrides: needed,
        }),
        None => Err(ConfirmError::Blocked(Vec::new())),
    }
}
