//! The alarm's visual signal through the window (IEC 60601-1-8): the
//! banner flashes at its priority's rate, with the alarm lights' timing,
//! and keeps flashing during an audio pause, which shows its own sign and
//! countdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::control::api::Mode;
use perfuse::ui::text::Language;
use perfuse_sim::Occlusion;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::window::Ui;
use perfuse_ui::{AlarmLevel, Alarms};
use slint::ComponentHandle;

/// The banner's lit phase at each of `refreshes` refreshes (0.1 s apart on
/// the mechanism's clock), and how often it changed.
fn flashes(ui: &Ui, refreshes: usize) -> (Vec<bool>, usize) {
    let alarms = ui.window.global::<Alarms>();
    let mut seen = Vec::new();
    for _ in 0..refreshes {
        ui.refresh();
        seen.push(alarms.get_lit());
    }
    let changes = seen.windows(2).filter(|pair| pair[0] != pair[1]).count();
    (seen, changes)
}

#[test]
fn the_banner_keeps_flashing_at_its_rate_while_the_alarm_is_silenced() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        crate::ui_window::basic_program(&ui);
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        ui.rig.borrow_mut().occlude_downstream(Occlusion::Full);
        ui.refresh_until("occlusion", |snapshot| snapshot.mode == Mode::AlarmStopped);
        let alarms = ui.window.global::<Alarms>();
        assert_eq!(alarms.get_level(), AlarmLevel::High);
        assert!(!alarms.get_audio_paused());
        // High priority: about 2 Hz, so over 3 s about 12 changes.
        let (_, sounding) = flashes(&ui, 30);
        assert!(
            (9..=15).contains(&sounding),
            "{platform:?}: {sounding} changes"
        );
        ui.press("AlarmBanner::silence-button");
        ui.refresh();
        assert!(alarms.get_audio_paused(), "{platform:?}");
        assert!(
            alarms.get_silenced().starts_with("Silenced"),
            "{}",
            alarms.get_silenced()
        );
        assert!(
            ui.has_button("AlarmBanner::audio-paused"),
            "the audio-paused sign"
        );
        let (seen, paused) = flashes(&ui, 30);
        assert!(
            (9..=15).contains(&paused),
            "{platform:?}: the banner stopped flashing during the audio pause: {seen:?}"
        );
    }
}

#[test]
fn the_other_alarms_are_counted_on_the_banner_and_listed_in_full_at_a_touch() {
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        let ui = Ui::new(platform, Language::English);
        crate::ui_window::basic_program(&ui);
        ui.press("ProgramPage::start-button");
        ui.refresh_until("delivering", |snapshot| snapshot.mode == Mode::Delivering);
        // The door opened and the syringe (or set) taken out: two alarms.
        ui.rig
            .borrow_mut()
            .simulator
            .physics_mut()
            .set_faults(perfuse_sim::Faults {
                door_open: true,
                container_removed: true,
                ..perfuse_sim::Faults::NONE
            });
        ui.refresh_until("door open, syringe out", |snapshot| {
            snapshot.alarms.iter().flatten().count() >= 2
        });
        ui.refresh();
        let alarms = ui.window.global::<Alarms>();
        assert_eq!(alarms.get_more(), "+1", "{platform:?}");
        assert!(!alarms.get_list_open());
        ui.press("AlarmBanner::more-button");
        ui.refresh();
        assert!(
            alarms.get_list_open(),
            "{platform:?}: the list did not open"
        );
        assert!(ui.has_button("AlarmList::close-button"));
        assert_eq!(alarms.get_list_title(), "All alarms (2)");
        let rows: Vec<_> = (0..slint::Model::row_count(&alarms.get_list()))
            .filter_map(|index| slint::Model::row_data(&alarms.get_list(), index))
            .collect();
        let causes: Vec<String> = rows.iter().map(|row| row.cause.to_string()).collect();
        assert_eq!(rows.len(), 2, "{causes:?}");
        // The banner's alarm first, both high, each with its state.
        assert_eq!(causes[0], alarms.get_cause().to_string());
        assert!(
            causes.iter().any(|cause| cause.contains("Door")),
            "{causes:?}"
        );
        let raised: Vec<_> = ui
            .rig
            .borrow()
            .last
            .alarms
            .iter()
            .flatten()
            .copied()
            .collect();
        for (row, alarm) in rows.iter().zip(&raised) {
            assert_eq!(row.level, AlarmLevel::High);
            assert_eq!(row.priority, "High priority");
            let state = if alarm.present {
                "just now · still present"
            } else {
                "just now · no longer detected, acknowledge to clear"
            };
            assert_eq!(row.state, state, "{alarm:?}");
        }
        // The banner stays above the list: silence and acknowledge work there.
        assert!(ui.has_button("AlarmBanner::silence-button"));
        ui.press("AlarmList::close-button");
        ui.refresh();
        assert!(
            !alarms.get_list_open(),
            "{platform:?}: the list did not close"
        );
        assert!(!ui.has_button("AlarmList::close-button"));
    }
}
