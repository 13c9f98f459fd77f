//! The touchscreen's state and the nurse's actions on it, without Slint:
//! which screen is up, the program being entered, the infusion running,
//! and the records of every interaction. The window (`window/`) shows a
//! session and forwards presses to it; UI tests drive the same session
//! through the window.
//!
//! Every action is recorded (screen, element, value, monotonic time) for
//! usability metrics. Nothing here computes a dose or checks a limit: the
//! workflow asks the therapy core and the drug library.

use std::sync::Arc;
use std::time::Instant;

use rust_decimal::Decimal;

use super::backlight::Backlight;
use super::history::{History, HistoryFilter};
use super::keypad::Key;
use super::pump::{Pump, Recorder};
use super::text::{Arg, Language, Texts};
use super::workflow::{Kind, Pick, Problem, Running, Step, Workflow};
use crate::control::api::{Command, ControlEvent, Mode, Snapshot};
use crate::control::program::program_from_plan;
use crate::control::settings::SyringeOption;
use crate::control::state::Segment as ControlSegment;
use crate::control::units::{Nanolitres, NanolitresPerHour};
use crate::druglib::startup::{basic_only, Startup, Unusable};
use crate::druglib::{ConfirmedProgram, Library, Override};
use crate::platform::PlatformRejection;
use crate::services::kept::{Interrupted, KeptProgram, KeptTherapy};
use crate::store::{Action, Event, Page, Recorded};
use crate::therapy::{
    display_decimal, DeliveryPlan, Medication, Millilitres, MillilitresPerHour, RateLimits,
};
use perfuse_drivers::annunciator::AlarmVolume;

mod interrupted;
mod menu;
mod order;
mod program;
mod running;
mod start_later;
mod syringe;

pub use menu::{biomed_facts, library_fact, settings_pin, DEFAULT_SETTINGS_PIN};
pub use program::{END_KVO_ID, END_STOP_ID};
pub use running::Allowed;
pub use start_later::START_LATER_MINUTES;

/// The screen on show, with what only that screen needs: it goes when the
/// screen does.
#[derive(Debug, Clone)]
pub enum Screen {
    /// Self-test and checks, until the controller is up.
    Startup,
    /// The platform failed its check (at boot, with why; or when the
    /// control thread refused it). No infusion.
    NotVerified(Option<Box<PlatformRejection>>),
    /// Nothing running: program a new infusion.
    Home,
    /// The programming workflow.
    Program(Box<Programming>),
    /// An infusion loaded or running.
    Running,
    /// A program kept from before an interruption: resume or discard.
    Interrupted,
    /// History, settings (behind the PIN) or the screen lock, over the
    /// home or running screen.
    Menu(MenuView),
    /// The syringe loaded, confirmed from those the platform's profile
    /// lists (syringe platforms); then on to a new program if that is
    /// what the nurse was doing.
    Syringe { then: AfterSyringe },
    /// When a confirmed program starts: on the nurse's command (standby)
    /// or by itself after a delay; back to its review on Cancel.
    StartLater(Box<Programming>),
    /// An infusion order from the hospital (`Session::order`), for the
    /// nurse to compare, then review or decline.
    Order,
}

/// Where the syringe page goes once the syringe is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSyringe {
    Home,
    /// On to the new infusion the nurse was starting.
    NewProgram,
    /// On to the review of the order on the desk, checked again against
    /// the syringe confirmed.
    Order,
}

/// What the menu shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuView {
    /// The latest events under the session's filter, or why they could not
    /// be read.
    History {
        rows: Result<Vec<Recorded>, String>,
    },
    /// The settings PIN being typed.
    Pin(PinEntry),
    Settings,
    Locked {
        /// The first press of Unlock was given; the second unlocks.
        unlock_armed: bool,
    },
}

/// The PIN as typed on the PIN page (shown as dots, never recorded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinEntry {
    pub typed: String,
    /// The last PIN entered was wrong.
    pub wrong: bool,
}

/// A program being entered.
#[derive(Debug, Clone)]
pub struct Programming {
    pub workflow: Workflow,
    /// Overrides confirmed on the review so far.
    pub overrides: Vec<Override>,
    /// The on-screen keyboard of the drug search is up.
    pub keyboard: bool,
    /// Volume infused before, when this program resumes an interrupted one.
    resuming_from: Option<Nanolitres>,
}

impl Programming {
    fn new(workflow: Workflow) -> Self {
        Programming {
            workflow,
            overrides: Vec::new(),
            keyboard: false,
            resuming_from: None,
        }
    }
}

impl Screen {
    /// The name recorded for usability metrics.
    pub const fn page(&self) -> Page {
        match self {
            Screen::Startup => Page::Startup,
            Screen::NotVerified(_) => Page::NotVerified,
            Screen::Home => Page::Home,
            Screen::Program(_) => Page::Program,
            Screen::Running => Page::Running,
            Screen::Interrupted => Page::Interrupted,
            Screen::Menu(MenuView::History { .. }) => Page::History,
            Screen::Menu(MenuView::Pin(_)) => Page::Pin,
            Screen::Menu(MenuView::Settings) => Page::Settings,
            Screen::Menu(MenuView::Locked { .. }) => Page::Locked,
            Screen::Syringe { .. } => Page::Syringe,
            Screen::StartLater(_) => Page::StartLater,
            Screen::Order => Page::Order,
        }
    }
}

/// Which drug library the pump started with, for the start-up and home
/// pages (the library itself is the session's `library`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryState {
    /// The installed library verified.
    Installed,
    /// A library from the hospital, activated on this pump, is in use.
    Activated,
    /// The installed library could not be used; the last good one is.
    LastGood(Unusable),
    /// No library can be used: basic infusions only.
    None(Unusable),
}

impl LibraryState {
    /// The state after a start with `startup`, and the library in use.
    pub fn of(startup: &Startup) -> (LibraryState, Option<Arc<Library>>) {
        let library = startup
            .library()
            .map(|verified| Arc::new(verified.library.clone()));
        let state = match startup {
            Startup::Installed(_) => LibraryState::Installed,
            Startup::Activated(_) => LibraryState::Activated,
            Startup::LastGood { installed, .. } => LibraryState::LastGood(installed.clone()),
            Startup::None { installed, .. } => LibraryState::None(installed.clone()),
        };
        (state, library)
    }
}

/// What the session is started with.
pub struct Setup {
    /// The verified platform's name (on every screen).
    pub platform: String,
    /// Why the platform check failed, if it did.
    pub rejected: Option<PlatformRejection>,
    /// The drug library in use (None: basic infusions only), and why.
    pub library: Option<Arc<Library>>,
    pub library_state: LibraryState,
    pub limits: RateLimits,
    pub language: Language,
    /// Where the history screen reads the log.
    pub history: Box<dyn History>,
    /// The PIN that opens the settings (digits).
    pub settings_pin: String,
    /// Biomedical details for the settings: (message id, value).
    pub biomed: Vec<(&'static str, String)>,
    /// The panel's backlight on a device; None in simulation (the window
    /// dims itself).
    pub backlight: Option<Backlight>,
    /// The syringes the platform's profile lists (none on a volumetric
    /// pump), the one metered with, and whether the nurse confirmed it.
    pub syringes: Vec<SyringeOption>,
    pub syringe: Option<usize>,
    pub syringe_confirmed: bool,
}

/// The infusion the pump was given, for the running screen and for the
/// bolus, secondary or titration built on it.
#[derive(Debug, Clone)]
pub struct Active {
    /// The drug's display name; None for a basic infusion.
    pub drug: Option<String>,
    pub running: Running,
    /// The dose unit, for a drug dosed by rate.
    pub dose_unit: Option<String>,
    /// nL of this program infused before an interruption it was resumed
    /// from: "Infused" on the running page counts them too.
    pub infused_before_nl: u64,
}

/// A message to show on the current step: a refused entry or command.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Problem(Problem),
    Refused(String),
}

pub struct Session {
    pub texts: Texts,
    pub screen: Screen,
    pub platform: String,
    pub library: Option<Arc<Library>>,
    pub limits: RateLimits,
    pub library_state: LibraryState,
    /// The care area chosen for this patient: each new infusion starts in
    /// it, until the nurse changes it (back to the care area step).
    pub care_area: Option<String>,
    pub notice: Option<Notice>,
    pub active: Option<Active>,
    pub snapshot: Snapshot,
    /// The program interrupted before this start, until resumed or discarded.
    pub interrupted: Option<Interrupted>,
    history: Box<dyn History>,
    pub history_filter: HistoryFilter,
    settings_pin: String,
    pub biomed: Vec<(&'static str, String)>,
    /// Screen brightness in tenths (1 to 10).
    pub brightness_tenths: u8,
    pub backlight: Option<Backlight>,
    /// The alarm volume set here (the control thread passes it to the
    /// supervisor, which sounds the buzzer; the loudest at every start).
    pub alarm_volume: AlarmVolume,
    /// The syringes of the profile, the one metered with (`limits` are its)
    /// and whether the nurse confirmed it since it was loaded.
    pub syringes: Vec<SyringeOption>,
    pub syringe: Option<usize>,
    pub syringe_confirmed: bool,
    /// The syringe switch showed one loaded at the last refresh.
    container_was_loaded: bool,
    /// The alarm last shown, to record each one shown once.
    shown_alarm: Option<crate::alarms::Condition>,
    /// The list of every raised alarm is open (the banner's "+N").
    pub alarm_list_open: bool,
    /// The hospital's order before the nurse, and the order numbers seen.
    orders: crate::services::orders::OrderDesk,
    /// The care areas the order passes the library in, each with its
    /// program at the review, and the one chosen.
    order_programs: Vec<(String, Workflow)>,
    order_area: Option<usize>,
    /// The order page shows the care areas to choose from.
    order_picking: bool,
    /// The library staged from the hospital (verified again when it
    /// arrived and when the settings open), or why it cannot be used.
    pub staged: Option<Result<crate::druglib::VerifiedLibrary, String>>,
    /// Activate was pressed once: the next press activates.
    pub activation_armed: bool,
    pump: Box<dyn Pump>,
    recorder: Box<dyn Recorder>,
    started: Instant,
}

impl Session {
    pub fn new(
        setup: Setup,
        mut pump: Box<dyn Pump>,
        recorder: Box<dyn Recorder>,
    ) -> Result<Session, String> {
        let interrupted = pump.interrupted();
        let texts = Texts::new(setup.language).map_err(|error| error.to_string())?;
        let screen = match setup.rejected {
            Some(rejection) => Screen::NotVerified(Some(Box::new(rejection))),
            None => Screen::Startup,
        };
        let mut session = Session {
            texts,
            screen,
            platform: setup.platform,
            library: setup.library,
            limits: setup.limits,
            library_state: setup.library_state,
            care_area: None,
            notice: None,
            active: None,
            snapshot: Snapshot::default(),
            interrupted,
            history: setup.history,
            history_filter: HistoryFilter::All,
            settings_pin: setup.settings_pin,
            biomed: setup.biomed,
            brightness_tenths: 10,
            backlight: setup.backlight,
            alarm_volume: AlarmVolume::LOUDEST,
            syringes: setup.syringes,
            syringe: setup.syringe,
            syringe_confirmed: setup.syringe_confirmed,
            // A syringe in place at the start needs no removal to be asked
            // for: the start is unconfirmed (Setup) unless a test says.
            container_was_loaded: true,
            shown_alarm: None,
            alarm_list_open: false,
            orders: crate::services::orders::OrderDesk::default(),
            order_programs: Vec::new(),
            order_area: None,
            order_picking: false,
            staged: None,
            activation_armed: false,
            pump,
            recorder,
            started: Instant::now(),
        };
        session.staged = session.pump.staged_library();
        session.interaction(Action::Page, session.screen.page().name().to_owned());
        Ok(session)
    }

    /// Milliseconds since the session started (monotonic).
    pub fn uptime_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records one interaction on the current screen.
    pub fn interaction(&mut self, action: Action, element: String) {
        let event = Event::Interaction {
            screen: self.screen.page(),
            action,
            element,
            monotonic_ms: self.uptime_ms(),
        };
        self.recorder.record(event);
    }

    /// A touch on `element` of the current screen.
    pub fn touch(&mut self, element: &str) {
        self.interaction(Action::Touch, element.to_owned());
    }

    /// Shows `screen`, with its own state; a new page is recorded.
    fn show(&mut self, screen: Screen) {
        let new_page = screen.page() != self.screen.page();
        self.screen = screen;
        if new_page {
            self.notice = None;
            self.activation_armed = false;
            self.interaction(Action::Page, self.screen.page().name().to_owned());
        }
    }

    /// The program being entered, on the programming screen.
    pub fn programming(&self) -> Option<&Programming> {
        if let Screen::Program(programming) = &self.screen {
            Some(programming)
        } else {
            None
        }
    }

    fn programming_mut(&mut self) -> Option<&mut Programming> {
        if let Screen::Program(programming) = &mut self.screen {
            Some(programming)
        } else {
            None
        }
    }

    /// The workflow being entered, on the programming screen.
    pub fn workflow(&self) -> Option<&Workflow> {
        self.programming().map(|programming| &programming.workflow)
    }

    fn send(&mut self, command: Command) -> bool {
        match self.pump.send(command) {
            Ok(()) => true,
            Err(refusal) => {
                let text = crate::ui::words::send_refusal_text(&self.texts, refusal);
                self.notice = Some(Notice::Refused(text));
                false
            }
        }
    }

    /// Switches language at run time.
    pub fn set_language(&mut self, language: Language) {
        if self.texts.switch(language).is_ok() {
            self.interaction(Action::Value, format!("language {}", language.tag()));
        }
    }

    // ---------------------------------------------------------------- refresh

    /// Takes the pump's latest state and events; moves between screens as
    /// the pump's mode requires. Called about ten times a second.
    pub fn refresh(&mut self) {
        self.snapshot = self.pump.snapshot();
        self.watch_syringe_switch();
        for event in self.pump.events() {
            let program = self
                .active
                .as_ref()
                .map(|active| self.describe(active))
                .unwrap_or_default();
            if let Some(record) = crate::services::records::record_of(&event, &program) {
                self.recorder.record(record);
            }
            if let ControlEvent::Refused(kind) = event {
                self.notice = Some(Notice::Refused(
                    self.texts.get(crate::ui::words::command_id(kind)),
                ));
            }
        }
        let top = self
            .snapshot
            .alarms
            .iter()
            .flatten()
            .next()
            .map(|alarm| alarm.condition);
        // Nothing left to list: the list closes by itself.
        if top.is_none() {
            self.alarm_list_open = false;
        }
        if top != self.shown_alarm {
            if let Some(condition) = top {
                self.interaction(Action::AlarmShown, condition.name().to_owned());
            }
            self.shown_alarm = top;
        }
        match (&self.screen, self.snapshot.mode) {
            (Screen::Startup, Mode::Idle) if self.interrupted.is_some() => {
                self.show(Screen::Interrupted);
            }
            (Screen::Startup, Mode::Idle) => self.show(Screen::Home),
            (Screen::Startup | Screen::Home, Mode::PlatformRejected) => {
                self.show(Screen::NotVerified(None))
            }
            (Screen::Running, Mode::Idle) => {
                self.active = None;
                self.show(Screen::Home);
            }
            (Screen::Menu(_), Mode::Idle) => self.active = None,
            _ => {}
        }
        self.follow_orders();
        if self.pump.library_news() {
            self.staged = self.pump.staged_library();
            self.activation_armed = false;
        }
    }

    fn describe(&self, active: &Active) -> String {
        let name = active
            .drug
            .clone()
            .unwrap_or_else(|| self.texts.get("running-basic"));
        match &active.dose_unit {
            Some(unit) => format!("{name} {} {unit}", display_decimal(active.running.dose)),
            None => format!("{name} {} mL/h", display_decimal(active.running.dose)),
        }
    }

    // ---------------------------------------------------------------- home

    /// Can a new infusion be programmed now?
    pub fn can_program(&self) -> bool {
        matches!(self.screen, Screen::Home)
    }

    /// What programs are checked against: the drug library in use, or with
    /// none, the basic-infusions-only library (no drugs; the platform's
    /// limits).
    pub fn programming_library(&self) -> Arc<Library> {
        self.library
            .clone()
            .unwrap_or_else(|| Arc::new(basic_only()))
    }

    pub fn step(&self) -> Option<Step> {
        self.workflow().map(Workflow::step)
    }

    fn step_name(&self) -> String {
        self.step()
            .map(|step| step.name().to_owned())
            .unwrap_or_default()
    }

    /// The medication of the active infusion, if any.
    pub fn medication(&self) -> Option<Medication> {
        self.active.as_ref().map(|active| active.running.medication)
    }
}
