//! The window: shows a session through the markup's adapters and forwards
//! every press to the session. One render writes every adapter from the
//! session; nothing is decided here.

use std::cell::RefCell;
use std::rc::Rc;

use perfuse_ui::{
    AlarmLevel, Alarms, AppWindow, Check, CheckState, ChoiceRow, Fact, Frame, HistoryRow,
    LimitLevel, MenuAdapter, Navigation, OverrideRow, Page, ProgramAdapter, Reading, ReviewRow,
    RunningAdapter, StatusAdapter, StatusChoice,
};
use rust_decimal::Decimal;
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use crate::control::api::Mode;
use crate::druglib::{LimitStatus, Parameter};
use crate::ui::history::HistoryFilter;
use crate::ui::keypad::Key;
use crate::ui::session::{LibraryState, MenuView, Notice, Screen, Session};
use crate::ui::text::{localise_decimal, Arg, Texts};
use crate::ui::workflow::{Choice, Kind, Step};
use perfuse_drivers::annunciator::{AlarmVolume, Priority};

mod alarms;
mod menu;
mod program;
mod running;
mod status;

use super::words::*;
pub use super::words::{alarm_ids, bar_status, problem_text, pump_status, status_text};

pub(super) fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// Whether `current` already holds exactly `items`, row for row.
pub(super) fn same_rows<T: Clone + PartialEq + 'static>(current: &ModelRc<T>, items: &[T]) -> bool {
    current.row_count() == items.len()
        && items
            .iter()
            .enumerate()
            .all(|(row, item)| current.row_data(row).as_ref() == Some(item))
}

/// Gives a repeated list new rows only when they changed. The window is
/// rendered ten times a second, and a new model rebuilds every row: a row
/// rebuilt under a finger loses that press, so a touch held longer than
/// 100 ms (as a nurse's often is) picked nothing, and left the page deaf
/// to touches until it was left (found by the emulated-machine boot test).
pub(super) fn update_rows<T: Clone + PartialEq + 'static>(
    get: impl FnOnce() -> ModelRc<T>,
    set: impl FnOnce(ModelRc<T>),
    items: Vec<T>,
) {
    if !same_rows(&get(), &items) {
        set(model(items));
    }
}

pub(super) fn s(text: impl Into<SharedString>) -> SharedString {
    text.into()
}

pub(super) fn fact(texts: &Texts, id: &str, value: String) -> Fact {
    Fact {
        label: s(texts.get(id)),
        value: s(value),
    }
}

/// Nanolitres as millilitres, to 0.01 mL.
pub(super) fn millilitres(nanolitres: u64) -> Decimal {
    Decimal::new(i64::try_from(nanolitres / 10_000).unwrap_or(i64::MAX), 2)
}

/// What a page's callbacks act on: the window, and the session behind it.
pub(super) struct Wire<'a> {
    window: &'a AppWindow,
    session: &'a Rc<RefCell<Session>>,
}

impl Wire<'_> {
    /// A callback that runs `action` on the session, then renders.
    fn act(&self, action: fn(&mut Session)) -> impl Fn() + 'static {
        let weak = self.window.as_weak();
        let session = self.session.clone();
        move || {
            if let Some(window) = weak.upgrade() {
                action(&mut session.borrow_mut());
                render(&window, &session.borrow());
            }
        }
    }

    /// A callback with an argument from the markup (a key, an id, an index).
    fn with<T: 'static>(&self, action: fn(&mut Session, T)) -> impl Fn(T) + 'static {
        let weak = self.window.as_weak();
        let session = self.session.clone();
        move |argument| {
            if let Some(window) = weak.upgrade() {
                action(&mut session.borrow_mut(), argument);
                render(&window, &session.borrow());
            }
        }
    }
}

/// Wires the window's callbacks to the session, page by page.
pub fn attach(window: &AppWindow, session: &Rc<RefCell<Session>>) {
    let wire = Wire { window, session };
    status::setup(&wire);
    menu::setup(&wire);
    program::setup(&wire);
    running::setup(&wire);
    alarms::setup(&wire);
}

/// Writes the whole session into the window.
pub fn render(window: &AppWindow, session: &Session) {
    // A new page or step repaints the whole window (see Navigation.repaint).
    thread_local!(static VIEW: RefCell<String> = const { RefCell::new(String::new()) });
    // The pump's mode and its top alarm are part of the view: the status
    // in the bar and on the page must never be left half-repainted.
    let view = format!(
        "{} {:?} {} {:?} {:?}",
        session.screen.page(),
        session.step(),
        session
            .programming()
            .is_some_and(|programming| programming.keyboard),
        session.snapshot.mode,
        session
            .snapshot
            .alarms
            .first()
            .copied()
            .flatten()
            .map(|alarm| alarm.condition)
    );
    // Each new screen goes to the log (the journal on a pump), so service
    // staff and the emulated-machine boot test see what the panel shows.
    thread_local!(static SHOWN: std::cell::Cell<Option<crate::store::Page>> =
        const { std::cell::Cell::new(None) });
    let shown = session.screen.page();
    if SHOWN.with(|last| last.replace(Some(shown))) != Some(shown) {
        tracing::info!("screen: {shown}");
    }
    if VIEW.with(|last| last.replace(view.clone()) != view) {
        let navigation = window.global::<Navigation>();
        navigation.set_repaint(!navigation.get_repaint());
    }
    let texts = &session.texts;
    let frame = window.global::<Frame>();
    frame.set_platform(s(if session.platform.is_empty() {
        texts.get("state-platform-rejected")
    } else {
        session.platform.clone()
    }));
    frame.set_version(s(texts.format(
        "frame-version",
        &[("version", Arg::Text(env!("CARGO_PKG_VERSION").to_owned()))],
    )));
    frame.set_library(s(match &session.library {
        // Its version only: the name is on the home page, the hash on biomed.
        Some(library) => texts.format(
            "frame-library",
            &[("version", Arg::Text(library.identity.version.clone()))],
        ),
        None => texts.get("frame-no-library"),
    }));
    // The care area being programmed, running, or the patient's.
    let care_area = session
        .workflow()
        .and_then(|workflow| workflow.care_area_id())
        .or_else(|| {
            session
                .active
                .as_ref()
                .map(|active| active.running.care_area.as_str())
        })
        .or(session.care_area.as_deref())
        .and_then(|id| session.library.as_ref()?.care_area(id));
    frame.set_care_area(s(care_area.map_or_else(String::new, |area| {
        texts.format("frame-care-area", &[("name", Arg::Text(area.name.clone()))])
    })));
    let (page, title) = match &session.screen {
        Screen::Startup => (Page::Status, texts.get("startup-title")),
        Screen::NotVerified(_) => (Page::Status, texts.get("notverified-short")),
        Screen::Home => (Page::Status, texts.get("home-title")),
        Screen::Interrupted => (Page::Status, texts.get("interrupted-title")),
        Screen::Menu(MenuView::History { .. }) => (Page::Menu, texts.get("menu-history")),
        Screen::Menu(MenuView::Pin(_) | MenuView::Settings) => {
            (Page::Menu, texts.get("menu-settings"))
        }
        Screen::Menu(MenuView::Locked { .. }) => (Page::Menu, texts.get("frame-locked")),
        Screen::Program(_) => (Page::Program, texts.get(kind_id(session))),
        Screen::Running => (Page::Running, bar_status(texts, &session.snapshot)),
        Screen::Syringe { .. } => (Page::Status, texts.get("syringe-short")),
        Screen::StartLater(_) => (Page::Status, texts.get("start-later-short")),
        Screen::Order => (Page::Status, texts.get("order-short")),
    };
    frame.set_page_title(s(title));
    window.global::<Navigation>().set_page(page);
    window
        .global::<Navigation>()
        .set_brightness_percent(if session.backlight.is_some() {
            // The panel's own backlight does the dimming.
            100
        } else {
            i32::from(session.brightness_tenths) * 10
        });
    alarms::render(window, session);
    match &session.screen {
        Screen::Startup
        | Screen::NotVerified(_)
        | Screen::Home
        | Screen::Interrupted
        | Screen::Syringe { .. }
        | Screen::StartLater(_)
        | Screen::Order => {
            status::render(window, session);
        }
        Screen::Program(_) => program::render(window, session),
        Screen::Running => running::render(window, session),
        Screen::Menu(view) => menu::render(window, session, view),
    }
}

/// Opens the window on `session`, refreshing from the pump ten times a
/// second, until the window is closed.
pub fn run(session: Session) -> Result<(), String> {
    let window =
        AppWindow::new().map_err(|error| format!("cannot open the pump window: {error}"))?;
    let session = Rc::new(RefCell::new(session));
    attach(&window, &session);
    render(&window, &session.borrow());
    let timer = slint::Timer::default();
    let weak = window.as_weak();
    let shared = session.clone();
    timer.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_millis(100),
        move || {
            if let Some(window) = weak.upgrade() {
                shared.borrow_mut().refresh();
                render(&window, &shared.borrow());
            }
        },
    );
    window
        .run()
        .map_err(|error| format!("the pump window failed: {error}"))
}
