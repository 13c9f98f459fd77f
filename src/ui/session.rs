//! The touchscreen's state and the nurse's actions on it, without Slint:
//! which screen is up, the program being entered, the infusion running,
//! and the records of every interaction. The window (`window.rs`) shows a
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
use super::text::{Language, Texts};
use super::workflow::{Kind, Pick, Problem, Running, Step, Workflow};
use crate::control::controller::{Command, ControlEvent, Mode, Snapshot};
use crate::control::program::program_from_plan;
use crate::control::state::Segment as ControlSegment;
use crate::control::units::{Nanolitres, NanolitresPerHour};
use crate::druglib::{ConfirmError, ConfirmedProgram, Library, Override};
use crate::services::kept::{Interrupted, KeptProgram, KeptTherapy};
use crate::store::{Event, Recorded};
use crate::therapy::{display_decimal, DeliveryPlan, Medication, Millilitres, RateLimits};
use perfuse_drivers::annunciator::AlarmVolume;

/// The screen on show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// Self-test and checks, until the controller is up.
    Startup,
    /// The platform failed its check: why, and what to do. No infusion.
    NotVerified { why: String, action: String },
    /// Nothing running: program a new infusion.
    Home,
    /// The programming workflow.
    Program,
    /// An infusion loaded or running.
    Running,
    /// A program kept from before an interruption: resume or discard.
    Interrupted,
    /// History, settings (behind the PIN) or the screen lock, over the
    /// home or running screen.
    Menu(MenuView),
}

/// What the menu shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuView {
    History,
    Pin,
    Settings,
    Locked,
}

impl Screen {
    /// The name recorded for usability metrics.
    pub const fn name(&self) -> &'static str {
        match self {
            Screen::Startup => "startup",
            Screen::NotVerified { .. } => "not-verified",
            Screen::Home => "home",
            Screen::Program => "program",
            Screen::Running => "running",
            Screen::Interrupted => "interrupted",
            Screen::Menu(MenuView::History) => "history",
            Screen::Menu(MenuView::Pin) => "pin",
            Screen::Menu(MenuView::Settings) => "settings",
            Screen::Menu(MenuView::Locked) => "locked",
        }
    }
}

/// A start-up check as shown on the start-up screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupCheck {
    /// Message id of the check's name.
    pub name: &'static str,
    /// Passed with this detail, or failed with this reason.
    pub result: Result<String, String>,
}

/// What the session is started with.
pub struct Setup {
    /// The verified platform's name (on every screen).
    pub platform: String,
    /// The platform check failed: why, and what to do.
    pub rejected: Option<(String, String)>,
    pub library: Option<Arc<Library>>,
    pub limits: RateLimits,
    pub checks: Vec<StartupCheck>,
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
}

/// Longest PIN the keypad takes.
const PIN_DIGITS: usize = 8;

/// The settings PIN of a prototype that was given none
/// (`PERFUSE_SETTINGS_PIN` sets another). Not a secret: it keeps settings
/// away from a stray touch, not from a determined user.
pub const DEFAULT_SETTINGS_PIN: &str = "2580";

/// A settings PIN as configured: 4 to 8 digits.
pub fn settings_pin(text: &str) -> Result<String, String> {
    let digits = text.len();
    if (4..=PIN_DIGITS).contains(&digits) && text.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "the settings PIN must be 4 to {PIN_DIGITS} digits, not \"{text}\""
        ))
    }
}

/// The biomedical details the settings show.
pub fn biomed_facts(
    platform: &str,
    limits: RateLimits,
    library: Option<&Library>,
) -> Vec<(&'static str, String)> {
    vec![
        ("biomed-platform", platform.to_owned()),
        (
            "biomed-rates",
            format!(
                "{} – {} mL/h",
                display_decimal(limits.min.value()),
                display_decimal(limits.max.value())
            ),
        ),
        (
            "biomed-library",
            library.map_or_else(String::new, |library| library.identity.to_string()),
        ),
        (
            "biomed-software",
            format!("Perfuse {}", env!("CARGO_PKG_VERSION")),
        ),
    ]
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
    pub checks: Vec<StartupCheck>,
    pub workflow: Option<Workflow>,
    /// Overrides confirmed on the review so far.
    pub overrides: Vec<Override>,
    pub notice: Option<Notice>,
    pub active: Option<Active>,
    pub snapshot: Snapshot,
    /// The program interrupted before this start, until resumed or discarded.
    pub interrupted: Option<Interrupted>,
    /// Volume infused before, when the program started is a resume, nL.
    resuming_from_nl: Option<u64>,
    history: Box<dyn History>,
    pub history_filter: HistoryFilter,
    /// The rows on show (read when the history opens or its filter changes).
    pub history_rows: Result<Vec<Recorded>, String>,
    settings_pin: String,
    /// The PIN as typed (shown as dots).
    pub pin: String,
    pub pin_wrong: bool,
    pub biomed: Vec<(&'static str, String)>,
    /// Screen brightness in tenths (1 to 10).
    pub brightness_tenths: u8,
    pub backlight: Option<Backlight>,
    /// The alarm volume set here (the control thread passes it to the
    /// supervisor, which sounds the buzzer; the loudest at every start).
    pub alarm_volume: AlarmVolume,
    /// The on-screen keyboard of the drug search is up.
    pub keyboard: bool,
    /// The first press of Unlock was given; the second unlocks.
    pub unlock_armed: bool,
    /// The alarm last shown, to record each one shown once.
    shown_alarm: Option<crate::alarms::Condition>,
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
            Some((why, action)) => Screen::NotVerified { why, action },
            None => Screen::Startup,
        };
        let mut session = Session {
            texts,
            screen,
            platform: setup.platform,
            library: setup.library,
            limits: setup.limits,
            checks: setup.checks,
            workflow: None,
            overrides: Vec::new(),
            notice: None,
            active: None,
            snapshot: Snapshot::default(),
            interrupted,
            resuming_from_nl: None,
            history: setup.history,
            history_filter: HistoryFilter::All,
            history_rows: Ok(Vec::new()),
            settings_pin: setup.settings_pin,
            pin: String::new(),
            pin_wrong: false,
            biomed: setup.biomed,
            brightness_tenths: 10,
            backlight: setup.backlight,
            alarm_volume: AlarmVolume::LOUDEST,
            unlock_armed: false,
            keyboard: false,
            shown_alarm: None,
            pump,
            recorder,
            started: Instant::now(),
        };
        session.interaction("page", session.screen.name().to_owned());
        Ok(session)
    }

    fn monotonic_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records one interaction on the current screen.
    pub fn interaction(&mut self, action: &str, element: String) {
        let event = Event::Interaction {
            screen: self.screen.name().to_owned(),
            action: action.to_owned(),
            element,
            monotonic_ms: self.monotonic_ms(),
        };
        self.recorder.record(event);
    }

    /// A touch on `element` of the current screen.
    pub fn touch(&mut self, element: &str) {
        self.interaction("touch", element.to_owned());
    }

    fn show(&mut self, screen: Screen) {
        if screen != self.screen {
            self.screen = screen;
            self.notice = None;
            self.interaction("page", self.screen.name().to_owned());
        }
    }

    fn send(&mut self, command: Command) -> bool {
        match self.pump.send(command) {
            Ok(()) => true,
            Err(error) => {
                self.notice = Some(Notice::Refused(error));
                false
            }
        }
    }

    /// Switches language at run time.
    pub fn set_language(&mut self, language: Language) {
        if self.texts.switch(language).is_ok() {
            self.interaction("value", format!("language {}", language.tag()));
        }
    }

    // ---------------------------------------------------------------- refresh

    /// Takes the pump's latest state and events; moves between screens as
    /// the pump's mode requires. Called about ten times a second.
    pub fn refresh(&mut self) {
        self.snapshot = self.pump.snapshot();
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
                self.notice = Some(Notice::Refused(format!("{kind:?}")));
            }
        }
        let top = self
            .snapshot
            .alarms
            .iter()
            .flatten()
            .next()
            .map(|alarm| alarm.condition);
        if top != self.shown_alarm {
            if let Some(condition) = top {
                self.interaction("alarm-shown", format!("{condition:?}"));
            }
            self.shown_alarm = top;
        }
        match (&self.screen, self.snapshot.mode) {
            (Screen::Startup, Mode::Idle) if self.interrupted.is_some() => {
                self.show(Screen::Interrupted);
            }
            (Screen::Startup, Mode::Idle) => self.show(Screen::Home),
            (Screen::Startup | Screen::Home, Mode::PlatformRejected) => {
                self.show(Screen::NotVerified {
                    why: String::new(),
                    action: String::new(),
                })
            }
            (Screen::Running, Mode::Idle) => {
                self.active = None;
                self.show(Screen::Home);
            }
            (Screen::Menu(_), Mode::Idle) => self.active = None,
            _ => {}
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
        self.library.is_some() && self.screen == Screen::Home
    }

    pub fn new_program(&mut self) {
        self.touch("new-program");
        let Some(library) = self.library.clone() else {
            return;
        };
        if self.screen != Screen::Home {
            return;
        }
        self.workflow = Some(Workflow::primary(library, self.limits));
        self.overrides.clear();
        self.show(Screen::Program);
    }

    // ---------------------------------------------------------------- menu

    /// Opens the menu (history first) from home or the running screen.
    pub fn open_menu(&mut self) {
        self.touch("menu");
        if matches!(self.screen, Screen::Home | Screen::Running) {
            self.load_history();
            self.show(Screen::Menu(MenuView::History));
        }
    }

    /// Leaves the menu for where the pump is: running or home.
    pub fn close_menu(&mut self) {
        self.touch("close");
        if matches!(self.screen, Screen::Menu(MenuView::Locked)) {
            return;
        }
        self.pin.clear();
        let back = if self.active.is_some() {
            Screen::Running
        } else {
            Screen::Home
        };
        self.show(back);
    }

    fn load_history(&mut self) {
        self.history_rows = self.history.latest(self.history_filter);
    }

    pub fn show_history(&mut self) {
        self.touch("history");
        if matches!(
            self.screen,
            Screen::Menu(MenuView::History | MenuView::Pin | MenuView::Settings)
        ) {
            self.load_history();
            self.show(Screen::Menu(MenuView::History));
        }
    }

    pub fn filter_history(&mut self, filter: HistoryFilter) {
        self.touch(&format!("filter {filter:?}"));
        self.history_filter = filter;
        self.load_history();
    }

    /// Settings: behind the PIN, asked each time the settings are opened.
    pub fn show_settings(&mut self) {
        self.touch("settings");
        if matches!(self.screen, Screen::Menu(MenuView::History | MenuView::Pin)) {
            self.pin.clear();
            self.pin_wrong = false;
            self.show(Screen::Menu(MenuView::Pin));
        }
    }

    pub fn pin_key(&mut self, key: Key) {
        // The PIN itself is never recorded, only that a key was pressed.
        self.touch("pin key");
        self.pin_wrong = false;
        match key {
            Key::Digit(digit) if self.pin.len() < PIN_DIGITS => {
                self.pin.push(char::from(b'0' + digit.min(9)))
            }
            Key::Backspace => {
                self.pin.pop();
            }
            Key::Clear => self.pin.clear(),
            Key::Digit(_) | Key::Point => {}
        }
    }

    pub fn pin_enter(&mut self) {
        self.touch("pin enter");
        if self.screen != Screen::Menu(MenuView::Pin) {
            return;
        }
        if !self.settings_pin.is_empty() && self.pin == self.settings_pin {
            self.pin.clear();
            self.show(Screen::Menu(MenuView::Settings));
        } else {
            self.pin.clear();
            self.pin_wrong = true;
            self.interaction("value", "wrong PIN".to_owned());
        }
    }

    /// Brightness up or down one tenth, between a tenth and full.
    pub fn brightness(&mut self, brighter: bool) {
        self.touch(if brighter { "brighter" } else { "dimmer" });
        if self.screen != Screen::Menu(MenuView::Settings) {
            return;
        }
        self.brightness_tenths = if brighter {
            self.brightness_tenths.saturating_add(1).min(10)
        } else {
            self.brightness_tenths.saturating_sub(1).max(1)
        };
        self.interaction("value", format!("brightness {}0 %", self.brightness_tenths));
        if let Some(backlight) = &self.backlight {
            if let Err(error) = backlight.set(self.brightness_tenths) {
                self.notice = Some(Notice::Refused(error));
            }
        }
    }

    /// Alarm volume up or down one level, between the quietest (which
    /// still sounds) and the loudest.
    pub fn alarm_volume(&mut self, louder: bool) {
        self.touch(if louder { "louder" } else { "quieter" });
        if self.screen != Screen::Menu(MenuView::Settings) {
            return;
        }
        let volume = self.alarm_volume.step(louder);
        if self.send(Command::SetAlarmVolume(volume)) {
            self.alarm_volume = volume;
            self.interaction(
                "value",
                format!(
                    "alarm volume {} of {}",
                    volume.level(),
                    AlarmVolume::LOUDEST.level()
                ),
            );
        }
    }

    pub fn choose_language(&mut self, tag: &str) {
        self.touch(&format!("language {tag}"));
        if self.screen != Screen::Menu(MenuView::Settings) {
            return;
        }
        if let Ok(language) = Language::from_tag(tag) {
            self.set_language(language);
        }
    }

    /// Locks the screen: only the alarm banner and Unlock take touches.
    pub fn lock(&mut self) {
        self.touch("lock");
        if matches!(self.screen, Screen::Menu(_)) {
            self.unlock_armed = false;
            self.pin.clear();
            self.show(Screen::Menu(MenuView::Locked));
        }
    }

    /// Unlocks in two deliberate presses, so a brush against the screen
    /// does not.
    pub fn unlock(&mut self, confirm: bool) {
        self.touch(if confirm { "confirm unlock" } else { "unlock" });
        if self.screen != Screen::Menu(MenuView::Locked) {
            return;
        }
        if confirm && self.unlock_armed {
            self.unlock_armed = false;
            let back = if self.active.is_some() {
                Screen::Running
            } else {
                Screen::Home
            };
            self.show(back);
        } else {
            self.unlock_armed = !confirm;
        }
    }

    // ---------------------------------------------------------------- interrupted

    /// Can the interrupted program be resumed from the touchscreen (kept
    /// whole, continuous, and a drug library to check it against)?
    pub fn can_resume_interrupted(&self) -> bool {
        self.resume_workflow().is_some()
    }

    fn resume_workflow(&self) -> Option<Workflow> {
        let interrupted = self.interrupted.as_ref()?;
        let therapy = interrupted.program.therapy.as_ref()?;
        let hundredths = interrupted.program.remaining_nl / 10_000;
        let remaining = Millilitres::new(Decimal::new(i64::try_from(hundredths).ok()?, 2));
        Workflow::resuming(
            self.library.clone()?,
            self.limits,
            &therapy.care_area,
            therapy.entry.as_deref(),
            &therapy.program,
            Nanolitres(interrupted.program.delivered_nl),
            remaining,
        )
    }

    /// On the review of a resume, with the review's `plan`: nL infused
    /// before, and nL the pump will give if started now (for the rest of a program given as an amount or
    /// with a loading dose, what is left of it; otherwise the volume).
    pub fn resume_volumes(&self, plan: &DeliveryPlan) -> Option<(u64, u64)> {
        let before = self.resuming_from_nl?;
        let workflow = self.workflow.as_ref()?;
        let program = program_from_plan(plan).ok()?;
        let left = match workflow.rest_after_nl() {
            Some(delivered) => program
                .after(Nanolitres(delivered))
                .map_or(0, |rest| rest.total_volume().0),
            None => program.total_volume().0,
        };
        Some((before, left))
    }

    /// Resume on the interrupted screen: the program, with what was left,
    /// goes to its review against the library now active. Never automatic:
    /// the nurse starts it there.
    pub fn resume_interrupted(&mut self) {
        self.touch("resume-interrupted");
        if self.screen != Screen::Interrupted {
            return;
        }
        match self.resume_workflow() {
            Some(workflow) => {
                self.resuming_from_nl = self
                    .interrupted
                    .as_ref()
                    .map(|kept| kept.program.delivered_nl);
                self.workflow = Some(workflow);
                self.overrides.clear();
                self.show(Screen::Program);
            }
            None => {
                self.notice = Some(Notice::Refused(
                    "this program cannot be resumed here: program it again".to_owned(),
                ))
            }
        }
    }

    /// Discard on the interrupted screen: the kept program is forgotten.
    pub fn discard_interrupted(&mut self) {
        self.touch("discard");
        if self.screen != Screen::Interrupted {
            return;
        }
        self.interrupted = None;
        self.resuming_from_nl = None;
        self.pump.keep(None, 0);
        self.show(Screen::Home);
    }

    // ---------------------------------------------------------------- workflow

    fn on_workflow(&mut self, action: impl FnOnce(&mut Workflow) -> Result<(), Problem>) {
        let Some(workflow) = self.workflow.as_mut() else {
            return;
        };
        let before = workflow.step();
        let result = action(workflow);
        let after = workflow.step();
        if let Err(problem) = &result {
            let what = match problem {
                Problem::Entry(_) => "entry",
                Problem::HardLimit { .. } => "hard-limit",
                Problem::UnknownChoice(_) => "choice",
                Problem::Key(_) => "key",
                Problem::WrongStep => "step",
            };
            self.interaction("refused", what.to_owned());
        }
        self.notice = result.err().map(Notice::Problem);
        if before != after {
            self.keyboard = false;
            self.overrides.clear();
            self.interaction("page", format!("program/{after:?}"));
        }
    }

    pub fn choose(&mut self, id: &str) {
        self.interaction("value", format!("{} {id}", self.step_name()));
        self.on_workflow(|workflow| workflow.choose(id));
    }

    pub fn search(&mut self, text: &str) {
        if let Some(workflow) = self.workflow.as_mut() {
            workflow.set_search(text);
        }
        self.interaction("value", format!("search {text}"));
    }

    /// Opens or closes the on-screen letter keyboard of the drug search.
    pub fn toggle_keyboard(&mut self) {
        self.touch("search");
        self.keyboard = !self.keyboard;
    }

    /// A letter pressed on the search keyboard.
    pub fn search_letter(&mut self, letter: &str) {
        self.touch(&format!("letter {letter}"));
        let text = format!(
            "{}{}",
            self.workflow
                .as_ref()
                .map(Workflow::search)
                .unwrap_or_default(),
            letter.to_lowercase()
        );
        self.search(&text);
    }

    pub fn search_backspace(&mut self) {
        self.touch("letter backspace");
        let mut text = self
            .workflow
            .as_ref()
            .map(Workflow::search)
            .unwrap_or_default()
            .to_owned();
        text.pop();
        self.search(&text);
    }

    pub fn key(&mut self, key: Key) {
        self.touch(&format!("key {key:?}"));
        self.on_workflow(|workflow| workflow.press(key));
    }

    /// Next on a number step: accept the typed value.
    pub fn next(&mut self) {
        let typed = self
            .workflow
            .as_ref()
            .map(|workflow| workflow.entry().text().to_owned())
            .unwrap_or_default();
        self.touch("next");
        self.interaction("value", format!("{} {typed}", self.step_name()));
        self.on_workflow(Workflow::accept);
    }

    pub fn back(&mut self) {
        self.touch("back");
        let stays = self.workflow.as_mut().is_some_and(Workflow::back);
        if stays {
            self.notice = None;
            self.overrides.clear();
            let step = self.step();
            self.interaction("page", format!("program/{step:?}"));
        } else {
            self.cancel_program();
        }
    }

    pub fn cancel(&mut self) {
        self.touch("cancel");
        self.cancel_program();
    }

    fn cancel_program(&mut self) {
        // A resume given up goes back to the interrupted program, still kept.
        let back_to = if self.active.is_some() {
            Screen::Running
        } else if self.interrupted.is_some() && self.resuming_from_nl.is_some() {
            Screen::Interrupted
        } else {
            Screen::Home
        };
        self.resuming_from_nl = None;
        self.workflow = None;
        self.overrides.clear();
        self.show(back_to);
    }

    pub fn step(&self) -> Option<Step> {
        self.workflow.as_ref().map(Workflow::step)
    }

    fn step_name(&self) -> String {
        self.step()
            .map(|step| format!("{step:?}"))
            .unwrap_or_default()
    }

    /// Confirms the `index`th soft-limit finding of the review.
    pub fn confirm_override(&mut self, index: usize) {
        self.touch(&format!("confirm-override {index}"));
        let Some(review) = self.workflow.as_ref().and_then(Workflow::review) else {
            return;
        };
        if let Some(wanted) = review.overrides_needed().get(index) {
            if !self.overrides.contains(wanted) {
                self.overrides.push(*wanted);
            }
        }
    }

    /// Start on the review: confirm with the overrides given, then load and
    /// start (primary), or titrate, give the bolus or start the secondary.
    pub fn start(&mut self) {
        self.touch("start");
        let Some(workflow) = self.workflow.clone() else {
            return;
        };
        let confirmed = match workflow.confirm(&self.overrides) {
            Ok(confirmed) => confirmed,
            Err(error) => {
                self.notice = Some(Notice::Refused(match error {
                    ConfirmError::Blocked(_) | ConfirmError::OverrideMissing(_) => {
                        error.to_string()
                    }
                }));
                return;
            }
        };
        let infused_before_nl = match (workflow.kind(), &self.active) {
            (Kind::Primary, _) => self.resuming_from_nl.unwrap_or(0),
            (_, Some(active)) => active.infused_before_nl,
            (_, None) => 0,
        };
        let sent = match workflow.kind() {
            Kind::Primary => self.start_primary(&workflow, &confirmed),
            Kind::Titration => self.titrate_to(&confirmed),
            Kind::Bolus => self.give_bolus(&confirmed),
            Kind::Secondary => self.start_secondary(&confirmed),
        };
        if !sent {
            return;
        }
        let drug = workflow
            .entry_picked()
            .map(|entry| entry.display_name.clone());
        for found in &confirmed.overrides {
            self.recorder.record(Event::SoftLimitOverride {
                drug: drug.clone().unwrap_or_else(|| "basic infusion".to_owned()),
                value: format!(
                    "{} {}",
                    found.parameter.name(),
                    display_decimal(found.value)
                ),
                limit: display_decimal(found.limit),
            });
        }
        if matches!(workflow.kind(), Kind::Primary | Kind::Titration) {
            let remaining = match &self.active {
                Some(active) if workflow.kind() == Kind::Titration => active.running.remaining,
                _ => confirmed
                    .plan
                    .total_volume()
                    .unwrap_or(Millilitres::new(Decimal::ZERO)),
            };
            let mut running = workflow.running_after_start(remaining);
            if workflow.kind() == Kind::Titration {
                if let Some(active) = &self.active {
                    running.medication = active.running.medication;
                }
            }
            let dose_unit = workflow
                .entry_picked()
                .map(|entry| entry.dose.unit)
                .filter(|unit| *unit != crate::druglib::model::DosingUnit::Flow)
                .map(|unit| unit.to_string());
            let drug = match (&self.active, workflow.kind()) {
                (Some(active), Kind::Titration) => active.drug.clone(),
                _ => drug,
            };
            self.active = Some(Active {
                drug,
                running,
                dose_unit,
                infused_before_nl,
            });
            if workflow.kind() == Kind::Primary {
                self.recorder.record(Event::ProgramChanged {
                    program: self
                        .active
                        .as_ref()
                        .map(|active| self.describe(active))
                        .unwrap_or_default(),
                });
            }
        }
        self.workflow = None;
        self.overrides.clear();
        self.show(Screen::Running);
    }

    fn start_primary(&mut self, workflow: &Workflow, confirmed: &ConfirmedProgram) -> bool {
        let program = match program_from_plan(&confirmed.plan) {
            Ok(program) => program,
            Err(error) => {
                self.notice = Some(Notice::Refused(error.to_string()));
                return false;
            }
        };
        // The rest of a dose already started: only what is left of it.
        let program = match workflow.rest_after_nl() {
            None => program,
            Some(delivered) => match program.after(Nanolitres(delivered)) {
                Some(rest) => rest,
                None => {
                    self.notice = Some(Notice::Refused(
                        "nothing is left of this program: discard it".to_owned(),
                    ));
                    return false;
                }
            },
        };
        let remaining_nl = program.total_volume().0;
        if !self.send(Command::Load(program)) {
            return false;
        }
        // Kept before the start, so an interruption from here on can offer it.
        let total = confirmed
            .plan
            .total_volume()
            .map(|volume| volume.value())
            .unwrap_or_default();
        let rate = confirmed
            .plan
            .segments
            .first()
            .map(|segment| segment.rate.value())
            .unwrap_or_default();
        let kept = KeptProgram {
            rate_ml_h: display_decimal(rate),
            vtbi_ml: display_decimal(total),
            delivered_nl: 0,
            remaining_nl,
            mode: "Ready".to_owned(),
            therapy: workflow.program().map(|program| KeptTherapy {
                care_area: workflow.care_area_id().unwrap_or_default().to_owned(),
                entry: workflow.entry_picked().map(|entry| entry.id.clone()),
                drug_name: workflow
                    .entry_picked()
                    .map(|entry| entry.display_name.clone()),
                program,
                library_version: workflow.library().identity.version.clone(),
            }),
        };
        let before = self.resuming_from_nl.take().unwrap_or(0);
        self.interrupted = None;
        self.pump.keep(Some(kept), before);
        self.send(Command::Start)
    }

    fn titrate_to(&mut self, confirmed: &ConfirmedProgram) -> bool {
        let rate = confirmed
            .plan
            .segments
            .first()
            .map(|segment| NanolitresPerHour::from_rate(segment.rate));
        match rate {
            Some(Ok(rate)) => self.send(Command::Titrate(rate)),
            Some(Err(error)) => {
                self.notice = Some(Notice::Refused(error.to_string()));
                false
            }
            None => false,
        }
    }

    fn give_bolus(&mut self, confirmed: &ConfirmedProgram) -> bool {
        let Some(segment) = confirmed.plan.segments.first() else {
            return false;
        };
        let converted = NanolitresPerHour::from_rate(segment.rate)
            .and_then(|rate| Ok((rate, Nanolitres::from_millilitres(segment.volume)?)));
        match converted {
            Ok((rate, volume)) => self.send(Command::Bolus(ControlSegment {
                purpose: segment.purpose,
                rate,
                volume,
            })),
            Err(error) => {
                self.notice = Some(Notice::Refused(error.to_string()));
                false
            }
        }
    }

    fn start_secondary(&mut self, confirmed: &ConfirmedProgram) -> bool {
        match program_from_plan(&confirmed.plan) {
            Ok(program) => self.send(Command::Secondary(program)),
            Err(error) => {
                self.notice = Some(Notice::Refused(error.to_string()));
                false
            }
        }
    }

    // ---------------------------------------------------------------- running

    pub fn pause(&mut self) {
        self.touch("pause");
        self.send(Command::Pause);
    }

    pub fn resume(&mut self) {
        self.touch("resume");
        self.send(Command::Resume);
    }

    pub fn start_loaded(&mut self) {
        self.touch("start");
        self.send(Command::Start);
    }

    pub fn stop(&mut self) {
        self.touch("stop");
        self.send(Command::Stop);
    }

    /// Leaves the running screen for home (a completed infusion).
    pub fn leave(&mut self) {
        self.touch("home");
        if matches!(self.snapshot.mode, Mode::Completed | Mode::Idle) {
            self.send(Command::Stop);
            self.active = None;
            self.show(Screen::Home);
        }
    }

    /// Starts a bolus, secondary or titration on the running primary.
    pub fn program_on_running(&mut self, kind: Kind) {
        self.touch(match kind {
            Kind::Primary => "new-program",
            Kind::Secondary => "secondary",
            Kind::Bolus => "bolus",
            Kind::Titration => "titrate",
        });
        let (Some(library), Some(active)) = (self.library.clone(), self.active.clone()) else {
            return;
        };
        let mut running = active.running;
        running.remaining = Millilitres::new(Decimal::new(
            i64::try_from(self.snapshot.remaining.0).unwrap_or(i64::MAX),
            6,
        ));
        self.workflow = Some(Workflow::on_running(library, self.limits, kind, running));
        self.overrides.clear();
        self.show(Screen::Program);
    }

    /// What may be pressed on the running screen, by the pump's mode.
    pub fn allowed(&self) -> Allowed {
        let mode = self.snapshot.mode;
        let flowing = matches!(mode, Mode::Delivering);
        let drug = self
            .active
            .as_ref()
            .and_then(|active| match &active.running.drug {
                Pick::Entry(id) => Some((active.running.care_area.as_str(), id.as_str())),
                Pick::Basic => None,
            });
        let is_drug = drug.is_some();
        let bolus_allowed = drug
            .and_then(|(area, id)| self.library.as_ref()?.entry(area, id))
            .is_some_and(|entry| entry.bolus.is_some());
        Allowed {
            start: mode == Mode::Ready,
            pause: flowing || mode == Mode::KeepVeinOpen,
            // Resume once the alarm that stopped flow is cleared: the pump
            // refuses it before, so the button does too.
            resume: mode == Mode::Paused,
            stop: matches!(
                mode,
                Mode::Ready
                    | Mode::Delivering
                    | Mode::KeepVeinOpen
                    | Mode::Paused
                    | Mode::AlarmStopped
                    | Mode::Completed
            ),
            titrate: matches!(mode, Mode::Delivering | Mode::Paused) && self.active.is_some(),
            bolus: flowing && is_drug && bolus_allowed,
            secondary: flowing && self.active.is_some(),
            leave: matches!(mode, Mode::Completed | Mode::Idle),
        }
    }

    // ---------------------------------------------------------------- alarms

    pub fn silence(&mut self) {
        self.touch("silence");
        let shown = self
            .shown_alarm
            .map(|condition| format!("{condition:?}"))
            .unwrap_or_default();
        self.interaction("alarm-silenced", shown.clone());
        if self.send(Command::SilenceAlarms) {
            self.recorder
                .record(Event::AlarmSilenced { condition: shown });
        }
    }

    pub fn acknowledge(&mut self) {
        self.touch("acknowledge");
        let shown = self
            .shown_alarm
            .map(|condition| format!("{condition:?}"))
            .unwrap_or_default();
        self.interaction("alarm-acknowledged", shown.clone());
        if self.send(Command::AcknowledgeAlarms) {
            self.recorder
                .record(Event::AlarmAcknowledged { condition: shown });
        }
    }

    /// The medication of the active infusion, if any.
    pub fn medication(&self) -> Option<Medication> {
        self.active.as_ref().map(|active| active.running.medication)
    }
}

/// The running screen's buttons that may be pressed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    pub start: bool,
    pub pause: bool,
    pub resume: bool,
    pub stop: bool,
    pub titrate: bool,
    pub bolus: bool,
    pub secondary: bool,
    pub leave: bool,
}
