//! The gallery: every page of the touchscreen, in every language, on both
//! platforms, at 800×480 and 1280×720, drawn by the software renderer to PNG
//! files (`perfuse-gallery`). The pages are reached the way a nurse reaches
//! them, through the session's actions on the real controller and simulated
//! mechanism (virtual clock); nothing is staged.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use perfuse_drivers::sim::{Faults, Occlusion};
use perfuse_ui::AppWindow;
use slint::ComponentHandle;

use super::keypad::Key;
use super::offscreen::Offscreen;
use super::pump::{MemoryRecorder, Pump, VirtualPump};
use super::session::{biomed_facts, Session, Setup, StartupCheck, DEFAULT_SETTINGS_PIN};
use super::text::Language;
use super::window::{attach, render};
use super::workflow::Kind;
use crate::app::persist::{Cause, Interrupted, KeptProgram, KeptTherapy};
use crate::control::controller::Mode;
use crate::druglib::Library;
use crate::harness::{shipped_profile, Platform, Rig};

/// The screen sizes drawn: the pump's 800×480 and a 1280×720 panel.
pub const SIZES: [(u32, u32); 2] = [(800, 480), (1280, 720)];

fn platform_tag(platform: Platform) -> &'static str {
    match platform {
        Platform::Syringe50 => "s50-syringe",
        Platform::Volumetric => "v1-volumetric",
    }
}

/// The pump with a program kept from before an interruption.
struct InterruptedPump {
    pump: VirtualPump,
    interrupted: Option<Interrupted>,
}

impl Pump for InterruptedPump {
    fn send(&mut self, command: crate::control::controller::Command) -> Result<(), String> {
        self.pump.send(command)
    }

    fn snapshot(&mut self) -> crate::control::controller::Snapshot {
        self.pump.snapshot()
    }

    fn events(&mut self) -> Vec<crate::control::controller::ControlEvent> {
        self.pump.events()
    }

    fn interrupted(&mut self) -> Option<Interrupted> {
        self.interrupted.clone()
    }
}

/// A norepinephrine infusion interrupted by a crash after an occlusion,
/// 50 mL in.
fn interrupted_norepinephrine() -> Interrupted {
    use crate::therapy::{
        Amount, AmountUnit, Concentration, Delivery, DoseRate, EndOfInfusion, Kilograms,
        Medication, Millilitres, Patient, Program,
    };
    use rust_decimal_macros::dec;
    let program = Program {
        medication: Medication::Drug {
            concentration: Concentration {
                amount: Amount::new(dec!(4), AmountUnit::Milligram),
                volume: Millilitres::new(dec!(250)),
            },
            patient: Patient::with_weight(Kilograms::new(dec!(70))),
        },
        delivery: Delivery::Dose {
            dose: DoseRate {
                value: dec!(0.1),
                unit: crate::therapy::DoseRateUnit {
                    amount: AmountUnit::Microgram,
                    basis: crate::therapy::DoseBasis::PerKilogram,
                    per: crate::therapy::TimeBase::PerMinute,
                },
            },
            volume: Millilitres::new(dec!(250)),
        },
        end: EndOfInfusion::Stop,
    };
    Interrupted {
        program: KeptProgram {
            rate_ml_h: "26.3".to_owned(),
            vtbi_ml: "250".to_owned(),
            delivered_nl: 50_000_000,
            remaining_nl: 200_000_000,
            mode: "Delivering".to_owned(),
            therapy: Some(KeptTherapy {
                care_area: "icu".to_owned(),
                entry: Some("norepinephrine".to_owned()),
                drug_name: Some("norepinephrine".to_owned()),
                program,
                library_version: "2026.11.1".to_owned(),
            }),
        },
        saved_at_ms: 1_795_000_000_000,
        why: String::new(),
        cause: Cause::Unexpected {
            supervisor_trip: false,
            last_alarm: Some("DownstreamOcclusion".to_owned()),
        },
    }
}

struct Scene {
    window: AppWindow,
    session: Rc<RefCell<Session>>,
    rig: Rc<RefCell<Rig>>,
}

impl Scene {
    fn new(
        platform: Platform,
        language: Language,
        library: &Arc<Library>,
        rejected: bool,
    ) -> Result<Scene, String> {
        Scene::with(platform, language, library, rejected, None)
    }

    fn with(
        platform: Platform,
        language: Language,
        library: &Arc<Library>,
        rejected: bool,
        interrupted: Option<Interrupted>,
    ) -> Result<Scene, String> {
        let rig = Rc::new(RefCell::new(Rig::new(platform, 1000)?));
        let profile = shipped_profile(platform)?;
        let syringe = profile
            .syringes
            .iter()
            .find(|spec| spec.name == "BD Plastipak 50 mL");
        let limits = match platform {
            Platform::Syringe50 => profile.rate_limits(syringe),
            Platform::Volumetric => profile.rate_limits(None),
        };
        let records = MemoryRecorder::default();
        let session = Session::new(
            Setup {
                platform: if rejected { String::new() } else { platform.name().to_owned() },
                rejected: rejected.then(|| {
                    (
                        "the board says it is a Perfuse V1 volumetric carrier, but the installed profile is for the S50 syringe".to_owned(),
                        "Do not use this pump. Send it to biomedical engineering with this message.".to_owned(),
                    )
                }),
                library: Some(library.clone()),
                limits,
                checks: vec![
                    StartupCheck { name: "startup-step-platform", result: Ok(platform.name().to_owned()) },
                    StartupCheck { name: "startup-step-library", result: Ok(library.identity.to_string()) },
                    StartupCheck { name: "startup-step-supervisor", result: Ok("/run/perfuse/supervisor.sock".to_owned()) },
                ],
                language,
                history: Box::new(records.clone()),
                settings_pin: DEFAULT_SETTINGS_PIN.to_owned(),
                biomed: biomed_facts(platform.name(), limits, Some(library)),
            },
            Box::new(InterruptedPump {
                pump: VirtualPump { rig: rig.clone(), step_s: 0.1 },
                interrupted,
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
        })
    }

    fn act(&self, action: impl FnOnce(&mut Session)) {
        action(&mut self.session.borrow_mut());
        render(&self.window, &self.session.borrow());
    }

    fn refresh_until(&self, done: impl Fn(Mode) -> bool) -> Result<(), String> {
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

    fn typed(&self, text: &str) {
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

    fn enter(&self, text: &str) {
        self.typed(text);
        self.act(Session::next);
    }
}

/// Draws every page into `out`; returns the files written.
pub fn draw_all(out: &Path, library: &Arc<Library>) -> Result<Vec<PathBuf>, String> {
    let mut offscreen = Offscreen::install(800, 480)?;
    let mut written = Vec::new();
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        for language in Language::ALL {
            for (width, height) in SIZES {
                offscreen.resize(width, height);
                let dir = out
                    .join(platform_tag(platform))
                    .join(language.tag())
                    .join(format!("{width}x{height}"));
                std::fs::create_dir_all(&dir)
                    .map_err(|error| format!("{}: {error}", dir.display()))?;
                let mut save = |offscreen: &mut Offscreen, name: &str| -> Result<(), String> {
                    let path = dir.join(format!("{name}.png"));
                    offscreen.save_png(&path)?;
                    written.push(path);
                    Ok(())
                };
                {
                    let scene = Scene::new(platform, language, library, true)?;
                    scene.act(Session::refresh);
                    save(&mut offscreen, "00-platform-not-verified")?;
                }
                let scene = Scene::new(platform, language, library, false)?;
                save(&mut offscreen, "01-startup")?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(&mut offscreen, "02-home")?;
                scene.act(Session::new_program);
                save(&mut offscreen, "03-care-area")?;
                scene.act(|session| session.choose("icu"));
                save(&mut offscreen, "04-drug")?;
                scene.act(|session| session.search("DO"));
                save(&mut offscreen, "05-drug-search")?;
                scene.act(|session| session.search(""));
                scene.act(|session| session.choose("norepinephrine"));
                save(&mut offscreen, "06-concentration")?;
                scene.act(|session| session.choose("0"));
                scene.typed("0.6");
                save(&mut offscreen, "07-dose-beyond-soft-limit")?;
                scene.enter("4");
                save(&mut offscreen, "08-dose-hard-limit-refused")?;
                scene.enter("0.6");
                save(&mut offscreen, "09-weight")?;
                scene.enter("70");
                save(&mut offscreen, "10-volume")?;
                scene.enter("250");
                save(&mut offscreen, "11-review-override-needed")?;
                scene.act(|session| session.confirm_override(0));
                save(&mut offscreen, "12-review-ready")?;
                scene.act(Session::start);
                scene.refresh_until(|mode| mode == Mode::Delivering)?;
                for _ in 0..20 {
                    scene.act(Session::refresh);
                }
                save(&mut offscreen, "13-running")?;
                scene.act(|session| session.program_on_running(Kind::Titration));
                scene.typed("0.2");
                save(&mut offscreen, "14-titrate")?;
                scene.act(Session::cancel);
                scene
                    .rig
                    .borrow_mut()
                    .simulator
                    .physics_mut()
                    .set_faults(Faults {
                        downstream: Occlusion::Full,
                        ..Faults::NONE
                    });
                scene.refresh_until(|mode| mode == Mode::AlarmStopped)?;
                save(&mut offscreen, "15-alarm-high")?;
                scene.act(Session::silence);
                scene.act(Session::refresh);
                save(&mut offscreen, "16-alarm-silenced")?;
                scene
                    .rig
                    .borrow_mut()
                    .simulator
                    .physics_mut()
                    .set_faults(Faults::NONE);
                scene.act(Session::acknowledge);
                scene.act(Session::refresh);
                save(&mut offscreen, "17-alarm-acknowledged")?;
                scene.act(Session::open_menu);
                scene.act(|session| session.filter_history(super::history::HistoryFilter::Alarms));
                save(&mut offscreen, "22-history-alarms")?;
                scene.act(|session| session.filter_history(super::history::HistoryFilter::All));
                save(&mut offscreen, "23-history-all")?;
                scene.act(Session::show_settings);
                scene.act(|session| {
                    session.pin_key(Key::Digit(2));
                    session.pin_key(Key::Digit(5));
                });
                save(&mut offscreen, "24-settings-pin")?;
                scene.act(|session| {
                    session.pin_key(Key::Digit(8));
                    session.pin_key(Key::Digit(0));
                    session.pin_enter();
                });
                save(&mut offscreen, "25-settings")?;
                scene.act(Session::lock);
                scene.act(|session| session.unlock(false));
                save(&mut offscreen, "26-screen-locked")?;
                drop(scene);
                let scene = Scene::new(platform, language, library, false)?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                scene.act(Session::new_program);
                scene.act(|session| session.choose("icu"));
                scene.act(|session| session.choose("amiodarone"));
                scene.act(|session| session.choose("0"));
                save(&mut offscreen, "18-loading-dose-choice")?;
                scene.act(|session| session.choose("loading-yes"));
                scene.typed("150");
                save(&mut offscreen, "19-loading-dose")?;
                drop(scene);
                let scene = Scene::with(
                    platform,
                    language,
                    library,
                    false,
                    Some(interrupted_norepinephrine()),
                )?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(&mut offscreen, "20-infusion-interrupted")?;
                scene.act(Session::resume_interrupted);
                save(&mut offscreen, "21-resume-review")?;
            }
        }
    }
    Ok(written)
}
