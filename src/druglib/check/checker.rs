//! The checker: each value of a program against the entry's limits, the
//! concentration against the entry's, the loading dose against its own.

use super::*;

/// Collects checked values and blockers while a review is built.
pub(super) struct Checker {
    pub(super) values: Vec<CheckedValue>,
    pub(super) blockers: Vec<Blocker>,
}

impl Checker {
    pub(super) fn value(
        &mut self,
        parameter: Parameter,
        value: Decimal,
        unit: String,
        limits: &Limits,
    ) {
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
    pub(super) fn entered(
        &mut self,
        parameter: Parameter,
        value: Decimal,
        unit: impl fmt::Display,
        limits: &Limits,
    ) {
        self.value(parameter, value, unit.to_string(), limits);
    }

    pub(super) fn block(&mut self, blocker: Blocker) {
        self.blockers.push(blocker);
    }

    pub(super) fn unit_must_match(
        &mut self,
        expected: impl fmt::Display,
        entered: impl fmt::Display,
    ) -> bool {
        let (expected, entered) = (expected.to_string(), entered.to_string());
        let matches = expected == entered;
        if !matches {
            self.block(Blocker::UnitMismatch { expected, entered });
        }
        matches
    }

    pub(super) fn duration_at_least(
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
    pub(super) fn amount(
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

    pub(super) fn finish(
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

pub(super) fn per_millilitre_text(value: Decimal, unit: impl fmt::Display) -> String {
    format!("{} {unit}/mL", display_decimal(value.round_dp(6)))
}

/// Blocks a concentration that is neither a listed one nor a custom one within bounds.
pub(super) fn check_concentration(
    entry: &Entry,
    concentration: Concentration,
    checker: &mut Checker,
) {
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
        checker.block(Blocker::Concentration(ConcentrationProblem::NotListed {
            concentration: concentration.to_string(),
        }));
        return;
    };
    match concentration.per_millilitre(custom.unit) {
        Ok(per_ml) if per_ml >= custom.min_per_ml && per_ml <= custom.max_per_ml => {}
        Ok(per_ml) => checker.block(Blocker::Concentration(
            ConcentrationProblem::OutsideCustom {
                value: per_millilitre_text(per_ml, custom.unit),
                min: per_millilitre_text(custom.min_per_ml, custom.unit),
                max: per_millilitre_text(custom.max_per_ml, custom.unit),
            },
        )),
        Err(error) => checker.block(error.into()),
    }
}

pub(super) fn check_entry(
    entry: &Entry,
    medication: &Medication,
    delivery: &Delivery,
    plan: Option<&DeliveryPlan>,
    checker: &mut Checker,
) {
    let drug = match (entry.dose.unit, medication) {
        (DosingUnit::Flow, Medication::Basic) => None,
        (DosingUnit::Flow, Medication::Drug { .. }) => {
            checker.block(Blocker::NotForThisEntry(
                Mismatch::FluidHasNoConcentration {
                    drug: entry.display_name.clone(),
                },
            ));
            return;
        }
        (DosingUnit::Rate(_) | DosingUnit::Amount(_), Medication::Basic) => {
            checker.block(Blocker::NotForThisEntry(Mismatch::NeedsConcentration {
                drug: entry.display_name.clone(),
            }));
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
                    checker.block(Blocker::NotForThisEntry(Mismatch::Continuous {
                        drug: entry.display_name.clone(),
                        unit: unit.to_string(),
                    }));
                }
                Delivery::Rate { .. } => {
                    // Programming a dose-rate drug in mL/h is how a dose ends up
                    // typed into the rate field; the pump asks for the dose.
                    checker.block(Blocker::NotForThisEntry(Mismatch::DoseNotRate {
                        drug: entry.display_name.clone(),
                        unit: unit.to_string(),
                    }));
                }
                Delivery::Pca(pca) => {
                    if let Some(basal) = &pca.basal {
                        checker.unit_must_match(unit, basal.unit);
                    }
                    check_pca(entry, pca, checker);
                }
                // Each rate's dose is checked below, segment by segment.
                Delivery::VolumeOverTime { .. } | Delivery::Steps(_) => {}
            }
            // (A PCA without a basal runs its segment at zero: nothing to check.)
            let continuous = plan
                .iter()
                .flat_map(|plan| plan.segments.iter())
                .filter(|segment| {
                    segment.purpose != SegmentPurpose::Loading && !segment.rate.value().is_zero()
                });
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
                | Delivery::Rate { .. }
                | Delivery::Steps(_)
                | Delivery::Pca(_) => {
                    checker.block(Blocker::NotForThisEntry(Mismatch::Intermittent {
                        drug: entry.display_name.clone(),
                        unit: unit.to_string(),
                    }));
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

/// A PCA program's demand, lockout, limit and window against the entry's.
fn check_pca(entry: &Entry, pca: &crate::therapy::PcaDelivery, checker: &mut Checker) {
    let Some(spec) = &entry.pca else {
        checker.block(Blocker::NotForThisEntry(Mismatch::NoPca {
            drug: entry.display_name.clone(),
        }));
        return;
    };
    for (parameter, entered, limits) in [
        (Parameter::DemandDose, &pca.demand, &spec.demand),
        (Parameter::PcaLimit, &pca.limit, &spec.limit),
    ] {
        if checker.unit_must_match(limits.unit.0, entered.unit) {
            checker.entered(parameter, entered.value, limits.unit.0, &limits.limits());
        }
    }
    checker.value(
        Parameter::Lockout,
        Decimal::from(pca.lockout.seconds()) / Decimal::from(60),
        "min".to_owned(),
        &spec.lockout_min.limits(),
    );
    if pca.window.hours() != spec.window_h {
        checker.block(Blocker::NotForThisEntry(Mismatch::PcaWindow {
            drug: entry.display_name.clone(),
            hours: spec.window_h,
        }));
    }
}

pub(super) fn check_loading(
    entry: &Entry,
    entered: &DoseAmount,
    plan: Option<&DeliveryPlan>,
    concentration: Concentration,
    patient: &Patient,
    checker: &mut Checker,
) {
    let Some(spec) = &entry.loading else {
        checker.block(Blocker::NotForThisEntry(Mismatch::NoLoadingDose {
            drug: entry.display_name.clone(),
        }));
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

impl Entry {
    /// The main dose of an intermittent entry, seen as an amount spec.
    pub(super) fn dose_as_amount_spec(&self, unit: DoseAmountUnit) -> AmountSpec {
        let dose = &self.dose;
        AmountSpec {
            unit: crate::druglib::model::AmountUnitText(unit),
            default: dose.default,
            min_duration_min: dose.min_duration_min,
            hard_min: dose.hard_min,
            soft_min: dose.soft_min,
            soft_max: dose.soft_max,
            hard_max: dose.hard_max,
        }
    }
}
