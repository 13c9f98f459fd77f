//! PCA through the window on both platforms: programmed from the drug
//! library's PCA entry (basal, demand, lockout, limit), started, and the
//! patient's presses of the demand button (the board's GPIO line) given
//! and refused on the running page and in the event log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::control::api::Mode;
use perfuse::store::Event;
use perfuse::ui::text::Language;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::window::Ui;
use slint::ComponentHandle;

use crate::ui_window::rows_have;

fn readings(ui: &Ui) -> Vec<(String, String)> {
    let rows = ui
        .window
        .global::<perfuse_ui::RunningAdapter>()
        .get_readings();
    (0..slint::Model::row_count(&rows))
        .map(|row| slint::Model::row_data(&rows, row).unwrap())
        .map(|reading| (reading.label.to_string(), reading.value.to_string()))
        .collect()
}

fn reading(ui: &Ui, label: &str) -> String {
    let all = readings(ui);
    all.iter()
        .find(|(l, _)| l == label)
        .map(|(_, value)| value.clone())
        .unwrap_or_else(|| panic!("no {label} in {all:?}"))
}

/// The demands' outcomes in the event log, in order.
fn demand_outcomes(ui: &Ui) -> Vec<String> {
    ui.records()
        .into_iter()
        .filter_map(|event| match event {
            Event::PcaDemand { outcome } => Some(outcome),
            _ => None,
        })
        .collect()
}

/// The patient presses the handset's button for 300 ms.
fn press_demand(ui: &Ui) {
    ui.rig
        .borrow_mut()
        .simulator
        .physics_mut()
        .press_demand(300);
    for _ in 0..10 {
        ui.refresh();
    }
}

#[test]
fn a_pca_is_programmed_and_its_demands_given_and_refused_on_both_platforms() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        ui.press("StatusPage::primary-button");
        ui.press_label("Medical-Surgical");
        ui.search("MORPH");
        ui.press_label("morphine PCA");
        if ui.step_title() == "Concentration" {
            ui.press_label("50 mg in 50 mL (1 mg/mL)");
        }
        assert_eq!(
            ui.step_title(),
            "Basal rate (0: demands only)",
            "{platform:?}"
        );
        // Beyond the library's hard maximum of 2 mg/h: refused.
        ui.enter("3");
        assert_eq!(ui.step_title(), "Basal rate (0: demands only)");
        ui.enter("0");
        // The library's usual values are offered: the nurse confirms them.
        assert_eq!(ui.step_title(), "Demand dose");
        assert_eq!(ui.program().get_value(), "1");
        ui.press("ProgramPage::next-button");
        assert_eq!(ui.step_title(), "Lockout after each demand");
        assert_eq!(ui.program().get_value(), "10");
        // Below the library's hard minimum of 5 min: refused, and says why.
        ui.enter("3");
        assert_eq!(ui.step_title(), "Lockout after each demand");
        assert!(
            ui.program().get_message().contains("5"),
            "{}",
            ui.program().get_message()
        );
        ui.enter("10");
        assert_eq!(ui.step_title(), "Limit over the window");
        ui.press("ProgramPage::next-button");
        assert_eq!(ui.step_title(), "Volume to be infused");
        ui.press("ProgramPage::next-button");
        assert_eq!(ui.step_title(), "Review", "{platform:?}");
        for (label, value) in [
            ("Demand dose", "1 mg"),
            ("Lockout", "10 min"),
            ("PCA limit", "10 mg"),
            ("One demand", "1 mL"),
            ("Limit counted over", "the last 4 h"),
            ("Volume to be infused", "50 mL"),
        ] {
            rows_have(&ui, label, value);
        }
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        assert_eq!(ui.session.borrow().snapshot.commanded_rate.0, 0);
        assert_eq!(reading(&ui, "Demands given / refused"), "0 / 0");
        assert_eq!(reading(&ui, "Next demand"), "Available now");
        assert!(!ui
            .window
            .global::<perfuse_ui::RunningAdapter>()
            .get_can_titrate());

        // The patient presses: a demand runs at the pump's highest rate.
        press_demand(&ui);
        assert!(
            ui.session.borrow().snapshot.commanded_rate.0 > 0,
            "{platform:?}"
        );
        ui.refresh_until("the demand given", |snapshot| {
            snapshot.commanded_rate.0 == 0 && snapshot.total_delivered.0 >= 1_000_000
        });
        assert_eq!(reading(&ui, "Demands given / refused"), "1 / 0");
        assert_eq!(reading(&ui, "Next demand"), "in 10 min");
        assert_eq!(reading(&ui, "Last 4 h / limit"), "1 mL / 10 mL");
        // The demand came out of the syringe: infused and left count it.
        assert_eq!(reading(&ui, "Infused"), "1 mL");
        // Within the lockout: refused, nothing given.
        press_demand(&ui);
        assert_eq!(ui.session.borrow().snapshot.commanded_rate.0, 0);
        assert_eq!(reading(&ui, "Demands given / refused"), "1 / 1");
        let outcomes = demand_outcomes(&ui);
        assert_eq!(outcomes, ["given", "lockout"], "{platform:?}");
    }
}

#[test]
fn at_its_limit_a_pca_keeps_the_vein_open_alarms_and_resumes_only_with_room() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        ui.press("StatusPage::primary-button");
        ui.press_label("Medical-Surgical");
        ui.search("MORPH");
        ui.press_label("morphine PCA");
        ui.press_label("50 mg in 50 mL (1 mg/mL)");
        ui.enter("0");
        ui.press("ProgramPage::next-button");
        ui.press("ProgramPage::next-button");
        // A limit of one demand: the first demand reaches it.
        ui.enter("1");
        ui.press("ProgramPage::next-button");
        assert_eq!(ui.step_title(), "Review", "{platform:?}");
        rows_have(&ui, "PCA limit", "1 mg");
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        press_demand(&ui);
        ui.refresh_until("held at the limit", |snapshot| {
            snapshot.pca.is_some_and(|pca| pca.limited)
        });
        ui.refresh();
        let alarms = ui.window.global::<perfuse_ui::Alarms>();
        assert_eq!(
            alarms.get_level(),
            perfuse_ui::AlarmLevel::Medium,
            "{platform:?}"
        );
        assert_eq!(alarms.get_cause(), "PCA limit reached");
        let running = ui.window.global::<perfuse_ui::RunningAdapter>();
        assert_eq!(running.get_state(), "Limit reached: keeping the vein open");
        // Without a basal nothing flows at the limit.
        assert_eq!(ui.session.borrow().snapshot.commanded_rate.0, 0);
        // A further press is refused; so is resuming while the last 4 h
        // hold the limit.
        press_demand(&ui);
        assert!(running.get_can_resume());
        assert_eq!(running.get_resume_label(), "Resume PCA");
        ui.press("RunningPage::resume-button");
        for _ in 0..3 {
            ui.refresh();
        }
        assert!(ui.session.borrow().snapshot.pca.unwrap().limited);
        let outcomes = demand_outcomes(&ui);
        assert_eq!(outcomes, ["given", "limit"], "{platform:?}");
        assert!(
            ui.records().iter().any(|event| matches!(
                event,
                Event::AlarmRaised { condition, .. } if condition == "PcaLimit"
            )),
            "{platform:?}"
        );
    }
}
