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
use super::pump::{MemoryRecorder, VirtualPump};
use super::session::{Session, Setup, StartupCheck};
use super::text::Language;
use super::window::{attach, render};
use super::workflow::Kind;
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
            },
            Box::new(VirtualPump { rig: rig.clone(), step_s: 0.1 }),
            Box::new(MemoryRecorder::default()),
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
            }
        }
    }
    Ok(written)
}
