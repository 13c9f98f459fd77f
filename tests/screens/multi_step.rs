//! Multi-step programs for fluids (ramp, hold and taper, as for parenteral
//! nutrition): each step's rate checked against the limits as a typed rate
//! is, the whole against the volume limits; in the therapy core, the
//! workflow and through the window on both platforms, run step by step on
//! the mechanism.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use perfuse::control::api::Mode;
use perfuse::control::units::NanolitresPerHour;
use perfuse::therapy::{
    plan, Delivery, EndOfInfusion, Medication, Millilitres, MillilitresPerHour, Program,
    RateLimits, RateStep, RateSteps, TherapyError, MAX_RATE_STEPS,
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

fn step(rate: Decimal, volume: Decimal) -> RateStep {
    RateStep {
        rate: MillilitresPerHour::new(rate),
        volume: Millilitres::new(volume),
    }
}

#[test]
fn a_program_in_steps_plans_each_step_within_the_limits() {
    let steps = RateSteps::new(&[
        step(dec!(40), dec!(40)),
        step(dec!(80), dec!(800)),
        step(dec!(40), dec!(40)),
    ])
    .unwrap();
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::Steps(steps),
        end: EndOfInfusion::Stop,
    };
    let planned = plan(&program, &RateLimits::ANY_PLATFORM).unwrap();
    let rates: Vec<_> = planned
        .segments
        .iter()
        .map(|segment| segment.rate)
        .collect();
    assert_eq!(
        rates,
        vec![
            MillilitresPerHour::new(dec!(40)),
            MillilitresPerHour::new(dec!(80)),
            MillilitresPerHour::new(dec!(40))
        ]
    );
    assert_eq!(planned.total_volume().unwrap(), Millilitres::new(dec!(880)));
    // One step beyond the platform's rates refuses the whole, naming it.
    let fast = RateSteps::new(&[step(dec!(40), dec!(40)), step(dec!(1200), dec!(100))]).unwrap();
    let refused = plan(
        &Program {
            delivery: Delivery::Steps(fast),
            ..program
        },
        &RateLimits::ANY_PLATFORM,
    )
    .unwrap_err();
    assert!(
        matches!(refused, TherapyError::OutOfRange { value, .. } if value == dec!(1200)),
        "{refused:?}"
    );
    // No step, or more than the pump takes, is not a program.
    assert_eq!(
        RateSteps::new(&[]).unwrap_err(),
        TherapyError::StepCount {
            count: 0,
            max: MAX_RATE_STEPS
        }
    );
    assert!(RateSteps::new(&[step(dec!(10), dec!(10)); MAX_RATE_STEPS + 1]).is_err());
    // Kept as a list, and read back the same; a list too long is refused.
    let json = serde_json::to_string(&steps).unwrap();
    assert_eq!(serde_json::from_str::<RateSteps>(&json).unwrap(), steps);
    let seven = serde_json::to_string(&vec![step(dec!(10), dec!(10)); 7]).unwrap();
    assert!(serde_json::from_str::<RateSteps>(&seven).is_err());
}

fn type_and_accept(workflow: &mut Workflow, text: &str) {
    workflow.press(Key::Clear).unwrap();
    for character in text.chars() {
        workflow
            .press(Key::Digit(character.to_digit(10).unwrap() as u8))
            .unwrap();
    }
    workflow
        .accept()
        .unwrap_or_else(|problem| panic!("{:?} {text}: {problem:?}", workflow.step()));
}

#[test]
fn the_workflow_asks_each_steps_rate_and_volume_and_whether_another_follows() {
    let mut workflow = Workflow::primary(
        Arc::new(sample_library()),
        platform_rate_limits(Platform::Volumetric).unwrap(),
        Some("med-surg"),
    );
    workflow.choose(BASIC_ID).unwrap();
    assert!(workflow.rate_by_options().contains(&RateBy::Steps));
    workflow.set_rate_by(RateBy::Steps).unwrap();
    assert_eq!(workflow.step(), Step::StepRate(0));
    type_and_accept(&mut workflow, "40");
    assert_eq!(workflow.step(), Step::StepVolume(0));
    type_and_accept(&mut workflow, "40");
    assert_eq!(workflow.step(), Step::MoreSteps(0));
    workflow.choose("steps-add").unwrap();
    assert_eq!(workflow.step(), Step::StepRate(1));
    // A step's rate is checked as it is typed: beyond the care area's
    // basic maximum (500 mL/h) it is refused with the limit.
    type_and_accept(&mut workflow, "80");
    type_and_accept(&mut workflow, "800");
    workflow.choose("steps-add").unwrap();
    workflow.press(Key::Digit(6)).unwrap();
    workflow.press(Key::Digit(0)).unwrap();
    workflow.press(Key::Digit(0)).unwrap();
    assert!(workflow.accept().is_err(), "600 mL/h in med-surg");
    type_and_accept(&mut workflow, "40");
    type_and_accept(&mut workflow, "40");
    workflow.choose("steps-done").unwrap();
    assert_eq!(workflow.step(), Step::Review);
    let review = workflow.review().unwrap();
    assert!(review.blockers.is_empty(), "{:?}", review.blockers);
    let segments = review.plan.unwrap().segments;
    assert_eq!(segments.len(), 3);
    assert_eq!(segments[1].rate, MillilitresPerHour::new(dec!(80)));
    // Back to the second step's question and done there: two steps.
    while workflow.step() != Step::MoreSteps(1) {
        assert!(workflow.back());
    }
    workflow.choose("steps-done").unwrap();
    assert_eq!(workflow.step(), Step::Review);
    assert_eq!(workflow.review().unwrap().plan.unwrap().segments.len(), 2);
    // Only for a new primary fluid.
    let mut heparin = Workflow::primary(
        Arc::new(sample_library()),
        platform_rate_limits(Platform::Volumetric).unwrap(),
        Some("icu"),
    );
    heparin.choose("heparin").unwrap();
    heparin.choose("0").unwrap();
    assert!(heparin.set_rate_by(RateBy::Steps).is_err());
}

#[test]
fn a_ramp_and_taper_is_programmed_and_run_step_by_step_on_both_platforms() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        ui.press("StatusPage::primary-button");
        ui.press_label("ICU");
        ui.press_label("Basic infusion (mL/h, no drug)");
        ui.press_label("Stages");
        assert_eq!(ui.step_title(), "Stage 1: rate", "{platform:?}");
        ui.enter("60");
        assert_eq!(ui.step_title(), "Stage 1: volume");
        ui.enter("1");
        assert_eq!(ui.step_title(), "After stage 1");
        ui.press_label("Add stage 2");
        ui.enter("120");
        ui.enter("2");
        ui.press_label("Add stage 3");
        ui.enter("60");
        ui.enter("1");
        ui.press_label("Done: review the stages");
        assert_eq!(ui.step_title(), "Review", "{platform:?}");
        for (label, value) in [
            ("Stage 1", "60 mL/h for 1 mL"),
            ("Stage 2", "120 mL/h for 2 mL"),
            ("Stage 3", "60 mL/h for 1 mL"),
            ("Volume to be infused", "4 mL"),
            ("Runs for", "0 h 3 min"),
        ] {
            rows_have(&ui, label, value);
        }
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        // Each step at its rate, in turn, on the mechanism's clock.
        let mut rates = vec![ui.session.borrow().snapshot.commanded_rate];
        for _ in 0..3000 {
            ui.refresh();
            let snapshot = ui.session.borrow().snapshot;
            if rates.last() != Some(&snapshot.commanded_rate) {
                rates.push(snapshot.commanded_rate);
            }
            if snapshot.mode != Mode::Delivering {
                break;
            }
        }
        assert_eq!(
            rates,
            vec![
                NanolitresPerHour(60_000_000),
                NanolitresPerHour(120_000_000),
                NanolitresPerHour(60_000_000),
                NanolitresPerHour(0),
            ],
            "{platform:?}"
        );
        let snapshot = ui.session.borrow().snapshot;
        assert_eq!(snapshot.mode, Mode::Completed, "{platform:?}");
        let delivered = Decimal::from(snapshot.delivered.0) / Decimal::from(1_000_000);
        assert!(
            (delivered - dec!(4)).abs() <= dec!(0.01),
            "{platform:?}: {delivered} mL"
        );
    }
}

#[test]
fn a_kept_program_in_stages_resumes_with_the_rest_of_its_stages() {
    let steps = RateSteps::new(&[step(dec!(40), dec!(40)), step(dec!(80), dec!(200))]).unwrap();
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::Steps(steps),
        end: EndOfInfusion::Stop,
    };
    // Stopped 50 mL in: 10 mL into the second stage.
    let workflow = Workflow::resuming(
        Arc::new(sample_library()),
        platform_rate_limits(Platform::Volumetric).unwrap(),
        "med-surg",
        None,
        &program,
        perfuse::control::units::Nanolitres(50_000_000),
        Millilitres::new(dec!(190)),
    )
    .unwrap();
    assert_eq!(workflow.rest_after_nl(), Some(50_000_000));
    let confirmed = workflow.confirm(&[]).unwrap();
    let whole = perfuse::control::program::program_from_plan(&confirmed.plan).unwrap();
    let rest = whole
        .after(perfuse::control::units::Nanolitres(50_000_000))
        .unwrap();
    let rates: Vec<_> = rest.segments.iter().map(|segment| segment.rate).collect();
    assert_eq!(rates, vec![NanolitresPerHour(80_000_000)]);
    assert_eq!(rest.total_volume().0, 190_000_000);
}
