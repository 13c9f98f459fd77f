//! A pump on the simulated mechanism (virtual clock) with its window, driven
//! through the session's actions as a nurse's presses would: what the
//! gallery draws and the UI benchmark times. Nothing is staged: the real
//! controller and drug library answer.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use perfuse_ui::AppWindow;
use slint::ComponentHandle;

use perfuse::control::api::Mode;
use perfuse::druglib::Library;
use perfuse::platform::{MechanismKind, PlatformRejection};
use perfuse::services::kept::Interrupted;
use perfuse::ui::keypad::Key;
use perfuse::ui::pump::{MemoryRecorder, Pump};
use perfuse::ui::session::{biomed_facts, LibraryState, Session, Setup, DEFAULT_SETTINGS_PIN};
use perfuse::ui::text::Language;
use perfuse::ui::window::{attach, render};

use perfuse_link::local::ProposedOrder;

use crate::pump::VirtualPump;
use crate::rig::{platform_rate_limits, Platform, Rig};

/// Orders as the hospital link would hand them to the window.
pub type OrderInbox = Rc<RefCell<std::collections::VecDeque<ProposedOrder>>>;

/// The pump with a program kept from before an interruption, and orders
/// from the hospital.
pub struct InterruptedPump {
    pump: VirtualPump,
    interrupted: Option<Interrupted>,
    orders: OrderInbox,
}

impl Pump for InterruptedPump {
    fn send(
        &mut self,
        command: perfuse::control::api::Command,
    ) -> Result<(), perfuse::ui::pump::SendRefusal> {
        self.pump.send(command)
    }

    fn snapshot(&mut self) -> perfuse::control::api::Snapshot {
        self.pump.snapshot()
    }

    fn events(&mut self) -> Vec<perfuse::control::api::ControlEvent> {
        self.pump.events()
    }

    fn interrupted(&mut self) -> Option<Interrupted> {
        self.interrupted.clone()
    }

    fn take_order(&mut self) -> Option<ProposedOrder> {
        self.orders.borrow_mut().pop_front()
    }
}

/// A pump on the simulated mechanism (virtual clock) with its window,
/// driven through the session's actions: for the gallery and the UI
/// benchmark.
pub struct Scene {
    pub window: AppWindow,
    pub session: Rc<RefCell<Session>>,
    pub rig: Rc<RefCell<Rig>>,
    pub orders: OrderInbox,
}

impl Scene {
    pub fn new(
        platform: Platform,
        language: Language,
        library: &Arc<Library>,
        rejected: bool,
    ) -> Result<Scene, String> {
        Scene::with(platform, language, library, rejected, None)
    }

    pub fn with(
        platform: Platform,
        language: Language,
        library: &Arc<Library>,
        rejected: bool,
        interrupted: Option<Interrupted>,
    ) -> Result<Scene, String> {
        Scene::configured(
            platform,
            language,
            Some(library.clone()),
            LibraryState::Installed,
            rejected,
            interrupted,
        )
    }

    /// A scene with the drug library the pump started with (`None`: basic
    /// infusions only) and why.
    pub fn configured(
        platform: Platform,
        language: Language,
        library: Option<Arc<Library>>,
        library_state: LibraryState,
        rejected: bool,
        interrupted: Option<Interrupted>,
    ) -> Result<Scene, String> {
        let rig = Rc::new(RefCell::new(Rig::new(platform, 1000)?));
        let limits = platform_rate_limits(platform)?;
        // The reference syringe, confirmed (a test that asks for it
        // unconfirms it: `Session::syringe_confirmed`).
        let (syringes, syringe) = crate::rig::platform_syringes(platform)?;
        let records = MemoryRecorder::default();
        let orders = OrderInbox::default();
        let session = Session::new(
            Setup {
                platform: if rejected {
                    String::new()
                } else {
                    platform.name().to_owned()
                },
                rejected: rejected.then(|| PlatformRejection::ProfileForAnotherPlatform {
                    profile: "S50 syringe".to_owned(),
                    mechanism: MechanismKind::Syringe,
                    hardware: "Perfuse V1 volumetric",
                }),
                biomed: biomed_facts(
                    platform.name(),
                    limits,
                    library.as_deref(),
                    "/run/perfuse/supervisor.sock",
                ),
                library,
                library_state,
                limits,
                language,
                history: Box::new(records.clone()),
                settings_pin: DEFAULT_SETTINGS_PIN.to_owned(),
                backlight: None,
                syringes,
                syringe,
                syringe_confirmed: true,
            },
            Box::new(InterruptedPump {
                pump: VirtualPump {
                    rig: rig.clone(),
                    step_s: 0.1,
                },
                interrupted,
                orders: orders.clone(),
            }),
            Box::new(records),
        )?;
        let window = AppWindow::new().map_err(|error| error.to_string())?;
        window.show().map_err(|error| error.to_string())?;
        let session = Rc::new(RefCell::new(session));
        attach(&window, &session);
        render(&window, &session.borrow());
        Ok(Scene {
            window,
            session,
            rig,
            orders,
        })
    }

    pub fn act(&self, action: impl FnOnce(&mut Session)) {
        action(&mut self.session.borrow_mut());
        render(&self.window, &self.session.borrow());
    }

    pub fn refresh_until(&self, done: impl Fn(Mode) -> bool) -> Result<(), String> {
        for _ in 0..3000 {
            self.act(Session::refresh);
            if done(self.session.borrow().snapshot.mode) {
                return Ok(());
            }
        }
        Err(format!(
            "the pump did not reach the page (mode {:?})",
            self.session.borrow().snapshot.mode
        ))
    }

    pub fn typed(&self, text: &str) {
        self.act(|session| {
            session.key(Key::Clear);
            for character in text.chars() {
                session.key(match character {
                    '.' => Key::Point,
                    digit => Key::Digit(u8::try_from(digit.to_digit(10).unwrap_or(0)).unwrap_or(0)),
                });
            }
        });
    }

    /// An order arrives from the hospital link; the window takes it.
    pub fn send_order(&self, order: ProposedOrder) {
        self.orders.borrow_mut().push_back(order);
        self.act(Session::refresh);
    }

    pub fn enter(&self, text: &str) {
        self.typed(text);
        self.act(Session::next);
    }
}
