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

use super::model::{AmountSpec, CareArea, DosingUnit, Entry, Limits};
use super::validate::{Library, LibraryIdentity};
use crate::therapy::{
    amount_for_volume, display_decimal, display_significant, dose_for_flow, plan, plan_bolus,
    plan_secondary, BolusRequest, Concentration, Delivery, DeliveryPlan, DoseAmount,
    DoseAmountUnit, InfusionDuration, Medication, Millilitres, MillilitresPerHour, Patient,
    Program, RateLimits, SecondaryProgram, Segment, SegmentPurpose, TherapyError,
};

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

/// Why a program cannot start, whatever the nurse confirms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocker {
    #[error("{0}")]
    HardLimit(CheckedValue),
    #[error("this entry is dosed in {expected}; {entered} cannot be used for it")]
    UnitMismatch { expected: String, entered: String },
    #[error("{0}")]
    Concentration(String),
    #[error("{0}")]
    NotForThisEntry(String),
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

/// Collects checked values and blockers while a review is built.
struct Checker {
    values: Vec<CheckedValue>,
    blockers: Vec<Blocker>,
}

impl Checker {
    fn value(&mut self, parameter: Parameter, value: Decimal, unit: String, limits: &Limits) {
        let checked = CheckedValue {
            parameter,
            value,
            unit,
            status: LimitStatus::of(value, limits),
        };
        if matches!(checked.status, LimitStatus::BeyondHard { .. }) {
            self.blockers.push(Blocker::HardLimit(checked.clone()));
        }
        self.values.push(checked);
    }

    /// Checks a value as the nurse entered it; used when no delivery plan
    /// could be derived (for example a rate beyond the platform), so that the
    /// dose's own limit is still shown.
    fn entered(
        &mut self,
        parameter: Parameter,
        value: Decimal,
        unit: impl fmt::Display,
        limits: &Limits,
    ) {
        self.value(parameter, value, unit.to_string(), limits);
    }

    fn block(&mut self, blocker: Blocker) {
        self.blockers.push(blocker);
    }

    fn unit_must_match(&mut self, expected: impl fmt::Display, entered: impl fmt::Display) -> bool {
        let (expected, entered) = (expected.to_string(), entered.to_string());
        let matches = expected == entered;
        if !matches {
            self.block(Blocker::UnitMismatch { expected, entered });
        }
        matches
    }

    fn duration_at_least(
        &mut self,
        duration: Result<InfusionDuration, TherapyError>,
        min_minutes: Option<u32>,
    ) {
        let (Some(min), Ok(duration)) = (min_minutes, duration) else {
            return;
        };
        let minutes = Decimal::from(duration.seconds()) / Decimal::from(60);
        let limits = Limits {
            hard_min: Some(Decimal::from(min)),
            soft_min: None,
            soft_max: None,
            hard_max: Decimal::MAX,
        };
        self.value(
            Parameter::Duration,
            minutes.round_dp(1),
            "min".to_owned(),
            &limits,
        );
    }

    /// Checks a dose amount given over a segment (intermittent, bolus, loading).
    fn amount(
        &mut self,
        parameter: Parameter,
        spec: &AmountSpec,
        segment: &Segment,
        concentration: Concentration,
        patient: &Patient,
    ) {
        match amount_for_volume(segment.volume, concentration, patient, spec.unit.0) {
            Ok(amount) => self.value(
                parameter,
                amount.value,
                spec.unit.0.to_string(),
                &spec.limits(),
            ),
            Err(error) => self.block(error.into()),
        }
        self.duration_at_least(segment.duration(), spec.min_duration_min);
    }

    fn finish(
        self,
        library: &Library,
        care_area: &CareArea,
        entry: Option<&Entry>,
        plan: Option<DeliveryPlan>,
    ) -> Review {
        Review {
            library: library.identity.clone(),
            care_area: care_area.id.clone(),
            entry: entry.map(|entry| entry.id.clone()),
            plan,
            values: self.values,
            blockers: self.blockers,
        }
    }
}

fn per_millilitre_text(value: Decimal, unit: impl fmt::Display) -> String {
    format!("{} {unit}/mL", display_decimal(value.round_dp(6)))
}

/// Blocks a concentration that is neither a listed one nor a custom one within bounds.
fn check_concentration(entry: &Entry, concentration: Concentration, checker: &mut Checker) {
    let listed = entry.concentrations.iter().any(|spec| {
        let spec = Concentration {
            amount: crate::therapy::Amount::new(spec.amount, spec.unit),
            volume: Millilitres::new(spec.volume_ml),
        };
        let unit = spec.amount.unit;
        matches!((spec.per_millilitre(unit), concentration.per_millilitre(unit)), (Ok(a), Ok(b)) if a == b)
    });
    if listed {
        return;
    }
    let Some(custom) = &entry.custom_concentration else {
        checker.block(Blocker::Concentration(format!(
            "{concentration} is not a concentration of this entry, and it allows no custom concentration"
        )));
        return;
    };
    match concentration.per_millilitre(custom.unit) {
        Ok(per_ml) if per_ml >= custom.min_per_ml && per_ml <= custom.max_per_ml => {}
        Ok(per_ml) => checker.block(Blocker::Concentration(format!(
            "custom concentration {} is outside the allowed {} to {}",
            per_millilitre_text(per_ml, custom.unit),
            per_millilitre_text(custom.min_per_ml, custom.unit),
            per_millilitre_text(custom.max_per_ml, custom.unit),
        ))),
        Err(error) => checker.block(error.into()),
    }
}

fn empty_review(
    library: &Library,
    care_area: &str,
    entry: Option<&str>,
    blocker: Blocker,
) -> Review {
    Review {
        library: library.identity.clone(),
        care_area: care_area.to_owned(),
        entry: entry.map(str::to_owned),
        plan: None,
        values: Vec::new(),
        blockers: vec![blocker],
    }
}

/// Checks a primary program.
pub fn review(
    library: &Library,
    care_area: &str,
    choice: DrugChoice<'_>,
    program: &Program,
    platform: &RateLimits,
) -> Review {
    review_delivery(
        library,
        care_area,
        choice,
        &program.medication,
        &program.delivery,
        platform,
        |limits| plan(program, limits),
    )
}

/// Checks a secondary (piggyback) program.
pub fn review_secondary(
    library: &Library,
    care_area: &str,
    choice: DrugChoice<'_>,
    program: &SecondaryProgram,
    platform: &RateLimits,
) -> Review {
    review_delivery(
        library,
        care_area,
        choice,
        &program.medication,
        &program.delivery,
        platform,
        |limits| plan_secondary(program, limits),
    )
}

fn review_delivery(
    library: &Library,
    care_area_id: &str,
    choice: DrugChoice<'_>,
    medication: &Medication,
    delivery: &Delivery,
    platform: &RateLimits,
    make_plan: impl Fn(&RateLimits) -> Result<DeliveryPlan, TherapyError>,
) -> Review {
    let Some(care_area) = library.care_area(care_area_id) else {
        return empty_review(
            library,
            care_area_id,
            None,
            Blocker::UnknownCareArea(care_area_id.to_owned()),
        );
    };
    let mut checker = Checker {
        values: Vec::new(),
        blockers: Vec::new(),
    };
    let entry_id = match choice {
        DrugChoice::Basic => {
            let limits = basic_limits(care_area, platform);
            if !matches!(medication, Medication::Basic) {
                checker.block(Blocker::NotForThisEntry(
                    "a basic infusion has no drug: pick the drug from the library".to_owned(),
                ));
            }
            let plan = make_plan(&limits)
                .map_err(|error| checker.block(error.into()))
                .ok();
            return checker.finish(library, care_area, None, plan);
        }
        DrugChoice::Entry(id) => id,
    };
    let Some(entry) = care_area.entries.iter().find(|entry| entry.id == entry_id) else {
        return empty_review(
            library,
            care_area_id,
            Some(entry_id),
            Blocker::UnknownEntry(entry_id.to_owned()),
        );
    };
    let plan = make_plan(platform)
        .map_err(|error| checker.block(error.into()))
        .ok();
    check_entry(entry, medication, delivery, plan.as_ref(), &mut checker);
    if let Some(plan) = &plan {
        if let Ok(total) = plan.total_volume() {
            let limits = Limits {
                hard_min: None,
                soft_min: None,
                soft_max: None,
                hard_max: entry.max_vtbi_ml,
            };
            checker.value(
                Parameter::VolumeToBeInfused,
                total.value(),
                Millilitres::UNIT.to_owned(),
                &limits,
            );
        }
    }
    checker.finish(library, care_area, Some(entry), plan)
}

/// The rate range of a basic infusion: the platform's, capped by the care area.
fn basic_limits(care_area: &CareArea, platform: &RateLimits) -> RateLimits {
    let max = care_area.basic_max_rate_ml_h.map_or(platform.max, |cap| {
        platform.max.min(MillilitresPerHour::new(cap))
    });
    RateLimits {
        min: platform.min,
        max,
        container: platform.container,
    }
}

fn check_entry(
    entry: &Entry,
    medication: &Medication,
    delivery: &Delivery,
    plan: Option<&DeliveryPlan>,
    checker: &mut Checker,
) {
    let drug = match (entry.dose.unit, medication) {
        (DosingUnit::Flow, Medication::Basic) => None,
        (DosingUnit::Flow, Medication::Drug { .. }) => {
            checker.block(Blocker::NotForThisEntry(format!(
                "{} is a fluid programmed in mL/h, without a concentration",
                entry.display_name
            )));
            return;
        }
        (DosingUnit::Rate(_) | DosingUnit::Amount(_), Medication::Basic) => {
            checker.block(Blocker::NotForThisEntry(format!(
                "{} needs its concentration",
                entry.display_name
            )));
            return;
        }
        (
            DosingUnit::Rate(_) | DosingUnit::Amount(_),
            Medication::Drug {
                concentration,
                patient,
            },
        ) => {
            check_concentration(entry, *concentration, checker);
            Some((*concentration, *patient))
        }
    };
    match (entry.dose.unit, drug) {
        (DosingUnit::Flow, _) => {
            for segment in plan.iter().flat_map(|plan| plan.segments.iter()) {
                checker.value(
                    Parameter::FlowRate,
                    segment.rate.value(),
                    MillilitresPerHour::UNIT.to_owned(),
                    &entry.dose.limits(),
                );
            }
        }
        (DosingUnit::Rate(unit), Some((concentration, patient))) => {
            match delivery {
                Delivery::Dose { dose, .. } => {
                    if checker.unit_must_match(unit, dose.unit) && plan.is_none() {
                        checker.entered(
                            Parameter::DoseRate,
                            dose.value,
                            unit,
                            &entry.dose.limits(),
                        );
                    }
                }
                Delivery::LoadingThenMaintenance {
                    loading,
                    maintenance,
                    ..
                } => {
                    if checker.unit_must_match(unit, maintenance.unit) && plan.is_none() {
                        checker.entered(
                            Parameter::DoseRate,
                            maintenance.value,
                            unit,
                            &entry.dose.limits(),
                        );
                    }
                    check_loading(entry, loading, plan, concentration, &patient, checker);
                }
                Delivery::AmountOverTime { .. } => {
                    checker.block(Blocker::NotForThisEntry(format!(
                        "{} is a continuous infusion dosed in {unit}",
                        entry.display_name
                    )));
                }
                Delivery::Rate { .. } => {
                    // Programming a dose-rate drug in mL/h is how a dose ends up
                    // typed into the rate field; the pump asks for the dose.
                    checker.block(Blocker::NotForThisEntry(format!(
                        "{} is programmed by dose in {unit}: enter the dose, and the pump calculates the rate",
                        entry.display_name
                    )));
                }
                Delivery::VolumeOverTime { .. } => {}
            }
            let continuous = plan
                .iter()
                .flat_map(|plan| plan.segments.iter())
                .filter(|segment| segment.purpose != SegmentPurpose::Loading);
            for segment in continuous {
                match dose_for_flow(segment.rate, concentration, &patient, unit) {
                    Ok(dose) => checker.value(
                        Parameter::DoseRate,
                        dose.value,
                        unit.to_string(),
                        &entry.dose.limits(),
                    ),
                    Err(error) => checker.block(error.into()),
                }
            }
        }
        (DosingUnit::Amount(unit), Some((concentration, patient))) => {
            match delivery {
                Delivery::AmountOverTime { amount, .. } => {
                    if checker.unit_must_match(unit, amount.unit) && plan.is_none() {
                        checker.entered(
                            Parameter::DoseAmount,
                            amount.value,
                            unit,
                            &entry.dose.limits(),
                        );
                    }
                }
                Delivery::Dose { .. }
                | Delivery::LoadingThenMaintenance { .. }
                | Delivery::Rate { .. } => {
                    checker.block(Blocker::NotForThisEntry(format!(
                        "{} is an intermittent dose: enter the dose in {unit} and the time to give it over",
                        entry.display_name
                    )));
                }
                Delivery::VolumeOverTime { .. } => {}
            }
            for segment in plan.iter().flat_map(|plan| plan.segments.iter()) {
                checker.amount(
                    Parameter::DoseAmount,
                    &entry.dose_as_amount_spec(unit),
                    segment,
                    concentration,
                    &patient,
                );
            }
        }
        (DosingUnit::Rate(_) | DosingUnit::Amount(_), None) => {}
    }
}

fn check_loading(
    entry: &Entry,
    entered: &DoseAmount,
    plan: Option<&DeliveryPlan>,
    concentration: Concentration,
    patient: &Patient,
    checker: &mut Checker,
) {
    let Some(spec) = &entry.loading else {
        checker.block(Blocker::NotForThisEntry(format!(
            "the library gives {} no loading dose",
            entry.display_name
        )));
        return;
    };
    if !checker.unit_must_match(spec.unit.0, entered.unit) {
        return;
    }
    if plan.is_none() {
        checker.entered(
            Parameter::LoadingDose,
            entered.value,
            spec.unit.0,
            &spec.limits(),
        );
    }
    for segment in plan
        .iter()
        .flat_map(|plan| plan.segments.iter())
        .filter(|segment| segment.purpose == SegmentPurpose::Loading)
    {
        checker.amount(
            Parameter::LoadingDose,
            spec,
            segment,
            concentration,
            patient,
        );
    }
}

/// Checks a clinician bolus from the primary's container against the entry.
pub fn review_bolus(
    library: &Library,
    care_area_id: &str,
    entry_id: &str,
    medication: &Medication,
    bolus: &BolusRequest,
    platform: &RateLimits,
) -> Review {
    let Some(care_area) = library.care_area(care_area_id) else {
        return empty_review(
            library,
            care_area_id,
            None,
            Blocker::UnknownCareArea(care_area_id.to_owned()),
        );
    };
    let Some(entry) = care_area.entries.iter().find(|entry| entry.id == entry_id) else {
        return empty_review(
            library,
            care_area_id,
            Some(entry_id),
            Blocker::UnknownEntry(entry_id.to_owned()),
        );
    };
    let mut checker = Checker {
        values: Vec::new(),
        blockers: Vec::new(),
    };
    let (
        Some(spec),
        Medication::Drug {
            concentration,
            patient,
        },
    ) = (&entry.bolus, medication)
    else {
        checker.block(Blocker::NotForThisEntry(format!(
            "the library allows no bolus of {}",
            entry.display_name
        )));
        return checker.finish(library, care_area, Some(entry), None);
    };
    if let BolusRequest::Dose { amount, .. } = bolus {
        if !checker.unit_must_match(spec.unit.0, amount.unit) {
            return checker.finish(library, care_area, Some(entry), None);
        }
    }
    let plan = match plan_bolus(medication, bolus, platform) {
        Ok(segment) => {
            checker.amount(
                Parameter::BolusDose,
                spec,
                &segment,
                *concentration,
                patient,
            );
            let mut segments = arrayvec::ArrayVec::new();
            segments.push(segment);
            Some(DeliveryPlan {
                segments,
                end: crate::therapy::PlanEnd::ResumePrimary,
            })
        }
        Err(error) => {
            checker.block(error.into());
            None
        }
    };
    checker.finish(library, care_area, Some(entry), plan)
}

impl Entry {
    /// The main dose of an intermittent entry, seen as an amount spec.
    fn dose_as_amount_spec(&self, unit: DoseAmountUnit) -> AmountSpec {
        let dose = &self.dose;
        AmountSpec {
            unit: super::model::AmountUnitText(unit),
            default: dose.default,
            min_duration_min: dose.min_duration_min,
            hard_min: dose.hard_min,
            soft_min: dose.soft_min,
            soft_max: dose.soft_max,
            hard_max: dose.hard_max,
        }
    }
}
