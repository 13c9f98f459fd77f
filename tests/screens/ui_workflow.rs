//! The programming workflow without a screen: the same pages and inputs on
//! every platform for every program kind (DESIGN.md F1), number entry that
//! refuses what invites misreading, limits flagged as typed, hard limits
//! refused with the limit shown, soft limits confirmed one by one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use std::sync::Arc;

use common::sample_library;
use perfuse::druglib::{Bound, LimitStatus};
use perfuse::therapy::{
    Amount, AmountUnit, Concentration, Kilograms, Medication, Millilitres, Patient, RateLimits,
};
use perfuse::ui::keypad::Key;
use perfuse::ui::workflow::{Kind, Pick, Problem, Running, Step, Workflow, BASIC_ID};
use perfuse_testkit::rig::{platform_rate_limits, Platform};
use rust_decimal_macros::dec;

fn limits(platform: Platform) -> RateLimits {
    platform_rate_limits(platform).unwrap()
}

/// One input on one page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    Choose(&'static str),
    Type(&'static str),
}

fn type_text(workflow: &mut Workflow, text: &str) {
    workflow.press(Key::Clear).unwrap();
    for character in text.chars() {
        let key = match character {
            '.' => Key::Point,
            digit => Key::Digit(digit.to_digit(10).unwrap() as u8),
        };
        workflow.press(key).unwrap();
    }
}

/// Walks `inputs`, returning the pages seen with the input given on each,
/// and the workflow at its review.
fn walk(mut workflow: Workflow, inputs: &[Input]) -> (Vec<(Step, Input)>, Workflow) {
    let mut seen = Vec::new();
    for input in inputs {
        seen.push((workflow.step(), input.clone()));
        match input {
            Input::Choose(id) => workflow.choose(id).unwrap(),
            Input::Type(text) => {
                type_text(&mut workflow, text);
                workflow
                    .accept()
                    .unwrap_or_else(|problem| panic!("{:?}: {problem:?}", workflow.step()));
            }
        }
    }
    assert_eq!(workflow.step(), Step::Review, "{seen:?}");
    (seen, workflow)
}

fn heparin_running() -> Running {
    Running {
        care_area: "icu".to_owned(),
        drug: Pick::Entry("heparin".to_owned()),
        medication: Medication::Drug {
            concentration: Concentration {
                amount: Amount::new(dec!(25000), AmountUnit::Unit),
                volume: Millilitres::new(dec!(250)),
            },
            patient: Patient::with_weight(Kilograms::new(dec!(80))),
        },
        dose: dec!(18),
        remaining: Millilitres::new(dec!(40)),
    }
}

/// Every program kind, as a nurse enters it: volumes a 50 mL syringe holds,
/// so the same inputs serve both platforms.
fn scripts() -> Vec<(&'static str, Kind, Option<Running>, Vec<Input>)> {
    use Input::{Choose, Type};
    vec![
        (
            "basic rate",
            Kind::Primary,
            None,
            vec![Choose("icu"), Choose(BASIC_ID), Type("125"), Type("50")],
        ),
        (
            "continuous drug per kg",
            Kind::Primary,
            None,
            vec![
                Choose("icu"),
                Choose("norepinephrine"),
                Choose("0"),
                Type("0.1"),
                Type("70"),
                Type("50"),
            ],
        ),
        (
            "loading then maintenance",
            Kind::Primary,
            None,
            vec![
                Choose("icu"),
                Choose("amiodarone"),
                Choose("0"),
                Choose("loading-yes"),
                Type("75"),
                Type("10"),
                Type("1"),
                Type("50"),
            ],
        ),
        (
            "intermittent dose",
            Kind::Primary,
            None,
            vec![
                Choose("icu"),
                Choose("vancomycin"),
                Choose("0"),
                Type("250"),
                Type("60"),
            ],
        ),
        (
            "secondary",
            Kind::Secondary,
            Some(heparin_running()),
            vec![Choose("vancomycin"), Choose("0"), Type("1000"), Type("60")],
        ),
        (
            "bolus",
            Kind::Bolus,
            Some(heparin_running()),
            vec![Type("80"), Type("10")],
        ),
        (
            "titration",
            Kind::Titration,
            Some(heparin_running()),
            vec![Type("20")],
        ),
    ]
}

fn start(kind: Kind, running: Option<Running>, platform: Platform) -> Workflow {
    let library = Arc::new(sample_library());
    match running {
        None => Workflow::primary(library, limits(platform), None),
        Some(running) => Workflow::on_running(library, limits(platform), kind, running),
    }
}

#[test]
fn every_program_kind_walks_the_same_pages_on_every_platform() {
    for (name, kind, running, inputs) in scripts() {
        let mut walks = Vec::new();
        for platform in [Platform::Syringe50, Platform::Volumetric] {
            let (seen, workflow) = walk(start(kind, running.clone(), platform), &inputs);
            let review = workflow.review().unwrap();
            assert!(
                review.blockers.is_empty(),
                "{name} on {platform:?}: {:?}",
                review.blockers
            );
            let confirmed = workflow.confirm(&review.overrides_needed()).unwrap();
            assert!(!confirmed.plan.segments.is_empty(), "{name}");
            walks.push(seen);
        }
        assert_eq!(
            walks[0], walks[1],
            "{name}: the pages differ between platforms"
        );
    }
}

#[test]
fn each_kind_asks_for_what_it_needs() {
    let pages = |name: &str| {
        let (_, kind, running, inputs) = scripts()
            .into_iter()
            .find(|script| script.0 == name)
            .unwrap();
        let (seen, _) = walk(start(kind, running, Platform::Volumetric), &inputs);
        seen.into_iter().map(|(step, _)| step).collect::<Vec<_>>()
    };
    use Step::*;
    assert_eq!(pages("basic rate"), [CareArea, Drug, Dose, Volume]);
    assert_eq!(
        pages("continuous drug per kg"),
        [CareArea, Drug, Concentration, Dose, Weight, Volume]
    );
    assert_eq!(
        pages("loading then maintenance"),
        [
            CareArea,
            Drug,
            Concentration,
            Loading,
            LoadingDose,
            LoadingDuration,
            Dose,
            Volume
        ]
    );
    assert_eq!(
        pages("intermittent dose"),
        [CareArea, Drug, Concentration, Dose, Duration]
    );
    // The secondary's patient is the primary's: no second weight entry.
    assert_eq!(pages("secondary"), [Drug, Concentration, Dose, Duration]);
    assert_eq!(pages("bolus"), [Dose, Duration]);
    assert_eq!(pages("titration"), [Dose]);
}

#[test]
fn limits_are_flagged_as_typed_and_hard_limits_refused_with_the_limit() {
    let mut workflow = start(Kind::Primary, None, Platform::Volumetric);
    workflow.choose("icu").unwrap();
    workflow.choose("norepinephrine").unwrap();
    workflow.choose("0").unwrap();
    assert_eq!(workflow.step(), Step::Dose);
    assert_eq!(workflow.field().unwrap().unit, "mcg/kg/min");
    type_text(&mut workflow, "0.4");
    assert_eq!(workflow.typed_status(), Some(LimitStatus::Within));
    type_text(&mut workflow, "0.6");
    assert_eq!(
        workflow.typed_status(),
        Some(LimitStatus::BeyondSoft {
            bound: Bound::Maximum,
            limit: dec!(0.5)
        })
    );
    type_text(&mut workflow, "4");
    let hard = LimitStatus::BeyondHard {
        bound: Bound::Maximum,
        limit: dec!(3),
    };
    assert_eq!(workflow.typed_status(), Some(hard));
    assert_eq!(
        workflow.accept(),
        Err(Problem::HardLimit {
            status: hard,
            unit: "mcg/kg/min".to_owned()
        })
    );
    assert_eq!(
        workflow.step(),
        Step::Dose,
        "a refused value does not move on"
    );
    // "5." is not accepted half-way.
    type_text(&mut workflow, "5.");
    assert!(matches!(workflow.accept(), Err(Problem::Entry(_))));
    assert_eq!(workflow.step(), Step::Dose);
}

#[test]
fn a_soft_limit_needs_its_override_on_the_review() {
    let mut workflow = start(Kind::Primary, None, Platform::Syringe50);
    for id in ["icu", "norepinephrine", "0"] {
        workflow.choose(id).unwrap();
    }
    for text in ["0.6", "70", "50"] {
        type_text(&mut workflow, text);
        workflow.accept().unwrap();
    }
    let review = workflow.review().unwrap();
    assert!(review.blockers.is_empty());
    let needed = review.overrides_needed();
    assert_eq!(needed.len(), 1);
    assert!(
        workflow.confirm(&[]).is_err(),
        "no start without the override"
    );
    let confirmed = workflow.confirm(&needed).unwrap();
    assert_eq!(confirmed.overrides, needed);
}

#[test]
fn going_back_keeps_answers_and_a_new_drug_forgets_its_dose() {
    let mut workflow = start(Kind::Primary, None, Platform::Volumetric);
    workflow.choose("icu").unwrap();
    workflow.choose(BASIC_ID).unwrap();
    type_text(&mut workflow, "125");
    workflow.accept().unwrap();
    assert_eq!(workflow.step(), Step::Volume);
    assert!(workflow.back());
    assert_eq!(
        workflow.entry().text(),
        "125",
        "the typed rate is shown again"
    );
    assert!(workflow.back());
    assert_eq!(workflow.chosen().as_deref(), Some(BASIC_ID));
    workflow.choose("norepinephrine").unwrap();
    workflow.choose("0").unwrap();
    assert_eq!(
        workflow.entry().text(),
        "",
        "a dose for another drug is not carried over"
    );
    assert!(workflow.back() && workflow.back() && workflow.back());
    assert!(!workflow.back(), "the first page has nothing before it");
}

#[test]
fn the_drug_list_is_searchable_and_keeps_tall_man_names() {
    let mut workflow = start(Kind::Primary, None, Platform::Volumetric);
    workflow.choose("icu").unwrap();
    workflow.set_search("dop");
    let names: Vec<String> = workflow
        .choices()
        .iter()
        .filter_map(|choice| match choice {
            perfuse::ui::workflow::Choice::Drug { display_name, .. } => Some(display_name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["DOPamine"]);
    assert_eq!(
        workflow.choose("not-a-drug"),
        Err(Problem::UnknownChoice("not-a-drug".to_owned()))
    );
}

#[test]
fn a_basic_rate_is_capped_by_the_platform_and_care_area() {
    let mut workflow = start(Kind::Primary, None, Platform::Volumetric);
    workflow.choose("icu").unwrap();
    workflow.choose(BASIC_ID).unwrap();
    type_text(&mut workflow, "1000");
    assert!(matches!(workflow.accept(), Err(Problem::Entry(_))));
    type_text(&mut workflow, "0.05");
    assert!(workflow.accept().is_err());
    assert_eq!(workflow.step(), Step::Dose);
}

#[test]
fn no_volume_above_what_the_loaded_syringe_holds() {
    let volume_step = |platform: Platform| {
        let mut workflow = start(Kind::Primary, None, platform);
        workflow.choose("icu").unwrap();
        workflow.choose(BASIC_ID).unwrap();
        type_text(&mut workflow, "10");
        workflow.accept().unwrap();
        assert_eq!(workflow.step(), Step::Volume);
        type_text(&mut workflow, "60");
        workflow
    };
    // The 50 mL syringe: flagged as typed and refused with the limit.
    let mut syringe = volume_step(Platform::Syringe50);
    assert!(matches!(
        syringe.accept(),
        Err(Problem::HardLimit {
            status: LimitStatus::BeyondHard {
                bound: Bound::Maximum,
                ..
            },
            ..
        })
    ));
    assert_eq!(syringe.step(), Step::Volume, "nothing accepted");
    // A bag on the volumetric pump holds more.
    let mut volumetric = volume_step(Platform::Volumetric);
    volumetric.accept().unwrap();
    assert_eq!(volumetric.step(), Step::Review);
}
