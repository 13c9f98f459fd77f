//! The app with its touchscreen: the control thread and services of
//! `headless`, driven by the Slint window instead of stdin. Where the
//! platform fails its check, the window opens on the "platform not
//! verified" screen and no infusion can be programmed.

use std::sync::Arc;

use super::headless::{prepare, AppPump, Cli, NotReady};
use crate::control::controller::{Command, ControlEvent, Mode, Snapshot};
use crate::druglib::Library;
use crate::therapy::RateLimits;
use crate::ui::pump::{MemoryRecorder, Pump};
use crate::ui::session::{Session, Setup, StartupCheck};
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
    let session = match prepare(cli) {
        Ok(prepared) => {
            let (pump, limits, platform) = AppPump::new(prepared);
            let recorder = pump.recorder();
            Session::new(
                Setup {
                    platform: platform.clone(),
                    rejected: None,
                    library,
                    limits,
                    checks: checks(Ok(platform)),
                    language,
                },
                Box::new(pump),
                recorder,
            )?
        }
        Err(NotReady::Platform { why, action }) => Session::new(
            Setup {
                platform: String::new(),
                rejected: Some((why.clone(), action)),
                library,
                limits: RateLimits::ANY_PLATFORM,
                checks: checks(Err(why)),
                language,
            },
            Box::new(RejectedPump),
            Box::new(MemoryRecorder::default()),
        )?,
        Err(NotReady::Other(message)) => return Err(message),
    };
    crate::ui::window::run(session)
}
