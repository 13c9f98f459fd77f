//! The syringe loaded on the syringe platform: chosen by size and brand
//! from the signed profile's list, confirmed at loading (at the start, and
//! whenever a syringe is newly loaded), metered with by the controller and
//! checked against by every program. The volumetric pump asks nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse::control::api::{Command, CommandKind, ControlEvent, Mode};
use perfuse::store::{Action, Event, Page};
use perfuse::therapy::Millilitres;
use perfuse::ui::text::Language;
use perfuse_sim::Faults;
use perfuse_testkit::rig::{continuous, platform_syringes, Platform, Rig};
use perfuse_testkit::window::Ui;
use perfuse_ui::StatusAdapter;
use rust_decimal_macros::dec;
use slint::ComponentHandle;

fn status_facts(ui: &Ui) -> Vec<(String, String)> {
    let rows = ui.window.global::<StatusAdapter>().get_facts();
    (0..slint::Model::row_count(&rows))
        .map(|row| slint::Model::row_data(&rows, row).unwrap())
        .map(|fact| (fact.label.to_string(), fact.value.to_string()))
        .collect()
}

#[test]
fn the_syringe_is_confirmed_before_the_first_infusion_and_then_metered_and_checked() {
    let ui = Ui::new(Platform::Syringe50, Language::English);
    ui.session.borrow_mut().syringe_confirmed = false;
    ui.refresh();
    assert!(
        status_facts(&ui).contains(&(
            "Syringe".to_owned(),
            "BD Plastipak 50 mL (to confirm at the next infusion)".to_owned()
        )),
        "{:?}",
        status_facts(&ui)
    );
    // New infusion asks for the syringe first: every one the profile lists,
    // the one the pump started with marked.
    ui.press("StatusPage::primary-button");
    assert_eq!(
        ui.window.global::<StatusAdapter>().get_title(),
        "Which syringe is loaded?"
    );
    assert_eq!(
        ui.status_choices(),
        vec![
            ("BD Plastipak 50 mL (up to 999 mL/h)".to_owned(), true),
            ("BD Plastipak 30 mL (up to 800 mL/h)".to_owned(), false),
            ("BD Plastipak 20 mL (up to 600 mL/h)".to_owned(), false),
            ("BD Plastipak 10 mL (up to 400 mL/h)".to_owned(), false),
        ]
    );
    // One touch confirms it and goes on to the new infusion.
    ui.press_label("BD Plastipak 20 mL (up to 600 mL/h)");
    ui.refresh();
    assert_eq!(ui.step_title(), "Care area");
    let (options, _) = platform_syringes(Platform::Syringe50).unwrap();
    assert_eq!(
        ui.session.borrow().snapshot.nl_per_turn,
        options[2].mechanics.mechanics.nl_per_turn,
        "the controller meters with the 20 mL syringe"
    );
    assert_eq!(
        ui.session.borrow().limits.container,
        Some(Millilitres::new(dec!(20)))
    );
    assert!(ui.records().iter().any(|event| matches!(
        event,
        Event::Interaction { screen: Page::Syringe, action: Action::Value, element, .. }
            if element == "syringe BD Plastipak 20 mL"
    )));
    // The programs are checked against it: no more than it holds.
    ui.press_label("ICU");
    ui.press_label("Basic infusion (mL/h, no drug)");
    ui.enter("25");
    assert_eq!(ui.step_title(), "Volume to be infused");
    ui.enter("30");
    assert_eq!(
        ui.step_title(),
        "Volume to be infused",
        "30 mL in a 20 mL syringe"
    );
    ui.enter("20");
    assert_eq!(ui.step_title(), "Review");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    // Confirmed once: the next infusion does not ask again.
    ui.press("RunningPage::stop-button");
    ui.refresh_until("stopped", |snapshot| snapshot.mode == Mode::Idle);
    ui.refresh();
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.step_title(), "Drug", "the care area is the patient's");
}

#[test]
fn a_syringe_newly_loaded_is_confirmed_again_and_can_be_changed_from_home() {
    let ui = Ui::new(Platform::Syringe50, Language::German);
    ui.refresh();
    assert!(ui.session.borrow().syringe_confirmed);
    // Taken out and put back: it may be another syringe.
    ui.rig
        .borrow_mut()
        .simulator
        .physics_mut()
        .set_faults(Faults {
            container_removed: true,
            ..Faults::NONE
        });
    for _ in 0..5 {
        ui.refresh();
    }
    ui.rig
        .borrow_mut()
        .simulator
        .physics_mut()
        .set_faults(Faults::NONE);
    for _ in 0..5 {
        ui.refresh();
    }
    assert!(!ui.session.borrow().syringe_confirmed);
    // Changed from home: the Syringe button, then Cancel changes nothing.
    ui.press("StatusPage::extra-button");
    assert_eq!(
        ui.window.global::<StatusAdapter>().get_title(),
        "Welche Spritze ist eingelegt?"
    );
    ui.press("StatusPage::secondary-button");
    assert!(!ui.session.borrow().syringe_confirmed);
    ui.press("StatusPage::extra-button");
    ui.press_label("BD Plastipak 10 mL (bis 400 mL/h)");
    ui.refresh();
    assert!(ui.session.borrow().syringe_confirmed);
    assert_eq!(
        ui.window.global::<StatusAdapter>().get_title(),
        ui.session.borrow().texts.get("home-title")
    );
    assert!(status_facts(&ui).contains(&("Spritze".to_owned(), "BD Plastipak 10 mL".to_owned())));
}

#[test]
fn the_volumetric_pump_asks_for_no_syringe() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    ui.session.borrow_mut().syringe_confirmed = false;
    ui.refresh();
    assert!(!ui.has_button("StatusPage::extra-button"));
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.step_title(), "Care area");
}

#[test]
fn the_controller_changes_syringe_only_with_no_program_loaded() {
    let (options, _) = platform_syringes(Platform::Syringe50).unwrap();
    let thirty = options[1].mechanics;
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.run_until(5.0, |snapshot| snapshot.mode == Mode::Idle)
        .unwrap();
    let fifty = rig.period(Vec::new()).nl_per_turn;
    rig.command(Command::Load(continuous(
        10.0,
        5.0,
        perfuse::control::state::End::Stop,
    )));
    rig.events.clear();
    // Programmed: refused, and the controller meters on as before.
    assert_eq!(rig.command(Command::LoadSyringe(thirty)).nl_per_turn, fifty);
    assert!(rig
        .events
        .contains(&ControlEvent::Refused(CommandKind::LoadSyringe)));
    rig.command(Command::Stop);
    rig.run_until(1.0, |snapshot| snapshot.mode == Mode::Idle)
        .unwrap();
    rig.events.clear();
    rig.command(Command::LoadSyringe(thirty));
    assert_eq!(
        rig.period(Vec::new()).nl_per_turn,
        thirty.mechanics.nl_per_turn
    );
    assert!(rig.events.is_empty(), "{:?}", rig.events);
    // A volume per turn of zero is never taken.
    let mut broken = thirty;
    broken.mechanics.nl_per_turn = 0;
    rig.command(Command::LoadSyringe(broken));
    assert_eq!(
        rig.period(Vec::new()).nl_per_turn,
        thirty.mechanics.nl_per_turn
    );
    assert!(rig
        .events
        .contains(&ControlEvent::Refused(CommandKind::LoadSyringe)));
}

/// A press as a finger gives it: down on the button, held while the window
/// renders (ten times a second on the pump), then up.
fn held_press(ui: &Ui, label: &str, renders: usize) {
    let found: Vec<_> =
        i_slint_backend_testing::ElementHandle::find_by_accessible_label(&ui.window, label)
            .filter(|element| {
                element.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button)
            })
            .collect();
    assert_eq!(found.len(), 1, "button {label}");
    let (origin, size) = (found[0].absolute_position(), found[0].size());
    let position =
        slint::LogicalPosition::new(origin.x + size.width / 2.0, origin.y + size.height / 2.0);
    let window = ui.window.window();
    window.dispatch_event(slint::platform::WindowEvent::PointerMoved { position });
    window.dispatch_event(slint::platform::WindowEvent::PointerPressed {
        position,
        button: slint::platform::PointerEventButton::Left,
    });
    for _ in 0..renders {
        ui.refresh();
    }
    window.dispatch_event(slint::platform::WindowEvent::PointerReleased {
        position,
        button: slint::platform::PointerEventButton::Left,
    });
    ui.refresh();
}

#[test]
fn a_syringe_touch_held_while_the_screen_refreshes_still_picks_it() {
    // The window renders ten times a second. It once gave the list new
    // rows at every render, so a touch held past one render (400 ms here)
    // picked nothing, and the page took no touch until it was left.
    let ui = Ui::new(Platform::Syringe50, Language::English);
    ui.session.borrow_mut().syringe_confirmed = false;
    ui.refresh();
    ui.press("StatusPage::primary-button");
    ui.refresh();
    held_press(&ui, "BD Plastipak 30 mL (up to 800 mL/h)", 4);
    assert_eq!(ui.step_title(), "Care area");
    assert_eq!(ui.session.borrow().syringe, Some(1), "the 30 mL syringe");
}
