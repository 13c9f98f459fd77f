//! The touchscreen window driven as a nurse's touches would, on Slint's
//! testing back-end, over the real controller and the simulated mechanism
//! on a virtual clock: presses by element id or by label, the keypad, the
//! drug search, and what the session recorded. UI tests and the touch-count
//! benchmark share it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use i_slint_backend_testing::ElementHandle;
use perfuse::control::api::{Command, ControlEvent, Mode, Snapshot};
use perfuse::control::units::Nanolitres;
use perfuse::druglib::Library;
use perfuse::services::kept::{Interrupted, KeptProgram};
use perfuse::store::Event;
use perfuse::ui::pump::{MemoryRecorder, Pump};
use perfuse::ui::session::{biomed_facts, LibraryState, Session, Setup};
use perfuse::ui::text::Language;
use perfuse::ui::window::{attach, render};
use perfuse_link::local::{OrderOutcome, ProposedOrder};
use perfuse_ui::{AppWindow, ProgramAdapter};
use slint::ComponentHandle;

use crate::library as common;
use crate::pump::VirtualPump;
use crate::rig::{platform_rate_limits, Platform, Rig};

/// Every program the session asked to keep, with the volume infused before.
pub type KeptLog = Rc<RefCell<Vec<(Option<KeptProgram>, u64)>>>;

/// The hospital link as the window sees it: orders waiting to be taken,
/// the answers given, and the wall clock orders expire by (Unix seconds).
#[derive(Debug, Default)]
pub struct OrderLine {
    pub inbox: std::collections::VecDeque<ProposedOrder>,
    pub answers: Vec<(String, OrderOutcome)>,
    pub now: i64,
    /// Where libraries from the hospital are staged and activated (None:
    /// the pump takes none), and whether one was staged since the window
    /// last asked.
    pub library_files: Option<perfuse::druglib::staging::LibraryFiles>,
    pub library_news: bool,
}

pub type Orders = Rc<RefCell<OrderLine>>;

/// The real controller against the simulated mechanism (100 ms of virtual
/// time per refresh), with a kept program as the store would hold it, and
/// orders from a hospital link.
struct KeepingPump {
    pump: VirtualPump,
    interrupted: Option<Interrupted>,
    pub kept: KeptLog,
    orders: Orders,
}

impl Pump for KeepingPump {
    fn send(&mut self, command: Command) -> Result<(), perfuse::ui::pump::SendRefusal> {
        self.pump.send(command)
    }

    fn snapshot(&mut self) -> Snapshot {
        self.pump.snapshot()
    }

    fn events(&mut self) -> Vec<ControlEvent> {
        self.pump.events()
    }

    fn interrupted(&mut self) -> Option<Interrupted> {
        self.interrupted.clone()
    }

    fn keep(&mut self, program: Option<KeptProgram>, delivered_before: Nanolitres) {
        self.kept.borrow_mut().push((program, delivered_before.0));
    }

    fn take_order(&mut self) -> Option<ProposedOrder> {
        self.orders.borrow_mut().inbox.pop_front()
    }

    fn answer_order(&mut self, order_id: &str, outcome: OrderOutcome) {
        self.orders
            .borrow_mut()
            .answers
            .push((order_id.to_owned(), outcome));
    }

    fn wall_clock(&mut self) -> i64 {
        self.orders.borrow().now
    }

    fn staged_library(&mut self) -> Option<Result<perfuse::druglib::VerifiedLibrary, String>> {
        let files = self.orders.borrow().library_files.clone()?;
        perfuse::druglib::staging::staged(&files, perfuse::druglib::tool::today_utc())
    }

    fn activate_library(
        &mut self,
        mode: Mode,
    ) -> Result<perfuse::druglib::VerifiedLibrary, String> {
        let files = self
            .orders
            .borrow()
            .library_files
            .clone()
            .ok_or("no library files")?;
        perfuse::services::activate_staged(&files, mode).map_err(|error| error.to_string())
    }

    fn library_news(&mut self) -> bool {
        std::mem::take(&mut self.orders.borrow_mut().library_news)
    }
}

pub struct Ui {
    pub window: AppWindow,
    pub session: Rc<RefCell<Session>>,
    pub rig: Rc<RefCell<Rig>>,
    pub records: MemoryRecorder,
    pub kept: KeptLog,
    /// Orders sent to the window as the link would, and its answers.
    pub orders: Orders,
    /// Presses made through `press` and `press_label`, each one touch.
    pub presses: std::cell::Cell<u32>,
}

impl Ui {
    pub fn new(platform: Platform, language: Language) -> Ui {
        Ui::with(platform, language, common::sample_library(), None)
    }

    pub fn with(
        platform: Platform,
        language: Language,
        library: Library,
        interrupted: Option<Interrupted>,
    ) -> Ui {
        Ui::started(
            platform,
            language,
            Some(library),
            LibraryState::Installed,
            interrupted,
        )
    }

    /// The window after a start with `library` in use (None: none) and why.
    pub fn started(
        platform: Platform,
        language: Language,
        library: Option<Library>,
        library_state: LibraryState,
        interrupted: Option<Interrupted>,
    ) -> Ui {
        // Slint's platform is set once per thread.
        thread_local!(static BACKEND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        if !BACKEND.with(|set| set.replace(true)) {
            i_slint_backend_testing::init_no_event_loop();
        }
        let rig = Rc::new(RefCell::new(Rig::new(platform, 1000).unwrap()));
        let records = MemoryRecorder::default();
        let kept = Rc::new(RefCell::new(Vec::new()));
        let orders = Rc::new(RefCell::new(OrderLine {
            now: 1_796_289_600,
            ..OrderLine::default()
        }));
        let limits = platform_rate_limits(platform).unwrap();
        // The reference syringe, confirmed (a test that asks for it
        // unconfirms it: `Session::syringe_confirmed`).
        let (syringes, syringe) = crate::rig::platform_syringes(platform).unwrap();
        let session = Session::new(
            Setup {
                platform: platform.name().to_owned(),
                rejected: None,
                library: library.map(Arc::new),
                library_state,
                limits,
                language,
                history: Box::new(records.clone()),
                settings_pin: "2580".to_owned(),
                biomed: biomed_facts(
                    platform.name(),
                    limits,
                    None,
                    "/run/perfuse/supervisor.sock",
                ),
                backlight: None,
                syringes,
                syringe,
                syringe_confirmed: true,
            },
            Box::new(KeepingPump {
                pump: VirtualPump {
                    rig: rig.clone(),
                    step_s: 0.1,
                },
                interrupted,
                kept: kept.clone(),
                orders: orders.clone(),
            }),
            Box::new(records.clone()),
        )
        .unwrap();
        let window = AppWindow::new().unwrap();
        let session = Rc::new(RefCell::new(session));
        attach(&window, &session);
        let ui = Ui {
            window,
            session,
            rig,
            records,
            kept,
            orders,
            presses: std::cell::Cell::new(0),
        };
        ui.refresh_until("the pump comes up", |snapshot| snapshot.mode == Mode::Idle);
        ui
    }

    pub fn refresh(&self) {
        self.session.borrow_mut().refresh();
        render(&self.window, &self.session.borrow());
    }

    pub fn refresh_until(&self, what: &str, done: impl Fn(&Snapshot) -> bool) {
        for _ in 0..3000 {
            self.refresh();
            if done(&self.session.borrow().snapshot) {
                return;
            }
        }
        panic!(
            "{what}: not within 300 s (mode {:?})",
            self.session.borrow().snapshot.mode
        );
    }

    pub fn element(&self, id: &str) -> ElementHandle {
        let mut found: Vec<_> = ElementHandle::find_by_element_id(&self.window, id).collect();
        assert_eq!(found.len(), 1, "element {id}");
        found.remove(0)
    }

    /// Presses the element with this id.
    pub fn press(&self, id: &str) {
        let element = self.element(id);
        assert_eq!(element.accessible_enabled(), Some(true), "{id} is disabled");
        self.presses.set(self.presses.get() + 1);
        element.invoke_accessible_default_action();
    }

    /// Presses the button labelled `label`.
    pub fn press_label(&self, label: &str) {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&self.window, label)
            .filter(|element| {
                element.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button)
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "button \"{label}\" (off the screen? search for it first)"
        );
        self.presses.set(self.presses.get() + 1);
        found[0].invoke_accessible_default_action();
    }

    pub fn has_button(&self, id: &str) -> bool {
        ElementHandle::find_by_element_id(&self.window, id)
            .next()
            .is_some()
    }

    /// Types a drug search on the on-screen letters, then shows the list.
    pub fn search(&self, letters: &str) {
        self.press("ChoiceList::search-button");
        for letter in letters.chars() {
            self.press_label(&letter.to_string());
        }
        assert_eq!(self.program().get_search_text(), letters.to_lowercase());
        self.press("ChoiceList::search-button");
    }

    /// Types on the keypad and presses Next.
    pub fn enter(&self, text: &str) {
        self.press("Keypad::key-clear");
        for character in text.chars() {
            match character {
                '.' | ',' => self.press("Keypad::key-point"),
                digit => self.press(&format!("Keypad::key-{digit}")),
            }
        }
        self.press("ProgramPage::next-button");
    }

    /// The options the status page offers (the syringe, when to start),
    /// as (label, chosen).
    pub fn status_choices(&self) -> Vec<(String, bool)> {
        let rows = self
            .window
            .global::<perfuse_ui::StatusAdapter>()
            .get_choices();
        (0..slint::Model::row_count(&rows))
            .filter_map(|row| slint::Model::row_data(&rows, row))
            .map(|choice| (choice.label.to_string(), choice.chosen))
            .collect()
    }

    pub fn program(&self) -> ProgramAdapter<'_> {
        self.window.global::<ProgramAdapter>()
    }

    pub fn step_title(&self) -> String {
        self.program().get_step_title().to_string()
    }

    /// The facts the status page shows, as (label, value).
    pub fn status_facts(&self) -> Vec<(String, String)> {
        let rows = self
            .window
            .global::<perfuse_ui::StatusAdapter>()
            .get_facts();
        (0..slint::Model::row_count(&rows))
            .filter_map(|row| slint::Model::row_data(&rows, row))
            .map(|fact| (fact.label.to_string(), fact.value.to_string()))
            .collect()
    }

    /// An order arrives from the hospital link, and the window refreshes.
    pub fn send_order(&self, order: ProposedOrder) {
        self.orders.borrow_mut().inbox.push_back(order);
        self.refresh();
    }

    /// The answers the window gave to orders, in order.
    pub fn order_answers(&self) -> Vec<(String, OrderOutcome)> {
        self.orders.borrow().answers.clone()
    }

    pub fn records(&self) -> Vec<Event> {
        self.records.events.lock().unwrap().clone()
    }
}
