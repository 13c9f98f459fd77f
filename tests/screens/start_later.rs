//! Program now, start later: standby (on the nurse's command, reminded
//! every half hour instead of the five-minute callback) and a delayed start
//! that the control thread makes by itself, never over a flow-stopping
//! alarm. Through the controller on the simulated mechanism, and the window
//! on both platforms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::alarms::Condition;
use perfuse::control::api::{Command, CommandKind, ControlEvent, Mode, Snapshot, Standby};
use perfuse::control::state::End;
use perfuse::ui::text::Language;
use perfuse_sim::chip_fault;
use perfuse_testkit::rig::{continuous, Platform, Rig};
use perfuse_testkit::window::Ui;
use perfuse_ui::{RunningAdapter, StatusAdapter};
use slint::ComponentHandle;
use std::sync::atomic::Ordering;

fn callback_raised(snapshot: &Snapshot) -> bool {
    snapshot
        .alarms
        .iter()
        .flatten()
        .any(|alarm| alarm.condition == Condition::CallbackUnstarted)
}

fn loaded(platform: Platform) -> Rig {
    let mut rig = Rig::new(platform, 1000).unwrap();
    rig.run_until(5.0, |snapshot| snapshot.mode == Mode::Idle)
        .unwrap();
    rig.command(Command::Load(continuous(10.0, 5.0, End::Stop)));
    assert_eq!(rig.last.mode, Mode::Ready);
    rig
}

#[test]
fn a_delayed_start_starts_by_itself_at_its_time_with_no_callback_before() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let mut rig = loaded(platform);
        // Six minutes: past the five-minute callback of an unstarted pump.
        rig.command(Command::Standby(Standby::StartAfter { delay_ms: 360_000 }));
        assert_eq!(rig.last.starts_in_ms, Some(360_000));
        rig.run_for(355.0);
        assert_eq!(rig.last.mode, Mode::Ready, "{platform:?}");
        assert!(
            !callback_raised(&rig.last),
            "{platform:?}: a callback while waiting on purpose"
        );
        let left = rig.last.starts_in_ms.unwrap();
        assert!(
            (4_000..=5_000).contains(&left),
            "{platform:?}: {left} ms left"
        );
        let started = rig
            .run_until(6.0, |snapshot| snapshot.mode == Mode::Delivering)
            .unwrap();
        assert!(started > 4.0, "{platform:?}: started {started} s early");
        assert_eq!(rig.last.standby, None);
        assert_eq!(rig.last.commanded_rate.0, 10_000_000);
    }
}

#[test]
fn standby_reminds_at_its_own_interval_and_the_nurse_starts_it() {
    let mut rig = loaded(Platform::Volumetric);
    rig.command(Command::Standby(Standby::OnCommand));
    rig.run_for(6.0 * 60.0);
    assert!(
        !callback_raised(&rig.last),
        "standby is not the 5-minute callback"
    );
    assert_eq!(rig.last.standby, Some(Standby::OnCommand));
    rig.run_for(24.5 * 60.0);
    assert!(callback_raised(&rig.last), "the 30-minute reminder");
    // Answered: it comes back only after another interval.
    rig.command(Command::AcknowledgeAlarms);
    rig.run_for(60.0);
    assert!(!callback_raised(&rig.last));
    rig.command(Command::Start);
    assert_eq!(rig.last.mode, Mode::Delivering);
    assert_eq!(rig.last.standby, None);
}

#[test]
fn a_delayed_start_over_a_flow_stopping_alarm_does_not_start_and_calls_the_nurse() {
    let mut rig = loaded(Platform::Syringe50);
    rig.command(Command::Standby(Standby::StartAfter { delay_ms: 60_000 }));
    rig.run_for(30.0);
    // The stepper driver reports over-temperature before the start.
    rig.board
        .memory()
        .chip_faults
        .fetch_or(chip_fault::OVERTEMPERATURE, Ordering::AcqRel);
    rig.run_for(5.0);
    assert!(
        rig.last
            .alarms
            .iter()
            .flatten()
            .any(|alarm| alarm.condition == Condition::DriverFault),
        "{:?}",
        rig.last.alarms
    );
    rig.events.clear();
    rig.run_for(26.0);
    assert_ne!(rig.last.mode, Mode::Delivering);
    assert!(rig
        .events
        .contains(&ControlEvent::Refused(CommandKind::Start)));
    assert!(
        callback_raised(&rig.last),
        "the pump that did not start calls at once: {:?}",
        rig.last.alarms
    );
    assert_eq!(rig.last.steps, 0, "not a step");
}

#[test]
fn standby_is_refused_outside_a_loaded_program_and_beyond_its_delays() {
    let mut rig = Rig::new(Platform::Volumetric, 1000).unwrap();
    rig.run_until(5.0, |snapshot| snapshot.mode == Mode::Idle)
        .unwrap();
    rig.events.clear();
    rig.command(Command::Standby(Standby::OnCommand));
    assert!(rig
        .events
        .contains(&ControlEvent::Refused(CommandKind::Standby)));
    let mut rig = loaded(Platform::Volumetric);
    for delay_ms in [0, 59_999, 24 * 3_600_000 + 1] {
        rig.events.clear();
        rig.command(Command::Standby(Standby::StartAfter { delay_ms }));
        assert!(
            rig.events
                .contains(&ControlEvent::Refused(CommandKind::Standby)),
            "{delay_ms} ms"
        );
        assert_eq!(rig.last.standby, None);
    }
}

#[test]
fn start_later_through_the_window_on_both_platforms() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        crate::ui_window::basic_program(&ui);
        assert_eq!(ui.step_title(), "Review");
        ui.press("ProgramPage::start-later-button");
        assert_eq!(
            ui.window.global::<StatusAdapter>().get_title(),
            "When should it start?"
        );
        assert_eq!(
            ui.status_choices()
                .into_iter()
                .map(|(label, _)| label)
                .collect::<Vec<_>>(),
            vec![
                "On my command (standby)",
                "By itself in 0 h 15 min",
                "By itself in 0 h 30 min",
                "By itself in 1 h 0 min",
            ]
        );
        // Cancel is back on the review, as it was.
        ui.press("StatusPage::secondary-button");
        assert_eq!(ui.step_title(), "Review");
        ui.press("ProgramPage::start-later-button");
        ui.press_label("By itself in 0 h 15 min");
        ui.refresh();
        let running = ui.window.global::<RunningAdapter>();
        assert_eq!(
            running.get_state(),
            "Starts by itself in 15 min",
            "{platform:?}"
        );
        assert_eq!(
            ui.window.global::<perfuse_ui::Frame>().get_page_title(),
            "Standby"
        );
        // The control thread starts it at its time (virtual clock).
        // Each refresh is 0.1 s on the mechanism's clock: 15 min in 9,000.
        for _ in 0..10_000 {
            ui.refresh();
            if ui.session.borrow().snapshot.mode == Mode::Delivering {
                break;
            }
        }
        assert_eq!(
            ui.session.borrow().snapshot.mode,
            Mode::Delivering,
            "{platform:?}"
        );
        let infused_s = ui.session.borrow().snapshot.now_us / 1_000_000;
        assert!(
            infused_s >= 15 * 60,
            "{platform:?}: started at {infused_s} s"
        );
        assert_eq!(running.get_state(), "Infusing");

        // Standby: waits for Start.
        let ui = Ui::new(platform, Language::German);
        ui.press("StatusPage::primary-button");
        ui.press_label("ICU");
        ui.press_label("Basisinfusion (mL/h, ohne Medikament)");
        ui.enter("25");
        ui.enter("10");
        ui.press("ProgramPage::start-later-button");
        ui.press_label("Auf meinen Befehl (Standby)");
        ui.refresh();
        let running = ui.window.global::<RunningAdapter>();
        assert_eq!(running.get_state(), "Standby: Start berühren, wenn bereit");
        ui.press("RunningPage::start-button");
        ui.refresh_until("started", |snapshot| snapshot.mode == Mode::Delivering);
    }
}
