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
