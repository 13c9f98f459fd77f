//! The app with its touchscreen: the control thread and the shared
//! services (`boot`, `crate::services`), driven by the Slint window. Where the
//! platform fails its check, the window opens on the "platform not
//! verified" screen and no infusion can be programmed.

use std::path::PathBuf;

use super::boot::{NotReady, Prepared};
use crate::control::api::{Command, ControlEvent, Mode, Snapshot};
use crate::control::thread::ControlHandle;
use crate::control::units::Nanolitres;
use crate::druglib::startup::Startup;
use crate::services::kept::{Interrupted, KeptProgram};
use crate::services::Services;
use crate::store::Event;
use crate::therapy::RateLimits;
use crate::ui::backlight::Backlight;
use crate::ui::pump::{MemoryRecorder, Pump, SendRefusal};
use crate::ui::session::{
    biomed_facts, settings_pin, LibraryState, Session, Setup, DEFAULT_SETTINGS_PIN,
};
use crate::ui::text::Language;

/// The pump of a platform that failed its check: it takes no command.
struct RejectedPump;

impl Pump for RejectedPump {
    fn send(&mut self, _: Command) -> Result<(), SendRefusal> {
        Err(SendRefusal::PlatformNotVerified)
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

/// What the window is started with besides the app itself.
pub struct WindowSetup {
    /// The drug library the pump started with, and why
    /// (`druglib::startup::start_library`).
    pub library: Startup,
    pub language: Language,
    /// The supervisor's socket (for the biomedical page).
    pub socket: PathBuf,
    pub backlight: Option<Backlight>,
    /// Where it draws: the panel through DRM/KMS, or a desktop window.
    pub display: super::display::Display,
}

/// The history's record of the library in use, and of a refused one.
fn library_records(startup: &Startup) -> Vec<Event> {
    let activated = |verified: &crate::druglib::VerifiedLibrary| Event::LibraryActivated {
        name: verified.library.identity.name.clone(),
        version: verified.library.identity.version.clone(),
        hash: verified.library.identity.hash_hex(),
    };
    match startup {
        Startup::Installed(verified) | Startup::Activated(verified) => vec![activated(verified)],
        Startup::LastGood { .. } | Startup::None { .. } => {
            let refused = Event::LibraryRefused {
                detail: startup.describe(),
            };
            match startup.library() {
                Some(verified) => vec![refused, activated(verified)],
                None => vec![refused],
            }
        }
    }
}

/// Runs the window on `prepared` (or on the "platform not verified" screen).
pub fn run_window(prepared: Result<Prepared, NotReady>, setup: WindowSetup) -> Result<(), String> {
    setup.display.select()?;
    let pin = match std::env::var("PERFUSE_SETTINGS_PIN") {
        Ok(text) => {
            settings_pin(&text).map_err(|error| format!("PERFUSE_SETTINGS_PIN: {error}"))?
        }
        Err(_) => DEFAULT_SETTINGS_PIN.to_owned(),
    };
    let WindowSetup {
        library: startup,
        language,
        socket,
        backlight,
        display: _,
    } = setup;
    let (library_state, library) = LibraryState::of(&startup);
    let session = match prepared {
        Ok(prepared) => {
            let (mut pump, limits, platform, syringes) = AppPump::new(prepared);
            for record in library_records(&startup) {
                pump.services.record(record);
            }
            pump.services.use_library(
                startup
                    .library()
                    .map(|verified| verified.library.identity.clone()),
            );
            let (recorder, history) = pump.recorder();
            let biomed = biomed_facts(
                &platform,
                limits,
                library.as_deref(),
                &socket.display().to_string(),
            );
            Session::new(
                Setup {
                    platform: platform.clone(),
                    rejected: None,
                    library,
                    library_state,
                    limits,
                    language,
                    history,
                    settings_pin: pin,
                    biomed,
                    backlight: backlight.clone(),
                    // The syringe named at the start is metered with until
                    // the nurse confirms the one loaded.
                    syringes: syringes.options,
                    syringe: syringes.started_with,
                    syringe_confirmed: false,
                },
                Box::new(pump),
                recorder,
            )?
        }
        Err(NotReady::Platform(rejection)) => {
            // The full technical text, for biomedical engineering.
            tracing::error!("platform not verified: {rejection}. {}", rejection.action());
            let records = MemoryRecorder::default();
            Session::new(
                Setup {
                    platform: String::new(),
                    rejected: Some(rejection.clone()),
                    library,
                    library_state,
                    limits: RateLimits::ANY_PLATFORM,
                    language,
                    history: Box::new(records.clone()),
                    settings_pin: pin,
                    biomed: Vec::new(),
                    backlight: None,
                    syringes: Vec::new(),
                    syringe: None,
                    syringe_confirmed: false,
                },
                Box::new(RejectedPump),
                Box::new(records),
            )?
        }
        Err(NotReady::Other(message)) => return Err(message),
    };
    crate::ui::window::run(session)
}

/// The control thread with the services that follow it (event records,
/// the kept program, the storage-fault alarm), as the window drives it.
pub struct AppPump {
    handle: Option<ControlHandle>,
    services: Services,
}

impl AppPump {
    pub fn new(
        prepared: Prepared,
    ) -> (
        AppPump,
        crate::therapy::RateLimits,
        String,
        crate::app::boot::Syringes,
    ) {
        let Prepared {
            handle,
            limits,
            services,
            platform,
            syringes,
        } = prepared;
        (
            AppPump {
                handle: Some(handle),
                services,
            },
            limits,
            platform,
            syringes,
        )
    }

    /// Where the window records interactions: the event log, or nowhere if
    /// it could not be opened (the storage-fault alarm then says so).
    /// Where the touchscreen records, and where its history screen reads:
    /// the event log's writer, or memory when the log cannot be used.
    pub fn recorder(
        &self,
    ) -> (
        Box<dyn crate::ui::pump::Recorder>,
        Box<dyn crate::ui::history::History>,
    ) {
        match self.services.store() {
            Some(writer) => (
                Box::new(writer.handle()),
                Box::new(crate::ui::history::LogHistory {
                    store: writer.handle(),
                }),
            ),
            None => {
                let memory = MemoryRecorder::default();
                (Box::new(memory.clone()), Box::new(memory))
            }
        }
    }
}

impl Pump for AppPump {
    fn interrupted(&mut self) -> Option<Interrupted> {
        self.services.interrupted.clone()
    }

    fn keep(&mut self, program: Option<KeptProgram>, delivered_before: Nanolitres) {
        self.services.keep(program, delivered_before);
    }

    fn send(&mut self, command: Command) -> Result<(), SendRefusal> {
        match self.handle.as_mut() {
            Some(handle) => handle.send(command).map_err(|_| SendRefusal::QueueFull),
            None => Err(SendRefusal::ControlStopped),
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let Some(handle) = self.handle.as_mut() else {
            return Snapshot::default();
        };
        let snapshot = handle.snapshot();
        self.services.follow(&snapshot);
        if let Some(fault) = self.services.storage_change() {
            let _ = handle.send(Command::StorageFault(fault));
        }
        snapshot
    }

    fn take_order(&mut self) -> Option<perfuse_link::local::ProposedOrder> {
        self.services.link.as_mut()?.take_order()
    }

    fn answer_order(&mut self, order_id: &str, outcome: perfuse_link::local::OrderOutcome) {
        if let Some(link) = self.services.link.as_mut() {
            link.answer(order_id, outcome);
        }
    }

    fn staged_library(&mut self) -> Option<Result<crate::druglib::VerifiedLibrary, String>> {
        self.services.staged_library()
    }

    fn activate_library(&mut self, mode: Mode) -> Result<crate::druglib::VerifiedLibrary, String> {
        self.services
            .activate_library(mode)
            .map_err(|error| error.to_string())
    }

    fn library_news(&mut self) -> bool {
        self.services.take_library_news().is_some()
    }

    fn events(&mut self) -> Vec<crate::control::api::ControlEvent> {
        self.handle
            .as_mut()
            .map(|handle| handle.events(64))
            .unwrap_or_default()
    }
}

impl Drop for AppPump {
    fn drop(&mut self) {
        self.services.record(Event::PowerOff);
        if let Some(handle) = self.handle.take() {
            let _ = handle.stop();
        }
    }
}
