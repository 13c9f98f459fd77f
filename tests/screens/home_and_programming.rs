//! The nurse's pages around programming, through the window: the home
//! page with the drug library in use (installed, the last good one, none),
//! the patient's care area, the drug list's order and letter index, a dose
//! per body surface on both platforms, and the running page's concentration
//! and flow sign.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::control::api::Mode;
use perfuse::ui::session::LibraryState;
use perfuse::ui::text::Language;
use perfuse::ui::workflow::Step;
use perfuse_testkit::library as common;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::window::Ui;
use perfuse_ui::{Frame, RunningAdapter};
use slint::ComponentHandle;

use crate::ui_window::{basic_program, norepinephrine_program, review_rows};

/// The status page's check rows, as (label, result).
fn checks(ui: &Ui) -> Vec<(String, String)> {
    let rows = ui.window.global::<perfuse_ui::StatusAdapter>().get_checks();
    (0..slint::Model::row_count(&rows))
        .map(|row| {
            let check = slint::Model::row_data(&rows, row).unwrap();
            (check.label.to_string(), check.result.to_string())
        })
        .collect()
}

/// The labels of the choice list on show.
fn choice_labels(ui: &Ui) -> Vec<String> {
    let rows = ui.program().get_choices();
    (0..slint::Model::row_count(&rows))
        .map(|row| {
            slint::Model::row_data(&rows, row)
                .unwrap()
                .label
                .to_string()
        })
        .collect()
}

#[test]
fn the_drug_list_is_alphabetical_by_generic_name_with_basic_infusion_first() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    let labels = choice_labels(&ui);
    assert_eq!(labels[0], "Basic infusion (mL/h, no drug)");
    let drugs: Vec<String> = labels[1..].iter().map(|name| name.to_lowercase()).collect();
    let mut sorted = drugs.clone();
    sorted.sort();
    assert_eq!(drugs, sorted, "{labels:?}");
    // Tall-man names sort by the word they are.
    let dopamine = labels.iter().position(|name| name == "DOPamine").unwrap();
    let epinephrine = labels
        .iter()
        .position(|name| name == "EPINEPHrine")
        .unwrap();
    let heparin = labels.iter().position(|name| name == "heparin").unwrap();
    assert!(
        dopamine < epinephrine && epinephrine < heparin,
        "{labels:?}"
    );
}

#[test]
fn the_care_area_is_chosen_once_shown_in_the_bar_and_changed_one_step_back() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    let frame = ui.window.global::<Frame>();
    assert_eq!(frame.get_care_area(), "");
    basic_program(&ui);
    assert_eq!(frame.get_care_area(), "Care area ICU");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    ui.press("RunningPage::stop-button");
    ui.refresh_until("stopped", |snapshot| snapshot.mode == Mode::Idle);
    ui.refresh();
    // Home remembers it, and the next infusion opens on the drug.
    let facts = ui.window.global::<perfuse_ui::StatusAdapter>().get_facts();
    let area = slint::Model::row_data(&facts, 0).unwrap();
    assert_eq!(
        (area.label.as_str(), area.value.as_str()),
        ("Care area", "ICU")
    );
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.session.borrow().step(), Some(Step::Drug));
    assert_eq!(frame.get_care_area(), "Care area ICU");
    // One step back changes it, for this infusion and the next.
    ui.press("ProgramPage::back-button");
    assert_eq!(ui.session.borrow().step(), Some(Step::CareArea));
    ui.press_label("Medical-Surgical");
    assert_eq!(ui.session.borrow().step(), Some(Step::Drug));
    assert_eq!(frame.get_care_area(), "Care area Medical-Surgical");
    ui.press("ProgramPage::cancel-button");
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.session.borrow().step(), Some(Step::Drug));
    assert_eq!(frame.get_care_area(), "Care area Medical-Surgical");
}

#[test]
fn without_a_drug_library_the_window_still_programs_a_basic_infusion_and_says_why() {
    for (language, none, why) in [
        (
            Language::English,
            "None: basic infusions only",
            "The drug library does not match its signature",
        ),
        (
            Language::German,
            "Keine: nur Basisinfusionen",
            "Die Medikamentenbibliothek passt nicht zu ihrer Signatur",
        ),
    ] {
        let ui = Ui::started(
            Platform::Volumetric,
            language,
            None,
            LibraryState::None(perfuse::druglib::startup::Unusable::Refused(
                perfuse::druglib::LibraryError::SignatureMismatch {
                    key_id: "pharmacy-2026".to_owned(),
                },
            )),
            None,
        );
        let rows = checks(&ui);
        assert_eq!(rows[1].1, none, "{rows:?}");
        let note = ui
            .window
            .global::<perfuse_ui::StatusAdapter>()
            .get_note()
            .to_string();
        assert!(
            note.contains(why) && note.contains("pharmacy-2026"),
            "{note}"
        );
        // The same steps as ever: no care area to choose, no drug to pick.
        ui.press("StatusPage::primary-button");
        assert_eq!(ui.session.borrow().step(), Some(Step::Drug));
        assert_eq!(choice_labels(&ui).len(), 1, "{:?}", choice_labels(&ui));
        ui.press_label(&choice_labels(&ui)[0]);
        ui.enter("25");
        ui.enter("100");
        assert_eq!(ui.session.borrow().step(), Some(Step::Review));
        ui.press("ProgramPage::start-button");
        ui.refresh_until("infusing without a library", |snapshot| {
            snapshot.mode == Mode::Delivering
        });
        assert_eq!(
            ui.window.global::<Frame>().get_care_area(),
            "",
            "no care area without a library"
        );
    }
}

#[test]
fn with_the_last_good_library_in_use_home_says_so_and_programs_from_it() {
    let ui = Ui::started(
        Platform::Volumetric,
        Language::English,
        Some(common::sample_library()),
        LibraryState::LastGood(perfuse::druglib::startup::Unusable::Unreadable {
            path: "/etc/perfuse/druglib.toml".to_owned(),
            detail: "No such file or directory".to_owned(),
        }),
        None,
    );
    let rows = checks(&ui);
    assert!(rows[1].1.ends_with("(the last good library)"), "{rows:?}");
    let note = ui
        .window
        .global::<perfuse_ui::StatusAdapter>()
        .get_note()
        .to_string();
    assert!(
        note.contains("The new drug library was refused")
            && note.contains("/etc/perfuse/druglib.toml")
            && !note.contains("No such file"),
        "{note}"
    );
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    assert!(choice_labels(&ui).iter().any(|name| name == "heparin"));
}

/// Cisplatin 75 mg/m² for a 70 kg, 170 cm patient over 60 min.
fn cisplatin_for_body_surface(ui: &Ui) -> Vec<(String, String)> {
    ui.press("StatusPage::primary-button");
    ui.press_label("Oncology");
    ui.press_label("CISplatin");
    ui.press_label("100 mg in 500 mL (0.2 mg/mL)");
    assert_eq!(ui.session.borrow().step(), Some(Step::Dose));
    ui.enter("75");
    assert_eq!(ui.session.borrow().step(), Some(Step::Weight));
    ui.enter("70");
    assert_eq!(ui.session.borrow().step(), Some(Step::Height));
    ui.enter("170");
    ui.enter("60");
    review_rows(ui)
}

#[test]
fn a_dose_per_body_surface_is_walked_on_both_platforms() {
    // Volumetric: the bag's whole dose is programmed and started.
    let ui = Ui::new(Platform::Volumetric, Language::English);
    let rows = cisplatin_for_body_surface(&ui);
    assert_eq!(ui.session.borrow().step(), Some(Step::Review), "{rows:?}");
    let value = |label: &str| {
        rows.iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {label}: {rows:?}"))
    };
    assert_eq!(value("Height"), "170 cm", "{rows:?}");
    // Mosteller: sqrt(170 × 70 / 3600) = 1.818 m², so 136.4 mg in 682.5 mL.
    assert_eq!(value("Body surface"), "1.82 m²", "{rows:?}");
    assert_eq!(value("Volume to be infused"), "682.5 mL", "{rows:?}");
    assert_eq!(value("Dose"), "75 mg/m²", "{rows:?}");
    assert_eq!(value("Runs for"), "1 h 0 min", "{rows:?}");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("infusing cisplatin", |snapshot| {
        snapshot.mode == Mode::Delivering
    });
    // The same steps on the syringe pump, where the dose's volume is more
    // than the 50 mL syringe holds: refused, with the reason shown.
    let ui = Ui::new(Platform::Syringe50, Language::English);
    let rows = cisplatin_for_body_surface(&ui);
    assert_eq!(ui.session.borrow().step(), Some(Step::Review), "{rows:?}");
    assert!(!ui.program().get_can_start());
    let verdict = ui.program().get_verdict().to_string();
    assert!(verdict.contains("syringe"), "{verdict}");
}

#[test]
fn the_running_page_shows_the_concentration_and_a_flow_sign_that_moves_only_while_flowing() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    norepinephrine_program(&ui);
    let running = ui.window.global::<RunningAdapter>();
    assert_eq!(running.get_concentration(), "4 mg in 250 mL (0.016 mg/mL)");
    assert!(running.get_flowing());
    // The lit dot steps along four times a second.
    let mut phases = std::collections::BTreeSet::new();
    for _ in 0..8 {
        ui.refresh();
        phases.insert(running.get_flow_phase());
        std::thread::sleep(std::time::Duration::from_millis(130));
    }
    assert!(phases.len() >= 3, "{phases:?}");
    assert!(
        phases.iter().all(|phase| (0..5).contains(phase)),
        "{phases:?}"
    );
    ui.press("RunningPage::pause-button");
    ui.refresh_until("paused", |snapshot| snapshot.mode == Mode::Paused);
    ui.refresh();
    assert!(!running.get_flowing());
    // A fluid shows no concentration.
    let ui = Ui::new(Platform::Volumetric, Language::English);
    basic_program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    assert_eq!(ui.window.global::<RunningAdapter>().get_concentration(), "");
}
