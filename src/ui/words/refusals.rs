//! Refusals in words: what the therapy core, the drug library and the
//! keypad refuse, and each value's limit status, in the screen's language.
//! The English screen keeps the core's and the library's own words.

use super::*;

/// The words for a limit status of a value in `unit`.
pub fn status_text(texts: &Texts, status: LimitStatus, unit: &str) -> String {
    let (id, limit) = match status {
        LimitStatus::Within => return texts.get("limit-within"),
        LimitStatus::BeyondSoft {
            bound: Bound::Maximum,
            limit,
        } => ("limit-soft-max", limit),
        LimitStatus::BeyondSoft {
            bound: Bound::Minimum,
            limit,
        } => ("limit-soft-min", limit),
        LimitStatus::BeyondHard {
            bound: Bound::Maximum,
            limit,
        } => ("limit-hard-max", limit),
        LimitStatus::BeyondHard {
            bound: Bound::Minimum,
            limit,
        } => ("limit-hard-min", limit),
    };
    texts.format(
        id,
        &[
            ("limit", Arg::Number(limit)),
            ("unit", Arg::Text(unit.to_owned())),
        ],
    )
}

/// The words for a refused entry or key.
pub fn problem_text(texts: &Texts, problem: &Problem) -> String {
    match problem {
        Problem::Entry(error) => therapy_text(texts, error),
        Problem::HardLimit { status, unit } => status_text(texts, *status, unit),
        Problem::UnknownChoice(_) => texts.get("error-unknown-choice"),
        Problem::Key(Refusal::SecondPoint) => texts.get("error-key-second-point"),
        Problem::Key(Refusal::LeadingZero) => texts.get("error-key-leading-zero"),
        Problem::Key(Refusal::TooManyIntegerDigits) => texts.get("error-key-too-many-digits"),
        Problem::Key(Refusal::TooManyDecimals) => texts.get("error-key-too-many-decimals"),
        Problem::WrongStep => String::new(),
    }
}

pub fn therapy_text(texts: &Texts, error: &TherapyError) -> String {
    match error {
        TherapyError::NotANumber { text } if text.is_empty() => texts.get("error-nothing-entered"),
        TherapyError::NotANumber { .. } => texts.get("error-not-a-number"),
        TherapyError::MissingLeadingZero { .. } => texts.get("error-missing-leading-zero"),
        TherapyError::IncompleteNumber { .. } => texts.get("error-incomplete"),
        TherapyError::TooManyDigits {
            max_integer_digits,
            max_decimals,
            ..
        } => texts.format(
            "error-too-many-digits",
            &[
                ("integer", Arg::Count(u64::from(*max_integer_digits))),
                ("decimals", Arg::Count(u64::from(*max_decimals))),
            ],
        ),
        TherapyError::OutOfRange {
            value,
            min,
            max,
            unit,
            ..
        } => texts.format(
            "error-out-of-range",
            &[
                ("value", Arg::Number(*value)),
                ("min", Arg::Number(*min)),
                ("max", Arg::Number(*max)),
                ("unit", Arg::Text(unit.clone())),
            ],
        ),
        TherapyError::AboveContainer { volume, capacity } => texts.format(
            "error-above-container",
            &[
                ("volume", Arg::Number(*volume)),
                ("capacity", Arg::Number(*capacity)),
            ],
        ),
        TherapyError::FinerThanResolution {
            value, step, unit, ..
        } => texts.format(
            "error-finer-than-resolution",
            &[
                ("value", Arg::Number(*value)),
                ("step", Arg::Number(*step)),
                ("unit", Arg::Text(unit.clone())),
            ],
        ),
        TherapyError::IncompatibleUnits { from, to } => texts.format(
            "error-incompatible-units",
            &[
                ("from", Arg::Text((*from).to_owned())),
                ("to", Arg::Text((*to).to_owned())),
            ],
        ),
        TherapyError::UnknownUnit { text, allowed } => texts.format(
            "error-unknown-unit",
            &[
                ("text", Arg::Text(text.clone())),
                ("allowed", Arg::Text((*allowed).to_owned())),
            ],
        ),
        TherapyError::NonPositiveConcentration => texts.get("error-non-positive-concentration"),
        TherapyError::MissingPatientData {
            needs: PatientData::Weight,
        } => texts.get("error-needs-weight"),
        TherapyError::MissingPatientData {
            needs: PatientData::WeightAndHeight,
        } => texts.get("error-needs-weight-and-height"),
        TherapyError::NeedsDrug => texts.get("error-needs-drug"),
        TherapyError::LoadingExceedsVolume { vtbi, loading } => texts.format(
            "error-loading-exceeds-volume",
            &[
                ("vtbi", Arg::Number(*vtbi)),
                ("loading", Arg::Number(*loading)),
            ],
        ),
        TherapyError::Overflow => texts.get("error-overflow"),
        TherapyError::StepCount { count, max } => texts.format(
            "error-step-count",
            &[
                (
                    "count",
                    Arg::Count(u64::try_from(*count).unwrap_or(u64::MAX)),
                ),
                ("max", Arg::Count(u64::try_from(*max).unwrap_or(u64::MAX))),
            ],
        ),
        TherapyError::PcaLimitBelowDemand { limit, demand } => texts.format(
            "error-pca-limit-below-demand",
            &[
                (
                    "limit",
                    Arg::Text(texts.quantity(limit.value, &limit.unit.to_string())),
                ),
                (
                    "demand",
                    Arg::Text(texts.quantity(demand.value, &demand.unit.to_string())),
                ),
            ],
        ),
        TherapyError::PcaBasalReachesLimit {
            hours,
            basal_ml,
            limit_ml,
        } => texts.format(
            "error-pca-basal-reaches-limit",
            &[
                ("hours", Arg::Count(u64::from(*hours))),
                ("basal", Arg::Number(*basal_ml)),
                ("limit", Arg::Number(*limit_ml)),
            ],
        ),
        TherapyError::PcaDemandLongerThanLockout {
            demand_ml,
            lockout_minutes,
        } => texts.format(
            "error-pca-demand-longer-than-lockout",
            &[
                ("demand", Arg::Number(*demand_ml)),
                ("lockout", Arg::Count(u64::from(*lockout_minutes))),
            ],
        ),
        TherapyError::PcaOnlyPrimary => texts.get("error-pca-only-primary"),
    }
}

pub fn blocker_text(texts: &Texts, blocker: &Blocker) -> String {
    match blocker {
        Blocker::HardLimit(value) => checked_text(texts, value),
        Blocker::Program(error) => therapy_text(texts, error),
        Blocker::UnitMismatch { expected, entered } => texts.format(
            "blocker-unit-mismatch",
            &[
                ("expected", Arg::Text(expected.clone())),
                ("entered", Arg::Text(entered.clone())),
            ],
        ),
        Blocker::Concentration(ConcentrationProblem::NotListed { concentration }) => texts.format(
            "blocker-concentration-not-listed",
            &[("concentration", Arg::Text(concentration.clone()))],
        ),
        Blocker::Concentration(ConcentrationProblem::OutsideCustom { value, min, max }) => texts
            .format(
                "blocker-concentration-outside",
                &[
                    ("value", Arg::Text(value.clone())),
                    ("min", Arg::Text(min.clone())),
                    ("max", Arg::Text(max.clone())),
                ],
            ),
        Blocker::NotForThisEntry(mismatch) => mismatch_text(texts, mismatch),
        Blocker::UnknownCareArea(id) => texts.format(
            "blocker-unknown-care-area",
            &[("id", Arg::Text(id.clone()))],
        ),
        Blocker::UnknownEntry(id) => {
            texts.format("blocker-unknown-entry", &[("id", Arg::Text(id.clone()))])
        }
    }
}

/// Why an order from the hospital cannot be programmed, in the screen's
/// language (the hospital is answered in English: `OrderMismatch`'s text).
pub fn order_mismatch_text(texts: &Texts, mismatch: &OrderMismatch) -> String {
    let drug = |drug: &String| ("drug", Arg::Text(drug.clone()));
    match mismatch {
        OrderMismatch::NotInLibrary {
            drug: name,
            care_area,
            library,
        } => texts.format(
            "order-not-in-library",
            &[
                drug(name),
                ("care-area", Arg::Text(care_area.clone())),
                ("library", Arg::Text(library.clone())),
            ],
        ),
        OrderMismatch::FlowForDose { drug: name, unit } => texts.format(
            "order-flow-for-dose",
            &[drug(name), ("unit", Arg::Text(unit.clone()))],
        ),
        OrderMismatch::DoseForFluid { drug: name } => {
            texts.format("order-dose-for-fluid", &[drug(name)])
        }
        OrderMismatch::DoseUnit {
            drug: name,
            ordered,
            unit,
        } => texts.format(
            "order-dose-unit",
            &[
                drug(name),
                ("ordered", Arg::Text(ordered.clone())),
                ("unit", Arg::Text(unit.clone())),
            ],
        ),
        OrderMismatch::NoConcentration { drug: name, listed } => texts.format(
            "order-no-concentration",
            &[drug(name), ("listed", Arg::Text(listed.clone()))],
        ),
        OrderMismatch::Concentration {
            drug: name,
            ordered,
            listed,
        } => texts.format(
            "order-concentration-not-listed",
            &[
                drug(name),
                ("ordered", Arg::Text(ordered.clone())),
                ("listed", Arg::Text(listed.clone())),
            ],
        ),
        OrderMismatch::NoWeight { drug: name } => texts.format("order-no-weight", &[drug(name)]),
        OrderMismatch::NeedsHeight { drug: name } => {
            texts.format("order-needs-height", &[drug(name)])
        }
        OrderMismatch::NotContinuous { drug: name } => {
            texts.format("order-not-continuous", &[drug(name)])
        }
        OrderMismatch::Blocked(blockers) => {
            let reasons: Vec<String> = blockers
                .iter()
                .map(|blocker| blocker_text(texts, blocker))
                .collect();
            texts.format(
                "refused-blocked",
                &[("reasons", Arg::Text(reasons.join("; ")))],
            )
        }
    }
}

/// Why a confirmed review could not start, in the screen's language.
pub fn confirm_text(texts: &Texts, error: &ConfirmError) -> String {
    match error {
        ConfirmError::Blocked(blockers) => {
            let reasons: Vec<String> = blockers
                .iter()
                .map(|blocker| blocker_text(texts, blocker))
                .collect();
            texts.format(
                "refused-blocked",
                &[("reasons", Arg::Text(reasons.join("; ")))],
            )
        }
        ConfirmError::OverrideMissing(values) => {
            let values: Vec<String> = values
                .iter()
                .map(|value| checked_text(texts, value))
                .collect();
            texts.format(
                "refused-override-missing",
                &[("values", Arg::Text(values.join("; ")))],
            )
        }
    }
}

pub(super) fn mismatch_text(texts: &Texts, mismatch: &Mismatch) -> String {
    let drug = |id: &str, drug: &str| texts.format(id, &[("drug", Arg::Text(drug.to_owned()))]);
    let dosed = |id: &str, drug: &str, unit: &str| {
        texts.format(
            id,
            &[
                ("drug", Arg::Text(drug.to_owned())),
                ("unit", Arg::Text(unit.to_owned())),
            ],
        )
    };
    match mismatch {
        Mismatch::FluidHasNoConcentration { drug: name } => drug("mismatch-fluid", name),
        Mismatch::NeedsConcentration { drug: name } => drug("mismatch-needs-concentration", name),
        Mismatch::Continuous { drug: name, unit } => dosed("mismatch-continuous", name, unit),
        Mismatch::DoseNotRate { drug: name, unit } => dosed("mismatch-dose-not-rate", name, unit),
        Mismatch::Intermittent { drug: name, unit } => dosed("mismatch-intermittent", name, unit),
        Mismatch::NoLoadingDose { drug: name } => drug("mismatch-no-loading-dose", name),
        Mismatch::BasicHasNoDrug => texts.get("mismatch-basic-has-no-drug"),
        Mismatch::NoBolus { drug: name } => drug("mismatch-no-bolus", name),
        Mismatch::NoKeepVeinOpen { drug: name } => drug("mismatch-no-kvo", name),
        Mismatch::NoKeepVeinOpenInArea { care_area } => texts.format(
            "mismatch-no-kvo-in-area",
            &[("area", Arg::Text(care_area.clone()))],
        ),
        Mismatch::KeepVeinOpenAbove {
            care_area,
            rate,
            max,
        } => texts.format(
            "mismatch-kvo-above",
            &[
                ("area", Arg::Text(care_area.clone())),
                ("rate", Arg::Text(texts.quantity(*rate, "mL/h"))),
                ("max", Arg::Text(texts.quantity(*max, "mL/h"))),
            ],
        ),
        Mismatch::NoPca { drug: name } => drug("mismatch-no-pca", name),
        Mismatch::PcaWindow { drug: name, hours } => texts.format(
            "mismatch-pca-window",
            &[
                ("drug", Arg::Text(name.clone())),
                ("hours", Arg::Count(u64::from(*hours))),
            ],
        ),
    }
}

pub fn checked_text(texts: &Texts, value: &CheckedValue) -> String {
    format!(
        "{} {}: {}",
        texts.get(parameter_id(value.parameter)),
        texts.quantity(value.value.round_sf(4).unwrap_or(value.value), &value.unit),
        status_text(texts, value.status, &value.unit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::text::Language;
    use rust_decimal_macros::dec;

    fn mg(value: rust_decimal::Decimal) -> crate::therapy::DoseAmount {
        crate::therapy::DoseAmount {
            value,
            unit: crate::therapy::DoseAmountUnit {
                amount: crate::therapy::AmountUnit::Milligram,
                basis: crate::therapy::DoseBasis::Patient,
            },
        }
    }

    /// One of each refusal the therapy core can give.
    fn every_therapy_error() -> Vec<TherapyError> {
        let text = || "1.".to_owned();
        vec![
            TherapyError::NotANumber {
                text: String::new(),
            },
            TherapyError::NotANumber { text: text() },
            TherapyError::MissingLeadingZero { text: text() },
            TherapyError::IncompleteNumber { text: text() },
            TherapyError::TooManyDigits {
                text: text(),
                max_integer_digits: 4,
                max_decimals: 2,
            },
            TherapyError::OutOfRange {
                quantity: crate::therapy::Quantity::Rate,
                value: dec!(1200),
                min: dec!(0.1),
                max: dec!(999),
                unit: "mL/h".to_owned(),
            },
            TherapyError::FinerThanResolution {
                quantity: crate::therapy::Quantity::Rate,
                value: dec!(1.234),
                step: dec!(0.01),
                unit: "mL/h".to_owned(),
            },
            TherapyError::IncompatibleUnits {
                from: "mg",
                to: "mL",
            },
            TherapyError::UnknownUnit {
                text: "grain".to_owned(),
                allowed: "mg, mcg, g, units, mmol",
            },
            TherapyError::AboveContainer {
                volume: dec!(60),
                capacity: dec!(50),
            },
            TherapyError::NonPositiveConcentration,
            TherapyError::MissingPatientData {
                needs: PatientData::Weight,
            },
            TherapyError::MissingPatientData {
                needs: PatientData::WeightAndHeight,
            },
            TherapyError::NeedsDrug,
            TherapyError::LoadingExceedsVolume {
                vtbi: dec!(5),
                loading: dec!(10),
            },
            TherapyError::Overflow,
            TherapyError::StepCount { count: 7, max: 6 },
            TherapyError::PcaLimitBelowDemand {
                limit: mg(dec!(1)),
                demand: mg(dec!(2)),
            },
            TherapyError::PcaBasalReachesLimit {
                hours: 4,
                basal_ml: dec!(12),
                limit_ml: dec!(10),
            },
            TherapyError::PcaDemandLongerThanLockout {
                demand_ml: dec!(10),
                lockout_minutes: 2,
            },
            TherapyError::PcaOnlyPrimary,
        ]
    }

    #[test]
    fn every_therapy_refusal_is_said_in_the_screen_language() {
        let english = Texts::new(Language::English).unwrap();
        let german = Texts::new(Language::German).unwrap();
        for error in every_therapy_error() {
            let (en, de) = (
                therapy_text(&english, &error),
                therapy_text(&german, &error),
            );
            for said in [&en, &de] {
                assert!(!said.is_empty() && !said.contains('['), "{error:?}: {said}");
            }
            assert_ne!(en, de, "{error:?} is not translated");
            // The core's own English sentence never reaches a German screen.
            assert_ne!(
                de.to_lowercase(),
                error.to_string().to_lowercase(),
                "{error:?}"
            );
        }
    }

    #[test]
    fn every_blocker_is_said_in_the_screen_language() {
        let drug = || "heparin".to_owned();
        let unit = || "units/h".to_owned();
        let blockers = [
            Blocker::UnitMismatch {
                expected: "mcg/kg/min".to_owned(),
                entered: "mg/h".to_owned(),
            },
            Blocker::Concentration(ConcentrationProblem::NotListed {
                concentration: "25000 units in 500 mL".to_owned(),
            }),
            Blocker::Concentration(ConcentrationProblem::OutsideCustom {
                value: "80 units/mL".to_owned(),
                min: "10 units/mL".to_owned(),
                max: "50 units/mL".to_owned(),
            }),
            Blocker::NotForThisEntry(Mismatch::FluidHasNoConcentration { drug: drug() }),
            Blocker::NotForThisEntry(Mismatch::NeedsConcentration { drug: drug() }),
            Blocker::NotForThisEntry(Mismatch::Continuous {
                drug: drug(),
                unit: unit(),
            }),
            Blocker::NotForThisEntry(Mismatch::DoseNotRate {
                drug: drug(),
                unit: unit(),
            }),
            Blocker::NotForThisEntry(Mismatch::Intermittent {
                drug: drug(),
                unit: unit(),
            }),
            Blocker::NotForThisEntry(Mismatch::NoLoadingDose { drug: drug() }),
            Blocker::NotForThisEntry(Mismatch::BasicHasNoDrug),
            Blocker::NotForThisEntry(Mismatch::NoBolus { drug: drug() }),
            Blocker::NotForThisEntry(Mismatch::NoKeepVeinOpen { drug: drug() }),
            Blocker::NotForThisEntry(Mismatch::NoKeepVeinOpenInArea {
                care_area: "ICU".to_owned(),
            }),
            Blocker::NotForThisEntry(Mismatch::KeepVeinOpenAbove {
                care_area: "ICU".to_owned(),
                rate: dec!(5),
                max: dec!(1),
            }),
            Blocker::UnknownCareArea("nicu".to_owned()),
            Blocker::UnknownEntry("heparin-icu".to_owned()),
        ];
        let english = Texts::new(Language::English).unwrap();
        let german = Texts::new(Language::German).unwrap();
        for blocker in blockers {
            let (en, de) = (
                blocker_text(&english, &blocker),
                blocker_text(&german, &blocker),
            );
            for said in [&en, &de] {
                assert!(
                    !said.is_empty() && !said.starts_with('['),
                    "{blocker:?}: {said}"
                );
            }
            assert_ne!(en, de, "{blocker:?} is not translated");
            // The English screen says what the library's own message says.
            assert_eq!(
                en.to_lowercase(),
                blocker.to_string().to_lowercase(),
                "{blocker:?}"
            );
        }
    }
}
