//! The app with its touchscreen: the control thread and services of
//! `headless`, driven by the Slint window instead of stdin. Where the
//! platform fails its check, the window opens on the "platform not
//! verified" screen and no infusion can be programmed.

use std::sync::Arc;

use super::headless::{prepare, AppPump, Cli, NotReady};
use crate::control::controller::{Command, ControlEvent, Mode, Snapshot};
use crate::druglib::Library;
use crate::therapy::RateLimits;
use crate::ui::history::LogHistory;
use crate::ui::pump::{MemoryRecorder, Pump};
use crate::ui::session::{
    biomed_facts, settings_pin, Session, Setup, StartupCheck, DEFAULT_SETTINGS_PIN,
};
use crate::ui::text::Language;

/// The pump of a platform that failed its check: it takes no command.
struct RejectedPump;

impl Pump for RejectedPump {
    fn send(&mut self, _: Command) -> Result<(), String> {
        Err("the platform is not verified: no infusion is possible".to_owned())
    }

    fn snapshot(&mut self) -> Snapshot {
        Snapshot {
            mode: Mode::PlatformRejected,
            ..Snapshot::default()
        }
    }

    fn events(&mut self) -> Vec<ControlEvent> {
        Vec::new()
    }
}

/// Is there a display to open a window on?
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// Runs the app in its window until the window is closed.
pub fn run_window(
    cli: &Cli,
    library: Option<Arc<Library>>,
    library_check: Result<String, String>,
    language: Language,
) -> Result<(), String> {
    if !display_available() {
        return Err(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the pump window cannot open. \
             Run it in a desktop session (or under Xvfb), or use `perfuse --headless` for the line-command app"
                .to_owned(),
        );
    }
    let checks = |platform: Result<String, String>| {
        vec![
            StartupCheck {
                name: "startup-step-platform",
                result: platform,
            },
            StartupCheck {
                name: "startup-step-library",
                result: library_check.clone(),
            },
            StartupCheck {
                name: "startup-step-supervisor",
                result: Ok(cli
                    .socket
                    .clone()
                    .unwrap_or_else(|| cli.sim_dir.join("supervisor.sock"))
                    .display()
                    .to_string()),
            },
        ]
    };
    let pin = match std::env::var("PERFUSE_SETTINGS_PIN") {
        Ok(text) => {
            settings_pin(&text).map_err(|error| format!("PERFUSE_SETTINGS_PIN: {error}"))?
        }
        Err(_) => DEFAULT_SETTINGS_PIN.to_owned(),
    };
    let store = cli
        .store
        .clone()
        .unwrap_or_else(|| cli.sim_dir.join("events.db"));
    let session = match prepare(cli) {
        Ok(prepared) => {
            let (pump, limits, platform) = AppPump::new(prepared);
            let recorder = pump.recorder();
            let biomed = biomed_facts(&platform, limits, library.as_deref());
            Session::new(
                Setup {
                    platform: platform.clone(),
                    rejected: None,
                    library,
                    limits,
                    checks: checks(Ok(platform)),
                    language,
                    history: Box::new(LogHistory { path: store }),
                    settings_pin: pin,
                    biomed,
                },
                Box::new(pump),
                recorder,
            )?
        }
        Err(NotReady::Platform { why, action }) => {
            let records = MemoryRecorder::default();
            Session::new(
                Setup {
                    platform: String::new(),
                    rejected: Some((why.clone(), action)),
                    library,
                    limits: RateLimits::ANY_PLATFORM,
                    checks: checks(Err(why)),
                    language,
                    history: Box::new(records.clone()),
                    settings_pin: pin,
                    biomed: Vec::new(),
                },
                Box::new(RejectedPump),
                Box::new(records),
            )?
        }
        Err(NotReady::Other(message)) => return Err(message),
    };
    crate::ui::window::run(session)
}
