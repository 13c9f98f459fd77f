//! The gallery: every page of the touchscreen, in every language, on both
//! platforms, at 800×480 and 1280×720, drawn by the software renderer to PNG
//! files (`perfuse-gallery`). The pages are reached the way a nurse reaches
//! them, through the session's actions on the real controller and simulated
//! mechanism (virtual clock); nothing is staged.

use crate::fit::TextMisfit;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use perfuse_sim::Occlusion;

use crate::rig::Platform;
use crate::scene::Scene;
use perfuse::control::api::Mode;
use perfuse::control::units::Nanolitres;
use perfuse::druglib::startup::Unusable;
use perfuse::druglib::{Library, LibraryError};
use perfuse::services::kept::{Cause, Interrupted, KeptProgram, KeptTherapy};
use perfuse::ui::keypad::Key;
use perfuse::ui::offscreen::Offscreen;
use perfuse::ui::session::{LibraryState, Session};
use perfuse::ui::text::Language;
use perfuse::ui::workflow::Kind;

/// The screen sizes drawn: the pump's 800×480 and a 1280×720 panel.
pub const SIZES: [(u32, u32); 2] = [(800, 480), (1280, 720)];

fn platform_tag(platform: Platform) -> &'static str {
    match platform {
        Platform::Syringe50 => "s50-syringe",
        Platform::Volumetric => "v1-volumetric",
    }
}

/// A norepinephrine infusion interrupted by a crash after an occlusion,
/// 50 mL in.
fn interrupted_norepinephrine() -> Interrupted {
    use perfuse::therapy::{
        Amount, AmountUnit, Concentration, Delivery, DoseRate, EndOfInfusion, Kilograms,
        Medication, Millilitres, MillilitresPerHour, Patient, Program,
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
                unit: perfuse::therapy::DoseRateUnit {
                    amount: AmountUnit::Microgram,
                    basis: perfuse::therapy::DoseBasis::PerKilogram,
                    per: perfuse::therapy::TimeBase::PerMinute,
                },
            },
            volume: Millilitres::new(dec!(50)),
        },
        end: EndOfInfusion::Stop,
    };
    Interrupted {
        program: KeptProgram {
            rate: MillilitresPerHour::new(dec!(26.3)),
            vtbi: Millilitres::new(dec!(50)),
            delivered: Nanolitres(10_000_000),
            remaining: Nanolitres(40_000_000),
            mode: Mode::Delivering,
            therapy: Some(KeptTherapy {
                care_area: "icu".to_owned(),
                entry: Some("norepinephrine".to_owned()),
                drug_name: Some("norepinephrine".to_owned()),
                program,
                library_version: "2026.11.2".to_owned(),
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

/// Draws every page into `out`; returns the files written.
/// The pages drawn, and every text on them that does not fit (`fit`).
pub struct Gallery {
    pub pages: Vec<PathBuf>,
    pub misfits: Vec<(PathBuf, TextMisfit)>,
}

/// An order from the hospital as the gallery shows it: `drug` in
/// `concentration` (amount, unit, mL) at `dose` (value, unit) for a 70 kg
/// patient, 50 mL, valid for 15 minutes.
pub fn gallery_order(
    id: &str,
    drug: &str,
    concentration: (u32, &str, u32),
    dose: (u32, &str),
) -> Result<perfuse_link::local::ProposedOrder, String> {
    use perfuse::therapy::{Amount, Concentration, DoseRate, Kilograms, Millilitres};
    use rust_decimal::Decimal;
    let now = perfuse_link::local::wall_clock();
    let (amount, unit, volume) = concentration;
    Ok(perfuse_link::local::ProposedOrder {
        order_id: id.to_owned(),
        pump_id: "PERFUSE-0001".to_owned(),
        patient_id: "MRN12345".to_owned(),
        patient_name: "Jane Doe".to_owned(),
        drug: drug.to_owned(),
        concentration: Some(Concentration {
            amount: Amount::new(
                Decimal::from(amount),
                unit.parse().map_err(|error| format!("{unit}: {error}"))?,
            ),
            volume: Millilitres::new(Decimal::from(volume)),
        }),
        rate: None,
        dose: Some(DoseRate {
            value: Decimal::from(dose.0),
            unit: dose
                .1
                .parse()
                .map_err(|error| format!("{}: {error}", dose.1))?,
        }),
        vtbi: Millilitres::new(Decimal::from(50)),
        weight: Some(Kilograms::new(Decimal::from(70))),
        sent_at: now,
        expires_at: now + 900,
    })
}

/// A pump just up, a new infusion in the ICU, with `drug` chosen.
fn at_drug_in_icu(
    platform: Platform,
    language: Language,
    library: &Arc<Library>,
    drug: &str,
) -> Result<Scene, String> {
    let scene = Scene::new(platform, language, library, false)?;
    scene.refresh_until(|mode| mode == Mode::Idle)?;
    scene.act(Session::new_program);
    scene.act(|session| session.choose("icu"));
    scene.act(|session| session.choose(drug));
    Ok(scene)
}

/// Draws every page into `out` on `offscreen` (installed once per process).
pub fn draw_all(
    offscreen: &mut Offscreen,
    out: &Path,
    library: &Arc<Library>,
) -> Result<Gallery, String> {
    let mut written = Vec::new();
    let mut misfits = Vec::new();
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
                    misfits.extend(
                        crate::fit::misfits(offscreen.window())
                            .into_iter()
                            .map(|misfit| (path.clone(), misfit)),
                    );
                    written.push(path);
                    Ok(())
                };
                {
                    let scene = Scene::new(platform, language, library, true)?;
                    scene.act(Session::refresh);
                    save(offscreen, "00-platform-not-verified")?;
                }
                let scene = Scene::new(platform, language, library, false)?;
                // As at the bedside: the syringe loaded is yet to be confirmed.
                scene.act(|session| session.syringe_confirmed = false);
                save(offscreen, "01-startup")?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(offscreen, "02-home")?;
                scene.act(Session::new_program);
                if platform == Platform::Syringe50 {
                    save(offscreen, "02-syringe-confirm")?;
                    scene.act(|session| session.confirm_syringe(0));
                }
                save(offscreen, "03-care-area")?;
                scene.act(|session| session.choose("icu"));
                save(offscreen, "04-drug")?;
                scene.act(Session::toggle_keyboard);
                scene.act(|session| {
                    session.search_letter("D");
                    session.search_letter("O");
                });
                save(offscreen, "05-drug-search-keyboard")?;
                scene.act(Session::toggle_keyboard);
                save(offscreen, "05-drug-search-found")?;
                scene.act(|session| session.search(""));
                scene.act(|session| session.choose("norepinephrine"));
                save(offscreen, "06-concentration")?;
                scene.act(|session| session.choose("0"));
                scene.typed("0.6");
                save(offscreen, "07-dose-beyond-soft-limit")?;
                scene.enter("4");
                save(offscreen, "08-dose-hard-limit-refused")?;
                scene.enter("0.6");
                save(offscreen, "09-weight")?;
                scene.enter("70");
                save(offscreen, "10-volume")?;
                // A volume the 50 mL syringe holds: the same on both platforms.
                scene.enter("50");
                save(offscreen, "11-review-override-needed")?;
                scene.act(|session| session.confirm_override(0));
                save(offscreen, "12-review-ready")?;
                scene.act(Session::start);
                scene.refresh_until(|mode| mode == Mode::Delivering)?;
                for _ in 0..20 {
                    scene.act(Session::refresh);
                }
                save(offscreen, "13-running")?;
                scene.act(|session| session.program_on_running(Kind::Titration));
                scene.typed("0.2");
                save(offscreen, "14-titrate")?;
                scene.act(Session::cancel);
                scene.rig.borrow_mut().occlude_downstream(Occlusion::Full);
                scene.refresh_until(|mode| mode == Mode::AlarmStopped)?;
                save(offscreen, "15-alarm-high")?;
                scene.act(Session::silence);
                scene.act(Session::refresh);
                save(offscreen, "16-alarm-silenced")?;
                // The banner's "+N" list, here of the one alarm silenced.
                scene.act(Session::open_alarm_list);
                scene.act(Session::refresh);
                save(offscreen, "16a-alarm-list")?;
                scene.act(Session::close_alarm_list);
                scene.rig.borrow_mut().occlude_downstream(Occlusion::None);
                scene.act(Session::acknowledge);
                scene.act(Session::refresh);
                save(offscreen, "17-alarm-acknowledged")?;
                scene.act(Session::open_menu);
                scene.act(|session| {
                    session.filter_history(perfuse::ui::history::HistoryFilter::Alarms)
                });
                save(offscreen, "22-history-alarms")?;
                scene.act(|session| {
                    session.filter_history(perfuse::ui::history::HistoryFilter::All)
                });
                save(offscreen, "23-history-all")?;
                scene.act(Session::show_settings);
                scene.act(|session| {
                    session.pin_key(Key::Digit(2));
                    session.pin_key(Key::Digit(5));
                });
                save(offscreen, "24-settings-pin")?;
                scene.act(|session| {
                    session.pin_key(Key::Digit(8));
                    session.pin_key(Key::Digit(0));
                    session.pin_enter();
                });
                save(offscreen, "25-settings")?;
                scene.act(Session::lock);
                scene.act(|session| session.unlock(false));
                save(offscreen, "26-screen-locked")?;
                drop(scene);
                let scene = at_drug_in_icu(platform, language, library, "amiodarone")?;
                scene.act(|session| session.choose("0"));
                save(offscreen, "18-loading-dose-choice")?;
                scene.act(|session| session.choose("loading-yes"));
                scene.typed("150");
                save(offscreen, "19-loading-dose")?;
                drop(scene);
                // A fluid given as a volume over a time, kept open at its end.
                let scene =
                    at_drug_in_icu(platform, language, library, perfuse::ui::workflow::BASIC_ID)?;
                save(offscreen, "30-basic-rate-or-volume-over-time")?;
                scene.act(|session| session.rate_by("rate-by-time"));
                scene.enter("50");
                scene.typed("30");
                save(offscreen, "31-volume-over-time-duration")?;
                scene.enter("30");
                scene.act(|session| session.end_choice(perfuse::ui::session::END_KVO_ID));
                save(offscreen, "32-review-keep-vein-open")?;
                // Program now, start later: when, then the wait on the
                // running page.
                scene.act(Session::start_later);
                save(offscreen, "33-start-later")?;
                scene.act(|session| session.start_later_choice(1));
                scene.act(Session::refresh);
                save(offscreen, "34-delayed-start")?;
                drop(scene);
                // A fluid in steps (ramp, hold, taper).
                let scene =
                    at_drug_in_icu(platform, language, library, perfuse::ui::workflow::BASIC_ID)?;
                scene.act(|session| session.rate_by("rate-by-steps"));
                scene.enter("20");
                scene.enter("5");
                save(offscreen, "35-steps-another")?;
                scene.act(|session| session.choose("steps-add"));
                scene.enter("40");
                scene.enter("40");
                scene.act(|session| session.choose("steps-add"));
                scene.enter("20");
                scene.enter("5");
                scene.act(|session| session.choose("steps-done"));
                save(offscreen, "36-steps-review")?;
                drop(scene);
                // Patient-controlled analgesia: basal, lockout, review, and
                // the running page after a demand given and one refused.
                let scene = Scene::new(platform, language, library, false)?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                scene.act(Session::new_program);
                scene.act(|session| session.choose("med-surg"));
                scene.act(|session| session.choose("morphine-pca"));
                scene.act(|session| session.choose("0"));
                scene.typed("0.5");
                save(offscreen, "37-pca-basal")?;
                scene.enter("0.5");
                scene.enter("1");
                scene.typed("10");
                save(offscreen, "38-pca-lockout")?;
                scene.enter("10");
                scene.enter("10");
                scene.enter("50");
                save(offscreen, "39-pca-review")?;
                scene.act(Session::start);
                scene.refresh_until(|mode| mode == Mode::Delivering)?;
                for _ in 0..2 {
                    scene
                        .rig
                        .borrow_mut()
                        .simulator
                        .physics_mut()
                        .press_demand(300);
                    for _ in 0..40 {
                        scene.act(Session::refresh);
                    }
                }
                save(offscreen, "40-pca-running")?;
                drop(scene);
                let scene = Scene::with(
                    platform,
                    language,
                    library,
                    false,
                    Some(interrupted_norepinephrine()),
                )?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(offscreen, "20-infusion-interrupted")?;
                scene.act(Session::resume_interrupted);
                save(offscreen, "21-resume-review")?;
                drop(scene);
                // The drug library refused at the start: the last good one
                // stands in, or there is none and only basic infusions.
                let scene = Scene::configured(
                    platform,
                    language,
                    Some(library.clone()),
                    LibraryState::LastGood(Unusable::Refused(LibraryError::SignatureMismatch {
                        key_id: "pharmacy-2026".to_owned(),
                    })),
                    false,
                    None,
                )?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(offscreen, "27-home-last-good-library")?;
                drop(scene);
                let scene = Scene::configured(
                    platform,
                    language,
                    None,
                    LibraryState::None(Unusable::Unreadable {
                        path: "/etc/perfuse/druglib.toml".to_owned(),
                        detail: "No such file or directory".to_owned(),
                    }),
                    false,
                    None,
                )?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                save(offscreen, "28-home-no-library")?;
                drop(scene);
                // An order from the hospital: compared, reviewed; one that
                // passes in two care areas; one the library refuses.
                let scene = Scene::new(platform, language, library, false)?;
                scene.refresh_until(|mode| mode == Mode::Idle)?;
                scene.send_order(gallery_order(
                    "ORD-2026-0001",
                    "dopamine",
                    (400, "mg", 250),
                    (5, "mcg/kg/min"),
                )?);
                save(offscreen, "41-order")?;
                scene.act(Session::review_order);
                save(offscreen, "42-order-review")?;
                scene.act(Session::cancel);
                scene.act(Session::decline_order);
                scene.send_order(gallery_order(
                    "ORD-2026-0002",
                    "heparin",
                    (25_000, "units", 500),
                    (18, "units/kg/h"),
                )?);
                save(offscreen, "43-order-care-area-to-choose")?;
                scene.act(Session::review_order);
                save(offscreen, "43a-order-care-areas")?;
                scene.act(|session| session.pick_order_area(1));
                save(offscreen, "43b-order-care-area-chosen")?;
                scene.act(Session::decline_order);
                scene.send_order(gallery_order(
                    "ORD-2026-0003",
                    "dopamine",
                    (600, "mg", 250),
                    (5, "mcg/kg/min"),
                )?);
                save(offscreen, "44-order-refused")?;
                scene.act(Session::new_program);
                save(offscreen, "29-basic-only-drug")?;
            }
        }
    }
    Ok(Gallery {
        pages: written,
        misfits,
    })
}
