//! The end of a program (stop, or keep the vein open within the care
//! area's, the entry's and the platform's rules) and a fluid given as a
//! volume over a time: in the workflow, in the drug library's review, and
//! through the window on both platforms, run to the end on the mechanism.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use perfuse::control::api::Mode;
use perfuse::control::units::{Nanolitres, NanolitresPerHour};
use perfuse::druglib::{review, Blocker, DrugChoice, Mismatch};
use perfuse::therapy::{
    Delivery, EndOfInfusion, InfusionDuration, Medication, Millilitres, MillilitresPerHour,
    PlanEnd, Program,
};
use perfuse::ui::keypad::Key;
use perfuse::ui::text::Language;
use perfuse::ui::workflow::{RateBy, Step, Workflow, BASIC_ID};
use perfuse_testkit::library::sample_library;
use perfuse_testkit::rig::{platform_rate_limits, Platform};
use perfuse_testkit::window::Ui;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::ui_window::rows_have;

fn workflow_in(area: &str, platform: Platform) -> Workflow {
    Workflow::primary(
        Arc::new(sample_library()),
        platform_rate_limits(platform).unwrap(),
        Some(area),
    )
}

fn type_and_accept(workflow: &mut Workflow, text: &str) {
    workflow.press(Key::Clear).unwrap();
    for character in text.chars() {
        workflow
            .press(match character {
                '.' => Key::Point,
                digit => Key::Digit(digit.to_digit(10).unwrap() as u8),
            })
            .unwrap();
    }
    workflow
        .accept()
        .unwrap_or_else(|problem| panic!("{:?} {text}: {problem:?}", workflow.step()));
}

fn plan_end(workflow: &Workflow) -> PlanEnd {
    let review = workflow.review().unwrap();
    assert!(review.blockers.is_empty(), "{:?}", review.blockers);
    review.plan.unwrap().end
}

#[test]
fn the_end_is_chosen_on_the_review_within_the_care_area_and_entry_rules() {
    // A basic infusion in the ICU may keep the vein open at the ICU's 1 mL/h;
    // it stops unless the nurse chooses KVO.
    let mut basic = workflow_in("icu", Platform::Volumetric);
    basic.choose(BASIC_ID).unwrap();
    type_and_accept(&mut basic, "25");
    type_and_accept(&mut basic, "100");
    let options = basic.end_options().unwrap();
    assert_eq!(options.kvo_rate, MillilitresPerHour::new(dec!(1)));
    assert!(!options.keep_vein_open);
    assert_eq!(plan_end(&basic), PlanEnd::Stop);
    basic.set_keep_vein_open(true).unwrap();
    assert_eq!(
        plan_end(&basic),
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(1))
        }
    );
    // Kept for a resume with the end chosen.
    assert_eq!(
        basic.program().unwrap().end,
        EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(1))
        }
    );
    basic.set_keep_vein_open(false).unwrap();
    assert_eq!(plan_end(&basic), PlanEnd::Stop);

    // A vasopressor never keeps the vein open: its KVO flow would go on
    // dosing. The review offers no choice, and the end cannot be set.
    let mut norepinephrine = workflow_in("icu", Platform::Volumetric);
    norepinephrine.choose("norepinephrine").unwrap();
    norepinephrine.choose("0").unwrap();
    type_and_accept(&mut norepinephrine, "0.1");
    type_and_accept(&mut norepinephrine, "80");
    type_and_accept(&mut norepinephrine, "250");
    assert_eq!(norepinephrine.step(), Step::Review);
    assert_eq!(norepinephrine.end_options(), None);
    assert!(norepinephrine.set_keep_vein_open(true).is_err());
    assert_eq!(plan_end(&norepinephrine), PlanEnd::Stop);

    // After an intermittent antibiotic the library keeps the line open
    // unless the nurse stops it: the lower of the area's rate and the
    // program's own.
    let mut vancomycin = workflow_in("med-surg", Platform::Volumetric);
    vancomycin.choose("vancomycin").unwrap();
    vancomycin.choose("0").unwrap();
    type_and_accept(&mut vancomycin, "1000");
    type_and_accept(&mut vancomycin, "60");
    let options = vancomycin.end_options().unwrap();
    assert!(options.keep_vein_open);
    assert_eq!(
        plan_end(&vancomycin),
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3))
        }
    );

    // Nowhere else than the review, and never for a bolus or titration.
    let mut early = workflow_in("icu", Platform::Volumetric);
    assert!(early.set_keep_vein_open(true).is_err());
    assert_eq!(early.end_options(), None);
}

#[test]
fn the_library_review_refuses_an_end_its_rules_do_not_allow() {
    let library = sample_library();
    let limits = platform_rate_limits(Platform::Volumetric).unwrap();
    let basic = |end| Program {
        medication: Medication::Basic,
        delivery: Delivery::Rate {
            rate: MillilitresPerHour::new(dec!(25)),
            volume: Millilitres::new(dec!(100)),
        },
        end,
    };
    let kvo = |rate| EndOfInfusion::KeepVeinOpen {
        rate: MillilitresPerHour::new(rate),
    };
    // Above the ICU's KVO rate (a typed rate, as the headless console takes).
    let above = review(
        &library,
        "icu",
        DrugChoice::Basic,
        &basic(kvo(dec!(5))),
        &limits,
    );
    assert_eq!(
        above.blockers,
        vec![Blocker::NotForThisEntry(Mismatch::KeepVeinOpenAbove {
            care_area: "ICU".to_owned(),
            rate: dec!(5),
            max: dec!(1),
        })]
    );
    // Within it.
    let within = review(
        &library,
        "icu",
        DrugChoice::Basic,
        &basic(kvo(dec!(1))),
        &limits,
    );
    assert!(within.blockers.is_empty(), "{:?}", within.blockers);
    // Without a drug library there is no KVO rate: programs stop at their end.
    let none = perfuse::druglib::startup::basic_only();
    let area = perfuse::druglib::startup::BASIC_ONLY_CARE_AREA;
    let refused = review(
        &none,
        area,
        DrugChoice::Basic,
        &basic(kvo(dec!(1))),
        &limits,
    );
    assert!(
        matches!(
            refused.blockers.as_slice(),
            [Blocker::NotForThisEntry(
                Mismatch::NoKeepVeinOpenInArea { .. }
            )]
        ),
        "{:?}",
        refused.blockers
    );
    let stops = review(
        &none,
        area,
        DrugChoice::Basic,
        &basic(EndOfInfusion::Stop),
        &limits,
    );
    assert!(stops.blockers.is_empty(), "{:?}", stops.blockers);
    // An entry that never keeps the vein open.
    let mut walked = workflow_in("icu", Platform::Volumetric);
    walked.choose("norepinephrine").unwrap();
    walked.choose("0").unwrap();
    type_and_accept(&mut walked, "0.1");
    type_and_accept(&mut walked, "80");
    type_and_accept(&mut walked, "250");
    let mut program = walked.program().unwrap();
    program.end = kvo(dec!(1));
    let never = review(
        &library,
        "icu",
        DrugChoice::Entry("norepinephrine"),
        &program,
        &limits,
    );
    assert_eq!(
        never.blockers,
        vec![Blocker::NotForThisEntry(Mismatch::NoKeepVeinOpen {
            drug: "norepinephrine".to_owned()
        })]
    );
}

#[test]
fn a_fluid_given_as_a_volume_over_a_time_derives_its_rate_within_the_limits() {
    let mut workflow = workflow_in("med-surg", Platform::Volumetric);
    workflow.choose(BASIC_ID).unwrap();
    assert_eq!(workflow.step(), Step::Dose);
    assert_eq!(workflow.rate_by(), Some(RateBy::Rate));
    workflow.set_rate_by(RateBy::VolumeOverTime).unwrap();
    // The volume first, then the time: no rate to type.
    assert_eq!(workflow.step(), Step::Volume);
    assert_eq!(workflow.rate_by(), Some(RateBy::VolumeOverTime));
    assert!(!workflow.steps().contains(&Step::Dose));
    type_and_accept(&mut workflow, "500");
    assert_eq!(workflow.step(), Step::Duration);
    assert_eq!(workflow.rate_by(), None);
    type_and_accept(&mut workflow, "240");
    let review = workflow.review().unwrap();
    assert!(review.blockers.is_empty(), "{:?}", review.blockers);
    let plan = review.plan.unwrap();
    assert_eq!(plan.segments[0].rate, MillilitresPerHour::new(dec!(125)));
    assert_eq!(plan.total_volume().unwrap(), Millilitres::new(dec!(500)));
    assert_eq!(
        workflow.program().unwrap().delivery,
        Delivery::VolumeOverTime {
            volume: Millilitres::new(dec!(500)),
            duration: InfusionDuration::from_seconds(4 * 3600),
        }
    );
    // A titration starts from the derived rate.
    let running = workflow.running_after_start(
        Millilitres::new(dec!(500)),
        Some(MillilitresPerHour::new(dec!(125))),
    );
    assert_eq!(running.dose, dec!(125));

    // A derived rate above the care area's basic maximum (500 mL/h) is
    // refused on the review, with the rate it came to.
    let mut fast = workflow_in("med-surg", Platform::Volumetric);
    fast.choose(BASIC_ID).unwrap();
    fast.set_rate_by(RateBy::VolumeOverTime).unwrap();
    type_and_accept(&mut fast, "1000");
    type_and_accept(&mut fast, "60");
    let review = fast.review().unwrap();
    assert!(review.plan.is_none());
    assert_eq!(review.blockers.len(), 1, "{:?}", review.blockers);
    let said = perfuse::ui::words::blocker_text(
        &perfuse::ui::text::Texts::new(Language::English).unwrap(),
        &review.blockers[0],
    );
    assert!(said.contains("1000") || said.contains("1,000"), "{said}");

    // Switching back keeps the volume typed, and asks for a rate again.
    let mut back = workflow_in("med-surg", Platform::Volumetric);
    back.choose(BASIC_ID).unwrap();
    back.set_rate_by(RateBy::VolumeOverTime).unwrap();
    type_and_accept(&mut back, "250");
    back.back();
    assert_eq!(back.step(), Step::Volume);
    back.set_rate_by(RateBy::Rate).unwrap();
    assert_eq!(back.step(), Step::Dose);
    assert!(!back.steps().contains(&Step::Duration));
    // Not for a drug dosed by dose.
    let mut heparin = workflow_in("icu", Platform::Volumetric);
    heparin.choose("heparin").unwrap();
    heparin.choose("0").unwrap();
    assert_eq!(heparin.rate_by(), None);
    assert!(heparin.set_rate_by(RateBy::VolumeOverTime).is_err());
}

#[test]
fn a_kept_volume_over_time_resumes_at_its_rate_with_its_end() {
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::VolumeOverTime {
            volume: Millilitres::new(dec!(500)),
            duration: InfusionDuration::from_seconds(4 * 3600),
        },
        end: EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3)),
        },
    };
    let workflow = Workflow::resuming(
        Arc::new(sample_library()),
        platform_rate_limits(Platform::Volumetric).unwrap(),
        "med-surg",
        None,
        &program,
        Nanolitres(200_000_000),
        Millilitres::new(dec!(300)),
    )
    .unwrap();
    let review = workflow.review().unwrap();
    assert!(review.blockers.is_empty(), "{:?}", review.blockers);
    let plan = review.plan.unwrap();
    assert_eq!(plan.segments[0].rate, MillilitresPerHour::new(dec!(125)));
    assert_eq!(plan.total_volume().unwrap(), Millilitres::new(dec!(300)));
    assert_eq!(
        plan.end,
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3))
        }
    );
}

#[test]
fn a_volume_over_time_is_programmed_and_run_into_kvo_on_both_platforms() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        ui.press("StatusPage::primary-button");
        ui.press_label("ICU");
        ui.press_label("Basic infusion (mL/h, no drug)");
        ui.press_label("Volume over time");
        assert_eq!(ui.step_title(), "Volume to be infused", "{platform:?}");
        ui.enter("2");
        assert_eq!(ui.step_title(), "Given over", "{platform:?}");
        ui.enter("1");
        assert_eq!(ui.step_title(), "Review", "{platform:?}");
        rows_have(&ui, "Rate", "120 mL/h");
        rows_have(&ui, "At the end", "Stops and alarms: infusion complete");
        ui.press_label("KVO 1 mL/h");
        ui.refresh();
        rows_have(&ui, "At the end", "Keeps the vein open at 1 mL/h");
        let touches = ui.presses.get();
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        assert_eq!(
            ui.session.borrow().snapshot.commanded_rate,
            NanolitresPerHour(120_000_000),
            "{platform:?}"
        );
        // 2 mL at 120 mL/h: a minute on the mechanism's clock, then KVO.
        ui.refresh_until("keeping the vein open", |snapshot| {
            snapshot.mode == Mode::KeepVeinOpen
        });
        let snapshot = ui.session.borrow().snapshot;
        assert_eq!(snapshot.commanded_rate, NanolitresPerHour(1_000_000));
        let delivered = Decimal::from(snapshot.delivered.0) / Decimal::from(1_000_000);
        assert!(
            (delivered - dec!(2)).abs() <= dec!(0.01),
            "{platform:?}: {delivered} mL"
        );
        // New infusion, care area, basic, volume over time, then Clear, 2,
        // Next and Clear, 1, Next (the test clears each field first), KVO.
        assert_eq!(touches, 11, "{platform:?}");
    }
}
