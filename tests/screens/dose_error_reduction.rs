//! Dose-error reduction behaviour: soft limits need an explicit override that
//! records value and limit; hard limits block and show the limit; custom
//! concentrations stay in bounds; basic infusions run outside the library,
//! capped; loading doses, boluses and secondaries are checked too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use common::{drug, sample_library};
use perfuse::druglib::{
    confirm, review, review_bolus, review_secondary, Blocker, Bound, ConfirmError, DrugChoice,
    LimitStatus, Override, Parameter,
};
use perfuse::therapy::{
    Amount, AmountUnit, BolusRequest, Delivery, DoseAmount, DoseRate, EndOfInfusion,
    InfusionDuration, Medication, Millilitres, MillilitresPerHour, PlanEnd, Program, RateLimits,
    SecondaryProgram,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn norepinephrine(dose: Decimal) -> Program {
    Program {
        medication: drug(dec!(4), AmountUnit::Milligram, dec!(250), "icu"),
        delivery: Delivery::Dose {
            dose: DoseRate {
                value: dose,
                unit: "mcg/kg/min".parse().unwrap(),
            },
            volume: Millilitres::new(dec!(250)),
        },
        end: EndOfInfusion::Stop,
    }
}

fn check(program: &Program) -> perfuse::druglib::Review {
    review(
        &sample_library(),
        "icu",
        DrugChoice::Entry("norepinephrine"),
        program,
        &RateLimits::ANY_PLATFORM,
    )
}

#[test]
fn within_limits_confirms_without_overrides() {
    let confirmed = confirm(check(&norepinephrine(dec!(0.1))), &[]).unwrap();
    // 0.1 mcg/kg/min x 70 kg x 60 / 16 mcg/mL = 26.25 mL/h, rounded onto the 0.1 grid.
    assert_eq!(
        confirmed.plan.segments[0].rate,
        MillilitresPerHour::new(dec!(26.3))
    );
    assert!(confirmed.overrides.is_empty());
    assert!(!confirmed.review.outside_library());
}

#[test]
fn beyond_a_soft_limit_needs_an_override_naming_value_and_limit() {
    let review = check(&norepinephrine(dec!(0.8)));
    assert!(review.blockers.is_empty());
    let soft: Vec<_> = review.soft_findings().cloned().collect();
    assert_eq!(soft.len(), 1);
    assert_eq!(soft[0].parameter, Parameter::DoseRate);
    assert_eq!(
        soft[0].status,
        LimitStatus::BeyondSoft {
            bound: Bound::Maximum,
            limit: dec!(0.5)
        }
    );
    assert_eq!(
        soft[0].to_string(),
        "dose rate 0.8 mcg/kg/min is above the soft maximum of 0.5 mcg/kg/min"
    );

    let missing = confirm(review.clone(), &[]).unwrap_err();
    assert!(matches!(missing, ConfirmError::OverrideMissing(_)));
    assert!(
        missing
            .to_string()
            .contains("confirm each value beyond a soft limit"),
        "{missing}"
    );

    // An override given for another value does not carry over.
    let stale = Override {
        parameter: Parameter::DoseRate,
        bound: Bound::Maximum,
        limit: dec!(0.5),
        value: dec!(0.7),
    };
    assert!(confirm(review.clone(), &[stale]).is_err());

    let overrides = review.overrides_needed();
    let confirmed = confirm(review, &overrides).unwrap();
    assert_eq!(
        confirmed.overrides,
        vec![Override {
            parameter: Parameter::DoseRate,
            bound: Bound::Maximum,
            limit: dec!(0.5),
            value: dec!(0.8)
        }]
    );
}

#[test]
fn beyond_a_hard_limit_cannot_be_overridden() {
    // 3.2 mcg/kg/min x 70 kg x 60 / 16 mcg/mL = 840 mL/h exactly.
    let review = check(&norepinephrine(dec!(3.2)));
    assert!(
        matches!(&review.blockers[0], Blocker::HardLimit(value) if value.to_string()
        == "dose rate 3.2 mcg/kg/min is above the hard maximum of 3 mcg/kg/min")
    );
    // 5 mcg/kg/min needs 1312.5 mL/h, beyond any pump: both the rate and the dose limit are named.
    let beyond_pump = check(&norepinephrine(dec!(5)));
    let messages = beyond_pump
        .blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert!(
        messages.contains(
            &"dose rate 5 mcg/kg/min is above the hard maximum of 3 mcg/kg/min".to_owned()
        ),
        "{messages:?}"
    );
    let overrides = review.overrides_needed();
    assert!(matches!(
        confirm(review, &overrides),
        Err(ConfirmError::Blocked(_))
    ));
}

#[test]
fn below_a_soft_minimum_is_flagged_too() {
    let review = check(&norepinephrine(dec!(0.01)));
    assert!(review.values.iter().any(|value| value.status
        == LimitStatus::BeyondSoft {
            bound: Bound::Minimum,
            limit: dec!(0.02)
        }));
}

#[test]
fn a_concentration_not_in_the_library_is_blocked() {
    let mut program = norepinephrine(dec!(0.1));
    if let Medication::Drug { concentration, .. } = &mut program.medication {
        concentration.amount = Amount::new(dec!(5), AmountUnit::Milligram);
    }
    let review = check(&program);
    assert!(
        review
            .blockers
            .iter()
            .any(|blocker| matches!(blocker, Blocker::Concentration(_))),
        "{:?}",
        review.blockers
    );
}

fn vancomycin(amount_mg: Decimal, volume_ml: Decimal) -> Program {
    Program {
        medication: drug(amount_mg, AmountUnit::Milligram, volume_ml, "icu"),
        delivery: Delivery::AmountOverTime {
            amount: DoseAmount {
                value: dec!(1000),
                unit: "mg".parse().unwrap(),
            },
            duration: InfusionDuration::from_minutes(60),
        },
        end: EndOfInfusion::Stop,
    }
}

#[test]
fn custom_concentrations_must_stay_within_bounds() {
    let library = sample_library();
    let ok = review(
        &library,
        "icu",
        DrugChoice::Entry("vancomycin"),
        &vancomycin(dec!(1250), dec!(250)),
        &RateLimits::ANY_PLATFORM,
    );
    assert!(ok.is_within_limits(), "{:?}", ok.blockers);
    let too_strong = review(
        &library,
        "icu",
        DrugChoice::Entry("vancomycin"),
        &vancomycin(dec!(2000), dec!(200)),
        &RateLimits::ANY_PLATFORM,
    );
    let message = too_strong
        .blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    assert!(
        message
            .contains("custom concentration 10 mg/mL is outside the allowed 2.5 mg/mL to 5 mg/mL"),
        "{message}"
    );
}

#[test]
fn an_intermittent_dose_faster_than_its_minimum_time_is_blocked() {
    let mut program = vancomycin(dec!(1000), dec!(200));
    program.delivery = Delivery::AmountOverTime {
        amount: DoseAmount {
            value: dec!(1000),
            unit: "mg".parse().unwrap(),
        },
        duration: InfusionDuration::from_minutes(20),
    };
    let result = review(
        &sample_library(),
        "icu",
        DrugChoice::Entry("vancomycin"),
        &program,
        &RateLimits::ANY_PLATFORM,
    );
    let message = result
        .blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    assert!(
        message.contains("duration 20 min is below the hard minimum of 60 min"),
        "{message}"
    );
}

#[test]
fn a_basic_infusion_runs_outside_the_library_capped_by_platform_and_care_area() {
    let basic = |rate: Decimal| Program {
        medication: Medication::Basic,
        delivery: Delivery::Rate {
            rate: MillilitresPerHour::new(rate),
            volume: Millilitres::new(dec!(1000)),
        },
        // The care area's KVO rate (med-surg: 3 mL/h; above it is refused).
        end: EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3)),
        },
    };
    let library = sample_library();
    let ok = review(
        &library,
        "med-surg",
        DrugChoice::Basic,
        &basic(dec!(125)),
        &RateLimits::ANY_PLATFORM,
    );
    assert!(ok.is_within_limits() && ok.outside_library());
    let confirmed = confirm(ok, &[]).unwrap();
    assert_eq!(
        confirmed.plan.end,
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3))
        }
    );

    let pediatric = review(
        &library,
        "pediatrics",
        DrugChoice::Basic,
        &basic(dec!(300)),
        &RateLimits::ANY_PLATFORM,
    );
    assert_eq!(
        pediatric.blockers[0].to_string(),
        "rate 300 mL/h is out of range: allowed 0.1 to 250 mL/h"
    );

    let syringe = RateLimits {
        min: MillilitresPerHour::new(dec!(0.1)),
        max: MillilitresPerHour::new(dec!(200)),
        container: None,
    };
    let capped = review(
        &library,
        "icu",
        DrugChoice::Basic,
        &basic(dec!(250)),
        &syringe,
    );
    assert_eq!(
        capped.blockers[0].to_string(),
        "rate 250 mL/h is out of range: allowed 0.1 to 200 mL/h"
    );

    let drug_as_basic = review(
        &library,
        "icu",
        DrugChoice::Basic,
        &norepinephrine(dec!(0.1)),
        &RateLimits::ANY_PLATFORM,
    );
    assert!(!drug_as_basic.blockers.is_empty());
}

fn magnesium(loading_g: Decimal, loading_minutes: u32) -> Program {
    Program {
        medication: drug(dec!(20), AmountUnit::Gram, dec!(500), "labor-delivery"),
        delivery: Delivery::LoadingThenMaintenance {
            loading: DoseAmount {
                value: loading_g,
                unit: "g".parse().unwrap(),
            },
            loading_duration: InfusionDuration::from_minutes(loading_minutes),
            maintenance: DoseRate {
                value: dec!(2),
                unit: "g/h".parse().unwrap(),
            },
            volume: Millilitres::new(dec!(500)),
        },
        end: EndOfInfusion::Stop,
    }
}

#[test]
fn loading_doses_are_checked_for_amount_and_time() {
    let library = sample_library();
    let check = |program: &Program| {
        review(
            &library,
            "labor-delivery",
            DrugChoice::Entry("magnesium-sulfate"),
            program,
            &RateLimits::ANY_PLATFORM,
        )
    };
    let ok = check(&magnesium(dec!(4), 20));
    assert!(ok.is_within_limits(), "{:?} {:?}", ok.values, ok.blockers);
    assert_eq!(ok.plan.as_ref().unwrap().segments.len(), 2);
    assert!(check(&magnesium(dec!(8), 20))
        .blockers
        .iter()
        .any(|b| b.to_string().contains("loading dose 8 g")));
    assert!(check(&magnesium(dec!(4), 10))
        .blockers
        .iter()
        .any(|b| b.to_string().contains("duration 10 min")));
    // Too fast for the pump at all: the rate is refused, and the dose still shown against its limits.
    let too_fast = check(&magnesium(dec!(8), 5));
    let messages = too_fast
        .blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    assert!(
        messages.contains("rate 2400 mL/h is out of range"),
        "{messages}"
    );
    assert!(
        messages.contains("loading dose 8 g is above the hard maximum of 6 g"),
        "{messages}"
    );
    // An entry without a loading dose refuses one.
    let heparin_loading = review(
        &library,
        "icu",
        DrugChoice::Entry("norepinephrine"),
        &Program {
            delivery: Delivery::LoadingThenMaintenance {
                loading: DoseAmount {
                    value: dec!(1),
                    unit: "mg".parse().unwrap(),
                },
                loading_duration: InfusionDuration::from_minutes(10),
                maintenance: DoseRate {
                    value: dec!(0.1),
                    unit: "mcg/kg/min".parse().unwrap(),
                },
                volume: Millilitres::new(dec!(250)),
            },
            ..norepinephrine(dec!(0.1))
        },
        &RateLimits::ANY_PLATFORM,
    );
    assert!(heparin_loading
        .blockers
        .iter()
        .any(|b| b.to_string().contains("no loading dose")));
}

#[test]
fn boluses_are_checked_against_the_entry() {
    let library = sample_library();
    let heparin = drug(dec!(25000), AmountUnit::Unit, dec!(250), "icu");
    let bolus = |units_per_kg: Decimal| BolusRequest::Dose {
        amount: DoseAmount {
            value: units_per_kg,
            unit: "units/kg".parse().unwrap(),
        },
        duration: InfusionDuration::from_minutes(5),
    };
    let check = |request: &BolusRequest| {
        review_bolus(
            &library,
            "icu",
            "heparin",
            &heparin,
            request,
            &RateLimits::ANY_PLATFORM,
        )
    };
    let ok = check(&bolus(dec!(80)));
    assert!(ok.is_within_limits(), "{:?} {:?}", ok.values, ok.blockers);
    // 80 units/kg x 70 kg = 5600 units = 56 mL over 5 min = 672 mL/h.
    assert_eq!(
        ok.plan.unwrap().segments[0].rate,
        MillilitresPerHour::new(dec!(672))
    );
    assert!(check(&bolus(dec!(90))).soft_findings().count() == 1);
    assert!(!check(&bolus(dec!(800))).blockers.is_empty());
    // A bolus typed as a volume is judged by the dose it holds: 80 mL = 114 units/kg.
    let by_volume = check(&BolusRequest::Volume {
        volume: Millilitres::new(dec!(80)),
        duration: InfusionDuration::from_minutes(10),
    });
    assert!(!by_volume.blockers.is_empty(), "{:?}", by_volume.values);
    // An entry without a bolus allows none.
    let norepinephrine_bolus = review_bolus(
        &library,
        "icu",
        "norepinephrine",
        &norepinephrine(dec!(0.1)).medication,
        &BolusRequest::Volume {
            volume: Millilitres::new(dec!(5)),
            duration: InfusionDuration::from_minutes(1),
        },
        &RateLimits::ANY_PLATFORM,
    );
    assert!(!norepinephrine_bolus.blockers.is_empty());
}

#[test]
fn secondary_infusions_are_checked_and_hand_back() {
    let secondary = SecondaryProgram {
        medication: vancomycin(dec!(1000), dec!(200)).medication,
        delivery: vancomycin(dec!(1000), dec!(200)).delivery,
    };
    let result = review_secondary(
        &sample_library(),
        "icu",
        DrugChoice::Entry("vancomycin"),
        &secondary,
        &RateLimits::ANY_PLATFORM,
    );
    assert!(result.is_within_limits(), "{:?}", result.blockers);
    let plan = result.plan.unwrap();
    assert_eq!(plan.end, PlanEnd::ResumePrimary);
    assert_eq!(plan.segments[0].rate, MillilitresPerHour::new(dec!(200)));
}

#[test]
fn unknown_care_areas_and_entries_are_named() {
    let library = sample_library();
    let program = norepinephrine(dec!(0.1));
    let result = review(
        &library,
        "nicu",
        DrugChoice::Entry("norepinephrine"),
        &program,
        &RateLimits::ANY_PLATFORM,
    );
    assert_eq!(
        result.blockers[0].to_string(),
        "care area \"nicu\" is not in the active drug library"
    );
    let result = review(
        &library,
        "icu",
        DrugChoice::Entry("noradrenaline"),
        &program,
        &RateLimits::ANY_PLATFORM,
    );
    assert_eq!(
        result.blockers[0].to_string(),
        "entry \"noradrenaline\" is not in this care area of the active drug library"
    );
}
