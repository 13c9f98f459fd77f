//! The touchscreen driven through Slint's testing back-end, by element id
//! and accessible label as a nurse's finger would: the whole programming
//! workflow on the real controller and simulated mechanism (on a virtual
//! clock), soft-limit override, hard-limit block, start, titrate, pause,
//! resume, stop, alarm silence and acknowledge, on both platforms; every
//! interaction recorded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;
use perfuse_testkit::window::Ui;

use i_slint_backend_testing::ElementHandle;
use perfuse::control::api::Mode;
use perfuse::control::units::Nanolitres;
use perfuse::services::kept::{Cause, Interrupted, KeptProgram};
use perfuse::store::{Action, Event, Page};
use perfuse::ui::text::Language;
use perfuse::ui::window::render;
use perfuse_sim::Occlusion;
use perfuse_testkit::rig::Platform;
use perfuse_ui::{Frame, RunningAdapter};
use slint::ComponentHandle;

pub(crate) fn basic_program(ui: &Ui) -> Vec<String> {
    let mut titles = vec![];
    ui.press("StatusPage::primary-button");
    titles.push(ui.step_title());
    ui.press_label("ICU");
    titles.push(ui.step_title());
    ui.press_label("Basic infusion (mL/h, no drug)");
    titles.push(ui.step_title());
    ui.enter("25");
    titles.push(ui.step_title());
    ui.enter("10");
    titles.push(ui.step_title());
    titles
}

#[test]
fn a_basic_infusion_is_programmed_started_titrated_paused_and_stopped_on_both_platforms() {
    let mut walks = Vec::new();
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        assert_eq!(ui.window.global::<Frame>().get_platform(), platform.name());
        let titles = basic_program(&ui);
        assert_eq!(
            titles,
            [
                "Care area",
                "Drug",
                "Rate",
                "Volume to be infused",
                "Review"
            ]
        );
        assert!(ui.program().get_can_start());
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        assert_eq!(
            ui.window.global::<Frame>().get_platform(),
            platform.name(),
            "on every screen"
        );
        let readings = ui.window.global::<RunningAdapter>().get_readings();
        let rate = slint::Model::row_data(&readings, 0).unwrap();
        assert_eq!(rate.value, "25 mL/h");

        // Titrate to 50 mL/h through the same steps and controls.
        ui.press("RunningPage::titrate-button");
        assert_eq!(ui.step_title(), "Rate");
        assert_eq!(
            ui.program().get_value(),
            "25",
            "the running rate is shown for editing"
        );
        ui.enter("50");
        assert_eq!(ui.step_title(), "Review");
        ui.press("ProgramPage::start-button");
        ui.refresh_until("titrated", |snapshot| {
            snapshot.commanded_rate.0 == 50_000_000
        });
        for _ in 0..100 {
            ui.refresh();
        }
        assert!(
            ui.session.borrow().snapshot.delivered.0 > 0,
            "ten seconds at 50 mL/h deliver"
        );

        ui.press("RunningPage::pause-button");
        ui.refresh_until("paused", |snapshot| snapshot.mode == Mode::Paused);
        ui.press("RunningPage::resume-button");
        ui.refresh_until("resumed", |snapshot| snapshot.mode == Mode::Delivering);
        ui.press("RunningPage::stop-button");
        ui.refresh_until("stopped", |snapshot| snapshot.mode == Mode::Idle);
        assert!(
            ui.has_button("StatusPage::primary-button"),
            "back home, ready for the next"
        );

        let records = ui.records();
        let touched = |element: &str| {
            records.iter().any(|event| matches!(event, Event::Interaction { action, element: e, .. } if *action == Action::Touch && e == element))
        };
        for element in [
            "new-program",
            "next",
            "start",
            "titrate",
            "pause",
            "resume",
            "stop",
        ] {
            assert!(touched(element), "no record of touching {element}");
        }
        assert!(records.iter().any(|event| matches!(event, Event::Interaction { action, element, .. } if *action == Action::Value && element == "Dose 25")));
        let times: Vec<u64> = records
            .iter()
            .filter_map(|event| match event {
                Event::Interaction { monotonic_ms, .. } => Some(*monotonic_ms),
                _ => None,
            })
            .collect();
        assert!(
            times.windows(2).all(|pair| pair[0] <= pair[1]),
            "monotonic times"
        );
        // Usability metrics from the same records: the new infusion and the
        // titration, both started.
        let metrics = perfuse::store::metrics::metrics(&records);
        let tasks: Vec<(&str, perfuse::store::metrics::Outcome)> = metrics
            .tasks
            .iter()
            .map(|task| (task.kind.as_str(), task.outcome))
            .collect();
        use perfuse::store::metrics::Outcome::Started;
        assert_eq!(tasks, [("new-program", Started), ("titrate", Started)]);
        assert!(metrics.tasks[0].touches >= 7, "{:?}", metrics.tasks[0]);
        walks.push(titles);
    }
    assert_eq!(walks[0], walks[1]);
}

#[test]
fn a_soft_limit_needs_an_explicit_override_and_a_hard_limit_blocks_with_the_limit_shown() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.search("NOR");
    ui.press_label("norepinephrine");
    assert_eq!(ui.step_title(), "Concentration");
    ui.press_label("4 mg in 250 mL (0.016 mg/mL)");
    assert_eq!(ui.step_title(), "Dose");
    assert_eq!(ui.program().get_unit(), "mcg/kg/min");

    // Beyond the hard maximum: flagged as typed, refused with the limit.
    ui.press("Keypad::key-4");
    assert_eq!(
        ui.program().get_status(),
        "Above the hard maximum of 3 mcg/kg/min: not allowed"
    );
    ui.press("ProgramPage::next-button");
    assert_eq!(ui.step_title(), "Dose", "not accepted");
    assert_eq!(
        ui.program().get_message(),
        "Above the hard maximum of 3 mcg/kg/min: not allowed"
    );

    // A point first gets its leading zero; beyond the soft maximum is flagged.
    ui.press("Keypad::key-clear");
    ui.press("Keypad::key-point");
    ui.press("Keypad::key-6");
    assert_eq!(ui.program().get_value(), "0.6");
    assert_eq!(
        ui.program().get_status(),
        "Above the soft maximum of 0.5 mcg/kg/min"
    );
    ui.press("ProgramPage::next-button");
    assert_eq!(ui.step_title(), "Patient weight");
    ui.enter("70");
    ui.enter("250");
    assert_eq!(ui.step_title(), "Review");
    assert!(
        !ui.program().get_can_start(),
        "no start before the override"
    );
    let overrides = ui.program().get_overrides();
    assert_eq!(slint::Model::row_count(&overrides), 1);
    ui.press_label("Confirm override");
    assert!(ui.program().get_can_start());
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    assert!(ui
        .records()
        .iter()
        .any(|event| matches!(event, Event::SoftLimitOverride { drug, limit, .. } if drug == "norepinephrine" && limit == "0.5")));
}

#[test]
fn an_alarm_is_shown_silenced_and_acknowledged() {
    let ui = Ui::new(Platform::Syringe50, Language::German);
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.press_label("Basisinfusion (mL/h, ohne Medikament)");
    ui.enter("25");
    assert_eq!(ui.step_title(), "Zu infundierendes Volumen");
    ui.enter("10,5");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    ui.rig.borrow_mut().occlude_downstream(Occlusion::Full);
    ui.refresh_until("occlusion alarm", |snapshot| {
        snapshot.mode == Mode::AlarmStopped
    });
    let alarms = ui.window.global::<perfuse_ui::Alarms>();
    assert_eq!(alarms.get_level(), perfuse_ui::AlarmLevel::High);
    assert_eq!(alarms.get_cause(), "Verschluss unterhalb der Pumpe");
    ui.press("AlarmBanner::silence-button");
    ui.refresh();
    assert!(
        alarms.get_silenced().starts_with("Stumm: 1"),
        "{}",
        alarms.get_silenced()
    );
    assert!(!alarms.get_can_silence(), "the countdown runs");
    // Acknowledged with the clamp still closed: the occlusion is still there
    // (the line holds its pressure),
    // the page names it and the bar says an alarm stopped the pump (never
    // "Paused"); resume is not offered.
    ui.press("AlarmBanner::acknowledge-button");
    ui.refresh();
    let running = ui.window.global::<RunningAdapter>();
    let cause = "Gestoppt: Verschluss unterhalb der Pumpe";
    assert_eq!(running.get_state(), cause);
    assert_eq!(
        ui.window.global::<Frame>().get_page_title(),
        "Durch Alarm gestoppt"
    );
    assert!(
        ElementHandle::find_by_element_id(&ui.window, "RunningPage::resume-button")
            .all(|button| button.accessible_enabled() == Some(false)),
        "resume is offered over a present occlusion"
    );
    ui.rig.borrow_mut().occlude_downstream(Occlusion::None);
    // Already acknowledged, the alarm goes by itself once the freed line
    // has drained; then the pump waits paused for the nurse.
    ui.refresh_until("the freed line drained", |snapshot| {
        snapshot.mode == Mode::Paused
    });
    assert_eq!(running.get_state(), "Pausiert");
    assert_eq!(ui.window.global::<Frame>().get_page_title(), "Pausiert");
    ui.press("RunningPage::resume-button");
    ui.refresh_until("resumed after the alarm", |snapshot| {
        snapshot.mode == Mode::Delivering
    });
    assert_eq!(
        ui.window.global::<Frame>().get_page_title(),
        running.get_state()
    );
    let records = ui.records();
    for action in [
        Action::AlarmShown,
        Action::AlarmSilenced,
        Action::AlarmAcknowledged,
    ] {
        assert!(
            records.iter().any(|event| matches!(event, Event::Interaction { action: a, element, .. } if *a == action && element == "DownstreamOcclusion")),
            "no {action} record"
        );
    }
}

pub(crate) fn norepinephrine_program(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.search("NOR");
    ui.press_label("norepinephrine");
    ui.press_label("4 mg in 250 mL (0.016 mg/mL)");
    ui.enter("0.1");
    ui.enter("70");
    ui.enter("250");
    assert!(ui.program().get_can_start());
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
}

fn facts(ui: &Ui) -> Vec<(String, String)> {
    let facts = ui.window.global::<perfuse_ui::StatusAdapter>().get_facts();
    (0..slint::Model::row_count(&facts))
        .map(|row| {
            let fact = slint::Model::row_data(&facts, row).unwrap();
            (fact.label.to_string(), fact.value.to_string())
        })
        .collect()
}

#[test]
fn an_interrupted_program_is_offered_whole_rechecked_against_the_current_library_and_resumed() {
    // The program as kept when it started.
    let ui = Ui::new(Platform::Volumetric, Language::English);
    norepinephrine_program(&ui);
    let (kept, before) = ui.kept.borrow().last().cloned().unwrap();
    let kept = kept.expect("the started program is kept");
    assert_eq!(before, 0);
    let therapy = kept.therapy.clone().unwrap();
    assert_eq!(therapy.entry.as_deref(), Some("norepinephrine"));
    assert_eq!(kept.remaining, Nanolitres(250_000_000));

    // Interrupted after 50 mL, by a crash after an occlusion alarm; the
    // pharmacy has since lowered the soft maximum to 0.08 mcg/kg/min.
    let interrupted = Interrupted {
        program: KeptProgram {
            delivered: Nanolitres(50_000_000),
            remaining: Nanolitres(200_000_000),
            mode: perfuse::control::api::Mode::Delivering,
            ..kept
        },
        saved_at_ms: 1_795_000_000_000,
        why: String::new(),
        cause: Cause::Unexpected {
            supervisor_trip: false,
            last_alarm: Some("DownstreamOcclusion".to_owned()),
        },
    };
    let mut library = common::sample_library();
    for area in &mut library.file.care_areas {
        for entry in &mut area.entries {
            if entry.id == "norepinephrine" {
                entry.dose.soft_max = Some(rust_decimal_macros::dec!(0.08));
            }
        }
    }
    let ui = Ui::with(
        Platform::Volumetric,
        Language::English,
        library,
        Some(interrupted.clone()),
    );
    assert_eq!(
        ui.window.global::<perfuse_ui::StatusAdapter>().get_title(),
        "Infusion interrupted"
    );
    let shown = facts(&ui);
    let value = |label: &str| {
        shown
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        value("Program"),
        "norepinephrine 0.1 mcg/kg/min, 4 mg in 250 mL (0.016 mg/mL)"
    );
    assert_eq!(value("Already infused"), "50 mL");
    assert_eq!(value("Volume left"), "200 mL");
    assert_eq!(
        value("Why"),
        "The pump stopped unexpectedly; last alarm: Occlusion below the pump"
    );
    assert!(
        value("Stopped at").contains(" UTC"),
        "labelled with its zone"
    );
    assert_eq!(
        ui.session.borrow().snapshot.mode,
        Mode::Idle,
        "never resumed on its own"
    );

    ui.press("StatusPage::primary-button");
    assert_eq!(ui.step_title(), "Review");
    let rows = ui.program().get_rows();
    let rows: Vec<_> = (0..slint::Model::row_count(&rows))
        .map(|row| slint::Model::row_data(&rows, row).unwrap())
        .collect();
    assert!(
        rows.iter().any(|row| row.value == "200 mL"),
        "what is left is programmed"
    );
    assert!(
        rows.iter().any(|row| row
            .note
            .contains("Above the soft maximum of 0.08 mcg/kg/min")),
        "the changed limit is shown"
    );
    assert!(!ui.program().get_can_start());
    ui.press_label("Confirm override");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("resumed", |snapshot| snapshot.mode == Mode::Delivering);
    let (kept, before) = ui.kept.borrow().last().cloned().unwrap();
    assert_eq!(before, 50_000_000, "the volume infused before carries on");
    assert_eq!(kept.unwrap().remaining, Nanolitres(200_000_000));
    // "Infused" counts what went in before the interruption too.
    let readings = ui.window.global::<RunningAdapter>().get_readings();
    let infused = (0..slint::Model::row_count(&readings))
        .map(|row| slint::Model::row_data(&readings, row).unwrap())
        .find(|reading| reading.label == "Infused")
        .unwrap();
    let millilitres: f64 = infused.value.trim_end_matches(" mL").parse().unwrap();
    assert!(
        (50.0..51.0).contains(&millilitres),
        "infused {}",
        infused.value
    );

    // Discard instead: the kept program is forgotten, home is next.
    let ui = Ui::with(
        Platform::Volumetric,
        Language::German,
        common::sample_library(),
        Some(interrupted),
    );
    ui.press("StatusPage::secondary-button");
    assert_eq!(ui.kept.borrow().last().cloned(), Some((None, 0)));
    assert_eq!(
        ui.window.global::<perfuse_ui::StatusAdapter>().get_title(),
        "Bereit"
    );
}

#[test]
fn history_settings_behind_the_pin_language_at_run_time_and_the_screen_lock() {
    let ui = Ui::new(Platform::Syringe50, Language::English);
    basic_program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    ui.rig.borrow_mut().occlude_downstream(Occlusion::Full);
    ui.refresh_until("occlusion", |snapshot| snapshot.mode == Mode::AlarmStopped);

    // History, filtered to alarms.
    ui.press("RunningPage::menu-button");
    let menu = ui.window.global::<perfuse_ui::MenuAdapter>();
    assert_eq!(menu.get_view(), perfuse_ui::MenuView::History);
    ui.press_label("Alarms");
    let rows = menu.get_rows();
    let rows: Vec<_> = (0..slint::Model::row_count(&rows))
        .map(|row| slint::Model::row_data(&rows, row).unwrap())
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|row| row.alarm),
        "only alarms under the alarm filter"
    );
    assert!(rows
        .iter()
        .any(|row| row.kind == "Alarm" && row.detail == "Occlusion below the pump"));

    // Settings need the PIN; a wrong one is refused.
    ui.press("Tabs::settings-tab");
    assert_eq!(menu.get_view(), perfuse_ui::MenuView::Pin);
    for digit in "1111".chars() {
        ui.press(&format!("Keypad::key-{digit}"));
    }
    assert_eq!(menu.get_pin_dots(), "••••");
    ui.press("PinView::pin-enter");
    assert_eq!(menu.get_pin_message(), "Wrong PIN");
    assert_eq!(menu.get_view(), perfuse_ui::MenuView::Pin);
    for digit in "2580".chars() {
        ui.press(&format!("Keypad::key-{digit}"));
    }
    ui.press("PinView::pin-enter");
    assert_eq!(menu.get_view(), perfuse_ui::MenuView::Settings);
    assert!(
        !ui.records().iter().any(
            |event| matches!(event, Event::Interaction { element, .. } if element.contains("2580"))
        ),
        "the PIN is never recorded"
    );

    // Language switches at run time, numbers follow.
    ui.press_label("Deutsch");
    assert_eq!(menu.get_language_label(), "Sprache");
    ui.press("SettingsView::dimmer-button");
    assert_eq!(menu.get_brightness(), "90 %");
    assert_eq!(
        ui.window
            .global::<perfuse_ui::Navigation>()
            .get_brightness_percent(),
        90
    );

    // The alarm volume: down to the quietest level (which still sounds),
    // no further; the controller carries it to the supervisor's heartbeat.
    assert_eq!(menu.get_volume(), "4 von 4");
    assert_eq!(
        menu.get_volume_note(),
        "Alarme hoher Priorität ertönen immer mit 3 oder lauter"
    );
    for _ in 0..4 {
        ui.press("SettingsView::quieter-button");
    }
    assert_eq!(menu.get_volume(), "1 von 4");
    ui.press("SettingsView::louder-button");
    assert_eq!(menu.get_volume(), "2 von 4");
    ui.refresh_until("the controller has the volume", |snapshot| {
        snapshot.alarm_volume.level() == 2
    });
    let volumes: Vec<String> = ui
        .records()
        .into_iter()
        .filter_map(|event| match event {
            Event::Interaction { element, .. } if element.starts_with("alarm volume") => {
                Some(element)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        volumes,
        [
            "alarm volume 3 of 4",
            "alarm volume 2 of 4",
            "alarm volume 1 of 4",
            "alarm volume 1 of 4",
            "alarm volume 2 of 4"
        ]
    );

    // Locked: only the alarm banner and a two-step unlock take touches.
    ui.press("Tabs::lock-tab");
    assert_eq!(menu.get_view(), perfuse_ui::MenuView::Locked);
    assert!(
        ElementHandle::find_by_element_id(&ui.window, "Tabs::close-tab")
            .next()
            .is_none()
    );
    ui.press("AlarmBanner::silence-button");
    ui.refresh();
    assert!(ui
        .window
        .global::<perfuse_ui::Alarms>()
        .get_silenced()
        .starts_with("Stumm"));
    ui.press("LockedView::unlock-button");
    assert_eq!(
        menu.get_view(),
        perfuse_ui::MenuView::Locked,
        "one press does not unlock"
    );
    ui.press("LockedView::confirm-unlock-button");
    assert_eq!(ui.session.borrow().screen.page(), Page::Running);
    let readings = ui.window.global::<RunningAdapter>().get_readings();
    assert!(
        slint::Model::row_data(&readings, 1)
            .unwrap()
            .value
            .contains(','),
        "German decimal comma: {}",
        slint::Model::row_data(&readings, 1).unwrap().value
    );
}

#[test]
fn a_bolus_and_a_secondary_walk_the_same_steps_and_controls_on_a_running_drug() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    // Further down the list than the screen shows: search on the screen's
    // own letter keyboard, as a nurse would.
    ui.search("HEP");
    ui.press_label("heparin");
    ui.press_label("25,000 units in 250 mL (100 units/mL)");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Dose".to_owned(), "units/kg/h".to_owned())
    );
    ui.enter("18");
    assert_eq!(ui.step_title(), "Patient weight");
    ui.enter("80");
    ui.enter("250");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
    let primary_rate = ui.session.borrow().snapshot.commanded_rate.0;
    assert_eq!(
        primary_rate, 14_400_000,
        "18 units/kg/h x 80 kg at 100 units/mL = 14.4 mL/h"
    );

    // Bolus: the dose in the entry's bolus unit, the time, the review.
    ui.press("RunningPage::bolus-button");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Bolus dose".to_owned(), "units/kg".to_owned())
    );
    ui.enter("10");
    assert_eq!(ui.step_title(), "Given over");
    ui.enter("1");
    assert_eq!(ui.step_title(), "Review");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("bolus running", |snapshot| {
        snapshot.commanded_rate.0 == 480_000_000
    });
    ui.refresh_until("back to the primary", |snapshot| {
        snapshot.commanded_rate.0 == primary_rate
    });

    // Secondary: a drug from the list, its concentration, dose and time.
    ui.press("RunningPage::secondary-button");
    assert_eq!(ui.step_title(), "Drug");
    ui.search("VANCO");
    ui.press_label("vancomycin");
    assert_eq!(ui.step_title(), "Concentration");
    assert_eq!(ui.program().get_position(), "Step 2 of 5");
    ui.press_label("1,000 mg in 200 mL (5 mg/mL)");
    ui.enter("1000");
    ui.enter("60");
    assert_eq!(ui.step_title(), "Review");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("secondary running", |snapshot| {
        snapshot.commanded_rate.0 == 200_000_000
    });
    let touched: Vec<String> = ui
        .records()
        .iter()
        .filter_map(|event| match event {
            Event::Interaction {
                action, element, ..
            } if *action == Action::Touch => Some(element.clone()),
            _ => None,
        })
        .collect();
    assert!(touched.contains(&"bolus".to_owned()) && touched.contains(&"secondary".to_owned()));
}

#[test]
fn a_loading_dose_and_an_intermittent_dose_walk_the_same_pages() {
    // Amiodarone: loading dose first, then maintenance.
    let ui = Ui::new(Platform::Volumetric, Language::English);
    amiodarone_program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("loading", |snapshot| snapshot.mode == Mode::Delivering);
    assert_eq!(
        ui.session.borrow().snapshot.commanded_rate.0,
        500_000_000,
        "150 mg in 10 min at 1.8 mg/mL = 500 mL/h"
    );

    // Vancomycin: a dose over a time.
    let ui = Ui::new(Platform::Volumetric, Language::English);
    vancomycin_program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("intermittent", |snapshot| {
        snapshot.commanded_rate.0 == 200_000_000
    });
}

/// Amiodarone 900 mg in 500 mL: 150 mg over 10 min (83.33 mL at 500 mL/h),
/// then 1 mg/min, 500 mL in all; up to its review.
fn amiodarone_program(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.search("AMIO");
    ui.press_label("amiodarone");
    ui.press_label("900 mg in 500 mL (1.8 mg/mL)");
    assert_eq!(ui.step_title(), "Loading dose");
    ui.press_label("Loading dose first");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Loading dose".to_owned(), "mg".to_owned())
    );
    ui.enter("150");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Loading dose given over".to_owned(), "min".to_owned())
    );
    ui.enter("5");
    assert_eq!(
        ui.step_title(),
        "Loading dose given over",
        "below the library's 10 min shortest time"
    );
    assert_eq!(
        ui.program().get_message(),
        "Below the hard minimum of 10 min: not allowed"
    );
    ui.enter("10");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Dose".to_owned(), "mg/min".to_owned())
    );
    ui.enter("1");
    ui.enter("500");
    assert_eq!(ui.step_title(), "Review");
    assert!(ui.program().get_can_start());
}

/// Vancomycin 1000 mg in 200 mL over 60 min (200 mL/h); up to its review.
fn vancomycin_program(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.search("VANCO");
    ui.press_label("vancomycin");
    assert_eq!(ui.step_title(), "Concentration");
    assert_eq!(ui.program().get_position(), "Step 3 of 6");
    ui.press_label("1,000 mg in 200 mL (5 mg/mL)");
    assert_eq!(
        (ui.step_title(), ui.program().get_unit().to_string()),
        ("Dose".to_owned(), "mg".to_owned())
    );
    ui.enter("1000");
    assert_eq!(ui.step_title(), "Given over");
    ui.enter("60");
    assert_eq!(ui.step_title(), "Review");
}

/// The program as kept at its start, and a `Ui` that opens on it
/// interrupted after `delivered_nl`.
fn interrupted_after(program: fn(&Ui), delivered_nl: u64) -> (KeptProgram, Ui) {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    program(&ui);
    ui.press("ProgramPage::start-button");
    ui.refresh_until("started", |snapshot| snapshot.mode == Mode::Delivering);
    let (kept, _) = ui.kept.borrow().last().cloned().unwrap();
    let kept = kept.expect("the started program is kept");
    let interrupted = Interrupted {
        program: KeptProgram {
            delivered: Nanolitres(delivered_nl),
            remaining: Nanolitres(kept.remaining.0 - delivered_nl),
            mode: perfuse::control::api::Mode::Delivering,
            ..kept.clone()
        },
        saved_at_ms: 1_795_000_000_000,
        why: String::new(),
        cause: Cause::Unexpected {
            supervisor_trip: true,
            last_alarm: None,
        },
    };
    let ui = Ui::with(
        Platform::Volumetric,
        Language::English,
        common::sample_library(),
        Some(interrupted),
    );
    assert_eq!(
        ui.window.global::<perfuse_ui::StatusAdapter>().get_title(),
        "Infusion interrupted"
    );
    (kept, ui)
}

/// The review shows `label` with `value`.
pub(crate) fn rows_have(ui: &Ui, label: &str, value: &str) {
    let rows = review_rows(ui);
    assert!(
        rows.iter().any(|(l, v)| l == label && v == value),
        "{label}: {value} not in {rows:?}"
    );
}

pub(crate) fn review_rows(ui: &Ui) -> Vec<(String, String)> {
    let rows = ui.program().get_rows();
    (0..slint::Model::row_count(&rows))
        .map(|row| slint::Model::row_data(&rows, row).unwrap())
        .map(|row| (row.label.to_string(), row.value.to_string()))
        .collect()
}

#[test]
fn the_rest_of_an_interrupted_loading_dose_and_intermittent_dose_is_given_as_programmed() {
    // Amiodarone stopped 50 mL into its 83.33 mL loading dose.
    let (kept, ui) = interrupted_after(amiodarone_program, 50_000_000);
    assert_eq!(kept.remaining, Nanolitres(500_000_000));
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.step_title(), "Review");
    let rows = review_rows(&ui);
    let has = |label: &str, value: &str| {
        rows.iter()
            .any(|(l, v)| l.as_str() == label && v.as_str() == value)
    };
    assert!(has("Loading dose", "150 mg"), "as programmed: {rows:?}");
    assert!(has("Infused before", "50 mL"), "{rows:?}");
    assert!(has("Rest, as programmed", "450 mL"), "{rows:?}");
    // Its values cannot be changed: Back returns to the interrupted program.
    ui.press("ProgramPage::back-button");
    assert_eq!(
        ui.window.global::<perfuse_ui::StatusAdapter>().get_title(),
        "Infusion interrupted"
    );
    assert_ne!(
        ui.kept.borrow().last().map(|(kept, _)| kept.is_none()),
        Some(true),
        "still kept"
    );
    ui.press("StatusPage::primary-button");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("resumed", |snapshot| snapshot.mode == Mode::Delivering);
    assert_eq!(
        ui.session.borrow().snapshot.commanded_rate.0,
        500_000_000,
        "the rest of the loading dose at its own rate"
    );
    let (resumed, before) = ui.kept.borrow().last().cloned().unwrap();
    let resumed = resumed.unwrap();
    assert_eq!(before, 50_000_000, "the volume infused before carries on");
    assert_eq!(resumed.remaining, Nanolitres(450_000_000));
    assert_eq!(
        resumed.therapy.as_ref().map(|therapy| therapy.program),
        kept.therapy.as_ref().map(|therapy| therapy.program),
        "kept as programmed, so a second interruption resumes it the same way"
    );
    // Only the rest of the loading dose (33.33 mL) before the maintenance.
    ui.refresh_until("maintenance", |snapshot| {
        snapshot.commanded_rate.0 < 500_000_000
    });
    let snapshot = ui.session.borrow().snapshot;
    assert!(
        (33_000_000..=33_700_000).contains(&snapshot.delivered.0),
        "{} nL given before the maintenance",
        snapshot.delivered.0
    );
    assert_eq!(snapshot.mode, Mode::Delivering);

    // Vancomycin stopped after 120 of its 200 mL.
    let (_, ui) = interrupted_after(vancomycin_program, 120_000_000);
    ui.press("StatusPage::primary-button");
    let rows = review_rows(&ui);
    assert!(
        rows.iter().any(|(l, v)| l == "Dose" && v == "1,000 mg"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(l, v)| l == "Rest, as programmed" && v == "80 mL"),
        "{rows:?}"
    );
    ui.press("ProgramPage::start-button");
    ui.refresh_until("resumed", |snapshot| snapshot.mode == Mode::Delivering);
    let snapshot = ui.session.borrow().snapshot;
    assert_eq!(snapshot.commanded_rate.0, 200_000_000, "at its own rate");
    assert!(
        snapshot.remaining.0 <= 80_000_000 && snapshot.remaining.0 > 79_000_000,
        "only the rest: {} nL",
        snapshot.remaining.0
    );
}

/// Every alarm's cause and action show whole in the banner, in both
/// languages, at 800x480 and 1280x720, with the most the banner carries
/// beside them (a silence countdown, three more alarms).
#[test]
fn no_alarm_text_is_cut_off_in_either_language_at_either_size() {
    use perfuse::alarms::{ActiveAlarm, Condition};
    let mut cut = Vec::new();
    for language in Language::ALL {
        let ui = Ui::new(Platform::Syringe50, language);
        for (width, height) in [(800.0, 480.0), (1280.0, 720.0)] {
            ui.window
                .window()
                .set_size(slint::LogicalSize::new(width, height));
            for condition in Condition::ALL {
                let alarm = |condition: Condition| {
                    // Those that can escalate, escalated: the longest label.
                    Some(ActiveAlarm {
                        condition,
                        priority: if condition.escalates() {
                            perfuse_drivers::annunciator::Priority::High
                        } else {
                            condition.priority()
                        },
                        escalated: condition.escalates(),
                        raised_at_ms: 0,
                        present: true,
                        acknowledged: false,
                    })
                };
                {
                    let mut session = ui.session.borrow_mut();
                    session.snapshot.alarms = [None; Condition::ALL.len()];
                    for (slot, shown) in session.snapshot.alarms.iter_mut().zip([
                        alarm(condition),
                        alarm(Condition::NearEnd),
                        alarm(Condition::CallbackPaused),
                        alarm(Condition::StorageFault),
                    ]) {
                        *slot = shown;
                    }
                    session.snapshot.silence_remaining_ms = 119_000;
                }
                render(&ui.window, &ui.session.borrow());
                let alarms = ui.window.global::<perfuse_ui::Alarms>();
                if !ui.window.get_alarm_cause_fits() || !ui.window.get_alarm_action_fits() {
                    cut.push(format!(
                        "{language:?} {width}x{height} {condition:?}: cause \"{}\" fits {}, action \"{}{}\" fits {}",
                        alarms.get_cause(),
                        ui.window.get_alarm_cause_fits(),
                        alarms.get_action(),
                        alarms.get_more(),
                        ui.window.get_alarm_action_fits()
                    ));
                }
            }
        }
    }
    assert!(cut.is_empty(), "cut off:\n{}", cut.join("\n"));
    // The check can fail: three lines of cause, or of action, do not fit.
    let ui = Ui::new(Platform::Syringe50, Language::German);
    ui.window
        .window()
        .set_size(slint::LogicalSize::new(800.0, 480.0));
    render(&ui.window, &ui.session.borrow());
    let alarms = ui.window.global::<perfuse_ui::Alarms>();
    alarms.set_level(perfuse_ui::AlarmLevel::High);
    let long = "Die Sicherheitsüberwachung hat die Pumpe gestoppt ".repeat(3);
    alarms.set_cause(long.clone().into());
    assert!(
        !ui.window.get_alarm_cause_fits(),
        "three lines of cause fit?"
    );
    alarms.set_cause("Tür offen".into());
    assert!(ui.window.get_alarm_cause_fits());
    alarms.set_action(long.into());
    assert!(
        !ui.window.get_alarm_action_fits(),
        "three lines of action fit?"
    );
}

/// Cells of the system fault matrix (docs/system-fault-matrix.md) walked
/// through the window on the testing back-end: the fault, the banner and
/// the page naming it, the bar agreeing with the page, then the nurse's
/// recovery back to delivery.
#[test]
fn matrix_cells_through_the_window_name_the_fault_and_recover() {
    use perfuse_sim::Faults;
    let cells: [(&str, Faults, &str); 3] = [
        (
            "door open",
            Faults {
                door_open: true,
                ..Faults::NONE
            },
            "Door open",
        ),
        (
            "syringe removed",
            Faults {
                container_removed: true,
                ..Faults::NONE
            },
            "Syringe or set not loaded",
        ),
        (
            "motor stall",
            Faults {
                motor_stall: true,
                ..Faults::NONE
            },
            "Pump mechanism stalled",
        ),
    ];
    for (name, fault, cause) in cells {
        let ui = Ui::new(Platform::Syringe50, Language::English);
        basic_program(&ui);
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        ui.rig
            .borrow_mut()
            .simulator
            .physics_mut()
            .set_faults(fault);
        ui.refresh_until(name, |snapshot| snapshot.mode == Mode::AlarmStopped);
        let alarms = ui.window.global::<perfuse_ui::Alarms>();
        assert_eq!(alarms.get_level(), perfuse_ui::AlarmLevel::High, "{name}");
        let shown = alarms.get_cause().to_string();
        assert!(shown.starts_with(cause), "{name}: the banner says {shown}");
        let running = ui.window.global::<RunningAdapter>();
        assert_eq!(running.get_state(), format!("Stopped: {shown}"), "{name}");
        assert_eq!(
            ui.window.global::<Frame>().get_page_title(),
            "Stopped by an alarm",
            "{name}: the bar does not say the pump is stopped"
        );
        ui.rig
            .borrow_mut()
            .simulator
            .physics_mut()
            .set_faults(Faults::NONE);
        ui.press("AlarmBanner::acknowledge-button");
        ui.refresh_until("cleared", |snapshot| snapshot.mode == Mode::Paused);
        assert_eq!(running.get_state(), "Paused", "{name}");
        ui.press("RunningPage::resume-button");
        ui.refresh_until("delivering again", |snapshot| {
            snapshot.mode == Mode::Delivering
        });
        assert_eq!(
            ui.window.global::<Frame>().get_page_title(),
            running.get_state()
        );
    }
}
