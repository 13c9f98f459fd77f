//! The classic programming slips, for every entry of the sample library:
//! 10x and 100x decimal-point slips (both ways), a dose typed into the rate
//! field, and wrong units. Each must be caught by a soft or hard limit (or
//! refused outright), while the correct program passes: a test of the limits
//! that could not fail would show nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use common::{all_entries, patient_for, program_for, sample_library};
use perfuse::druglib::model::{DosingUnit, Entry};
use perfuse::druglib::{review, Blocker, DrugChoice, Review};
use perfuse::therapy::{
    AmountFamily, AmountUnit, Delivery, DoseAmountUnit, DoseBasis, DoseRate, DoseRateUnit,
    Millilitres, MillilitresPerHour, Program, RateLimits, TimeBase,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn check(area: &str, entry: &Entry, program: &Program) -> Review {
    review(
        &sample_library(),
        area,
        DrugChoice::Entry(&entry.id),
        program,
        &RateLimits::ANY_PLATFORM,
    )
}

fn describe(review: &Review) -> String {
    format!("values {:?}\nblockers {:?}", review.values, review.blockers)
}

#[test]
fn the_sample_library_has_enough_entries_to_matter() {
    let library = sample_library();
    let entries = all_entries(&library);
    assert!(entries.len() >= 25, "only {} entries", entries.len());
    for area in ["icu", "med-surg", "pediatrics", "oncology"] {
        assert!(
            entries.iter().any(|(id, _)| id == area),
            "no {area} care area"
        );
    }
}

#[test]
fn the_correct_default_program_passes_for_every_entry() {
    for (area, entry) in all_entries(&sample_library()) {
        let result = check(
            &area,
            &entry,
            &program_for(&entry, &area, entry.dose.default),
        );
        assert!(
            result.is_within_limits(),
            "{area}/{}: {}",
            entry.id,
            describe(&result)
        );
    }
}

#[test]
fn ten_and_hundred_fold_overdose_slips_are_caught_for_every_entry() {
    for (area, entry) in all_entries(&sample_library()) {
        for factor in [dec!(10), dec!(100)] {
            let slipped = entry.dose.default * factor;
            let result = check(&area, &entry, &program_for(&entry, &area, slipped));
            assert!(
                result.is_caught(),
                "{area}/{} x{factor} = {slipped} passed: {}",
                entry.id,
                describe(&result)
            );
        }
    }
}

#[test]
fn hundred_fold_overdose_slips_hit_a_hard_limit_for_every_entry() {
    for (area, entry) in all_entries(&sample_library()) {
        let result = check(
            &area,
            &entry,
            &program_for(&entry, &area, entry.dose.default * dec!(100)),
        );
        assert!(
            !result.blockers.is_empty(),
            "{area}/{} x100 only soft: {}",
            entry.id,
            describe(&result)
        );
    }
}

#[test]
fn ten_and_hundred_fold_underdose_slips_are_caught_for_every_drug() {
    for (area, entry) in all_entries(&sample_library()) {
        if entry.dose.unit == DosingUnit::Flow {
            continue; // a fluid at a tenth of its rate is not a drug dosing error
        }
        assert!(
            entry.dose.soft_min.is_some(),
            "{area}/{} has no soft minimum",
            entry.id
        );
        for factor in [dec!(10), dec!(100)] {
            let slipped = entry.dose.default / factor;
            let result = check(&area, &entry, &program_for(&entry, &area, slipped));
            assert!(
                result.is_caught(),
                "{area}/{} /{factor} = {slipped} passed: {}",
                entry.id,
                describe(&result)
            );
        }
    }
}

#[test]
fn a_dose_typed_into_the_rate_field_is_refused_for_every_drug() {
    for (area, entry) in all_entries(&sample_library()) {
        let mut program = program_for(&entry, &area, entry.dose.default);
        if entry.dose.unit == DosingUnit::Flow {
            continue; // a fluid's dose is its rate: there is no other field to confuse
        }
        program.delivery = Delivery::Rate {
            rate: MillilitresPerHour::new(entry.dose.default),
            volume: Millilitres::new(entry.max_vtbi_ml),
        };
        let result = check(&area, &entry, &program);
        assert!(
            result
                .blockers
                .iter()
                .any(|blocker| matches!(blocker, Blocker::NotForThisEntry(_))),
            "{area}/{}: {}",
            entry.id,
            describe(&result)
        );
    }
}

/// Factors by which a value meant in a neighbouring unit is off when typed
/// into this entry's dose field: mcg for mg, per hour for per minute, a total
/// for a per-kg or per-m² dose...
fn unit_confusion_factors(entry: &Entry, area: &str) -> Vec<(String, Decimal)> {
    let mut factors = Vec::new();
    let (amount, basis, per) = match entry.dose.unit {
        DosingUnit::Flow => return factors,
        DosingUnit::Rate(unit) => (unit.amount, unit.basis, Some(unit.per)),
        DosingUnit::Amount(unit) => (unit.amount, unit.basis, None),
    };
    if matches!(amount.family(), AmountFamily::Mass | AmountFamily::Units) {
        factors.push(("a thousandfold unit".to_owned(), dec!(1000)));
        factors.push(("a thousandth unit".to_owned(), dec!(0.001)));
    }
    match per {
        Some(TimeBase::PerMinute) => {
            factors.push(("per hour typed as per minute".to_owned(), dec!(60)))
        }
        Some(TimeBase::PerHour) => factors.push((
            "per minute typed as per hour".to_owned(),
            dec!(1) / dec!(60),
        )),
        None => {}
    }
    let patient = patient_for(area);
    match basis {
        DoseBasis::Patient => {}
        DoseBasis::PerKilogram => factors.push((
            "a total typed as per kg".to_owned(),
            patient.weight.unwrap().value(),
        )),
        DoseBasis::PerSquareMetre => factors.push((
            "a total typed as per m²".to_owned(),
            patient.body_surface_area().unwrap().value(),
        )),
    }
    factors
}

#[test]
fn a_value_meant_in_another_unit_is_caught_for_every_drug() {
    let mut checked = 0;
    for (area, entry) in all_entries(&sample_library()) {
        for (confusion, factor) in unit_confusion_factors(&entry, &area) {
            let slipped = (entry.dose.default * factor).round_dp(4);
            let result = check(&area, &entry, &program_for(&entry, &area, slipped));
            assert!(
                result.is_caught(),
                "{area}/{} {confusion}: {slipped} passed: {}",
                entry.id,
                describe(&result)
            );
            checked += 1;
        }
    }
    assert!(checked >= 90, "only {checked} unit confusions checked");
}

/// The same dose unit with one part changed: another amount unit of the
/// family, the other time base, another basis.
fn other_rate_units(unit: DoseRateUnit) -> Vec<DoseRateUnit> {
    let mut others: Vec<DoseRateUnit> = AmountUnit::ALL
        .into_iter()
        .filter(|amount| *amount != unit.amount)
        .map(|amount| DoseRateUnit { amount, ..unit })
        .collect();
    let per = match unit.per {
        TimeBase::PerMinute => TimeBase::PerHour,
        TimeBase::PerHour => TimeBase::PerMinute,
    };
    others.push(DoseRateUnit { per, ..unit });
    for basis in [
        DoseBasis::Patient,
        DoseBasis::PerKilogram,
        DoseBasis::PerSquareMetre,
    ] {
        if basis != unit.basis {
            others.push(DoseRateUnit { basis, ..unit });
        }
    }
    others
}

#[test]
fn a_dose_entered_in_the_wrong_unit_is_refused_for_every_drug() {
    let mut checked = 0;
    for (area, entry) in all_entries(&sample_library()) {
        let program = program_for(&entry, &area, entry.dose.default);
        let variants: Vec<Program> = match (entry.dose.unit, program.delivery) {
            (DosingUnit::Rate(unit), Delivery::Dose { dose, volume }) => other_rate_units(unit)
                .into_iter()
                .map(|unit| Program {
                    delivery: Delivery::Dose {
                        dose: DoseRate { unit, ..dose },
                        volume,
                    },
                    ..program
                })
                .collect(),
            (DosingUnit::Amount(unit), Delivery::AmountOverTime { amount, duration }) => {
                AmountUnit::ALL
                    .into_iter()
                    .filter(|other| *other != unit.amount)
                    .map(|other| {
                        let amount = perfuse::therapy::DoseAmount {
                            unit: DoseAmountUnit {
                                amount: other,
                                ..unit
                            },
                            ..amount
                        };
                        Program {
                            delivery: Delivery::AmountOverTime { amount, duration },
                            ..program
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        for variant in variants {
            let result = check(&area, &entry, &variant);
            assert!(
                !result.blockers.is_empty(),
                "{area}/{} accepted {:?}",
                entry.id,
                variant.delivery
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} wrong units checked");
}

#[test]
fn a_hard_limit_block_names_the_limit() {
    let library = sample_library();
    let area = "icu";
    let heparin = library.file.care_areas[0]
        .entries
        .iter()
        .find(|entry| entry.id == "heparin")
        .unwrap()
        .clone();
    let result = check(area, &heparin, &program_for(&heparin, area, dec!(180)));
    let messages: Vec<String> = result.blockers.iter().map(ToString::to_string).collect();
    assert!(
        messages.iter().any(|message| message
            == "dose rate 180 units/kg/h is above the hard maximum of 40 units/kg/h"),
        "{messages:?}"
    );
}
