//! A drug library from the hospital on the touchscreen (F3): the settings
//! show the library staged beside the one in use, with its signer; it can
//! be activated only with no program loaded, in two presses, and then it
//! is the library the pump programs with. Through the window, over the
//! real controller on the simulated mechanism.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::control::api::Mode;
use perfuse::druglib::staging::{stage, LibraryFiles};
use perfuse::store::{Action, Event};
use perfuse::ui::text::Language;
use perfuse_testkit::library::{asset, dev_sign, sample_bytes, sample_signature};
use perfuse_testkit::rig::Platform;
use perfuse_testkit::window::Ui;
use perfuse_ui::{MenuAdapter, MenuView};
use slint::ComponentHandle;

use crate::ui_window::basic_program;

fn biomed_library(ui: &Ui) -> String {
    let facts = ui.window.global::<MenuAdapter>().get_biomed();
    (0..slint::Model::row_count(&facts))
        .map(|row| slint::Model::row_data(&facts, row).unwrap())
        .find(|fact| fact.label == "Drug library")
        .map(|fact| fact.value.to_string())
        .unwrap()
}

fn open_settings(ui: &Ui, menu_button: &str) {
    ui.press(menu_button);
    ui.press("Tabs::settings-tab");
    for digit in "2580".chars() {
        ui.press(&format!("Keypad::key-{digit}"));
    }
    ui.press("PinView::pin-enter");
    assert_eq!(
        ui.window.global::<MenuAdapter>().get_view(),
        MenuView::Settings
    );
}

#[test]
fn a_staged_library_is_activated_from_the_settings_only_with_no_program_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let installed = dir.path().join("druglib.toml");
    std::fs::write(&installed, sample_bytes()).unwrap();
    std::fs::write(dir.path().join("druglib.toml.sig"), sample_signature()).unwrap();
    let files = LibraryFiles::beside(
        &dir.path().join("data/events.db"),
        &installed,
        &asset("config/trusted-keys.toml"),
    );
    let ui = Ui::new(Platform::Syringe50, Language::English);
    ui.orders.borrow_mut().library_files = Some(files.clone());
    let menu = ui.window.global::<MenuAdapter>();

    // Nothing staged: Activate is off.
    open_settings(&ui, "StatusPage::secondary-button");
    ui.refresh();
    assert_eq!(menu.get_staged(), "None staged");
    assert!(!menu.get_activate_enabled());
    ui.press("Tabs::close-tab");

    // An infusion runs; the hospital's library arrives and is staged.
    basic_program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    let text = String::from_utf8(sample_bytes()).unwrap();
    let bytes = text
        .replacen("version = \"2026.11.3\"", "version = \"2026.12.1\"", 1)
        .into_bytes();
    stage(
        &files,
        &bytes,
        dev_sign(&bytes).as_bytes(),
        perfuse::druglib::tool::today_utc(),
    )
    .unwrap();
    ui.orders.borrow_mut().library_news = true;
    ui.refresh();
    open_settings(&ui, "RunningPage::menu-button");
    ui.refresh();
    let staged = menu.get_staged().to_string();
    assert!(
        staged.contains("Perfuse sample library 2026.12.1"),
        "{staged}"
    );
    assert!(
        staged.contains("signed by perfuse-development-only-2026"),
        "{staged}"
    );
    assert!(!menu.get_activate_enabled(), "not while infusing");
    assert_eq!(
        menu.get_activate_note(),
        "Activate when no program is loaded: stop the infusion first"
    );
    // Pressed anyway (the session is asked directly): refused, nothing changes.
    ui.session.borrow_mut().activate_library();
    ui.session.borrow_mut().activate_library();
    ui.refresh();
    assert!(!files.activated().exists());
    assert_eq!(
        ui.session
            .borrow()
            .library
            .as_ref()
            .unwrap()
            .identity
            .version,
        "2026.11.3"
    );
    assert_eq!(ui.session.borrow().snapshot.mode, Mode::Delivering);
    ui.press("Tabs::close-tab");
    ui.press("RunningPage::stop-button");
    ui.refresh_until("stopped", |snapshot| snapshot.mode == Mode::Idle);

    // Idle: two presses activate it, whole.
    open_settings(&ui, "StatusPage::secondary-button");
    ui.refresh();
    assert!(menu.get_activate_enabled());
    assert_eq!(menu.get_activate_label(), "Activate");
    assert!(!biomed_library(&ui).contains("2026.12.1"));
    ui.press("SettingsView::activate-button");
    ui.refresh();
    assert_eq!(menu.get_activate_label(), "Confirm 2026.12.1");
    assert_eq!(
        menu.get_activate_note(),
        "Press Confirm to activate Perfuse sample library 2026.12.1 now"
    );
    assert!(!files.activated().exists(), "one press activates nothing");
    ui.press("SettingsView::activate-button");
    ui.refresh();
    assert!(files.activated().exists());
    assert!(
        biomed_library(&ui).starts_with("Perfuse sample library 2026.12.1"),
        "{}",
        biomed_library(&ui)
    );
    assert_eq!(menu.get_staged(), "None staged");
    assert_eq!(
        ui.session
            .borrow()
            .library
            .as_ref()
            .unwrap()
            .identity
            .version,
        "2026.12.1"
    );
    assert!(ui.records().iter().any(|event| matches!(
        event,
        Event::Interaction { action: Action::Value, element, .. }
            if element == "library activated Perfuse sample library 2026.12.1"
    )));
    // Leaving the settings disarms a first press.
    ui.press("Tabs::close-tab");
    assert!(!ui.session.borrow().activation_armed);
}
