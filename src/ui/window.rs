//! The window: shows a session through the markup's adapters and forwards
//! every press to the session. One render writes every adapter from the
//! session; nothing is decided here.

use std::cell::RefCell;
use std::rc::Rc;

use perfuse_ui::{
    AlarmLevel, Alarms, AppWindow, Check, CheckState, ChoiceRow, Fact, Frame, HistoryRow,
    LimitLevel, MenuAdapter, Navigation, OverrideRow, Page, ProgramAdapter, Reading, ReviewRow,
    RunningAdapter, StatusAdapter,
};
use rust_decimal::Decimal;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::history::HistoryFilter;
use super::keypad::{Key, Refusal};
use super::session::{MenuView, Notice, Screen, Session};
use super::text::{localise_decimal, Arg, Texts};
use super::workflow::{Choice, Kind, Problem, Step};
use crate::alarms::Condition;
use crate::control::controller::Mode;
use crate::druglib::{Blocker, Bound, CheckedValue, LimitStatus, Parameter};
use crate::therapy::{PatientData, TherapyError};
use perfuse_drivers::annunciator::{AlarmVolume, Priority};

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn s(text: impl Into<SharedString>) -> SharedString {
    text.into()
}

/// Wires the window's callbacks to the session.
pub fn attach(window: &AppWindow, session: &Rc<RefCell<Session>>) {
    let act = |action: fn(&mut Session)| {
        let weak = window.as_weak();
        let session = session.clone();
        move || {
            if let Some(window) = weak.upgrade() {
                action(&mut session.borrow_mut());
                render(&window, &session.borrow());
            }
        }
    };
    // A callback with an argument from the markup (a key, an id, an index).
    fn with<T: 'static>(
        window: &AppWindow,
        session: &Rc<RefCell<Session>>,
        action: fn(&mut Session, T),
    ) -> impl Fn(T) + 'static {
        let weak = window.as_weak();
        let session = session.clone();
        move |argument| {
            if let Some(window) = weak.upgrade() {
                action(&mut session.borrow_mut(), argument);
                render(&window, &session.borrow());
            }
        }
    }
    let status = window.global::<StatusAdapter>();
    status.on_primary(act(|session| match session.screen {
        Screen::Home => session.new_program(),
        Screen::Interrupted => session.resume_interrupted(),
        Screen::Startup
        | Screen::NotVerified { .. }
        | Screen::Program
        | Screen::Running
        | Screen::Menu(_) => {}
    }));
    status.on_secondary(act(|session| match session.screen {
        Screen::Interrupted => session.discard_interrupted(),
        Screen::Home => session.open_menu(),
        Screen::Startup
        | Screen::NotVerified { .. }
        | Screen::Program
        | Screen::Running
        | Screen::Menu(_) => {}
    }));

    let menu = window.global::<MenuAdapter>();
    menu.on_history(act(Session::show_history));
    menu.on_settings(act(Session::show_settings));
    menu.on_lock(act(Session::lock));
    menu.on_close(act(Session::close_menu));
    menu.on_pin_backspace(act(|session| session.pin_key(Key::Backspace)));
    menu.on_pin_clear(act(|session| session.pin_key(Key::Clear)));
    menu.on_pin_enter(act(Session::pin_enter));
    menu.on_brighter(act(|session| session.brightness(true)));
    menu.on_dimmer(act(|session| session.brightness(false)));
    menu.on_louder(act(|session| session.alarm_volume(true)));
    menu.on_quieter(act(|session| session.alarm_volume(false)));
    menu.on_unlock(act(|session| session.unlock(false)));
    menu.on_confirm_unlock(act(|session| session.unlock(true)));
    menu.on_pin_digit(with(window, session, |session, digit: i32| {
        if let Ok(digit) = u8::try_from(digit) {
            session.pin_key(Key::Digit(digit));
        }
    }));
    menu.on_filter(with(window, session, |session, id: SharedString| {
        let filter = HistoryFilter::ALL
            .into_iter()
            .find(|filter| format!("{filter:?}") == id.as_str());
        if let Some(filter) = filter {
            session.filter_history(filter);
        }
    }));
    menu.on_language(with(window, session, |session, tag: SharedString| {
        session.choose_language(&tag);
    }));

    let program = window.global::<ProgramAdapter>();
    program.on_next(act(Session::next));
    program.on_back(act(Session::back));
    program.on_cancel(act(Session::cancel));
    program.on_start(act(Session::start));
    program.on_point_pressed(act(|session| session.key(Key::Point)));
    program.on_backspace_pressed(act(|session| session.key(Key::Backspace)));
    program.on_clear_pressed(act(|session| session.key(Key::Clear)));
    program.on_digit(with(window, session, |session, digit: i32| {
        if let Ok(digit) = u8::try_from(digit) {
            session.key(Key::Digit(digit));
        }
    }));
    program.on_choose(with(window, session, |session, id: SharedString| {
        session.choose(&id);
    }));
    program.on_letter(with(window, session, |session, letter: SharedString| {
        session.search_letter(&letter);
    }));
    program.on_search_backspace(act(Session::search_backspace));
    program.on_toggle_keyboard(act(Session::toggle_keyboard));
    program.on_confirm_override(with(window, session, |session, index: i32| {
        if let Ok(index) = usize::try_from(index) {
            session.confirm_override(index);
        }
    }));

    let running = window.global::<RunningAdapter>();
    running.on_start(act(Session::start_loaded));
    running.on_pause(act(Session::pause));
    running.on_resume(act(Session::resume));
    running.on_stop(act(Session::stop));
    running.on_leave(act(Session::leave));
    running.on_menu(act(Session::open_menu));
    running.on_titrate(act(|session| session.program_on_running(Kind::Titration)));
    running.on_bolus(act(|session| session.program_on_running(Kind::Bolus)));
    running.on_secondary(act(|session| session.program_on_running(Kind::Secondary)));

    let alarms = window.global::<Alarms>();
    alarms.on_silence(act(Session::silence));
    alarms.on_acknowledge(act(Session::acknowledge));
}

/// Writes the whole session into the window.
pub fn render(window: &AppWindow, session: &Session) {
    // A new page or step repaints the whole window (see Navigation.repaint).
    thread_local!(static VIEW: RefCell<String> = const { RefCell::new(String::new()) });
    // The pump's mode and its top alarm are part of the view: the status
    // in the bar and on the page must never be left half-repainted.
    let view = format!(
        "{:?} {:?} {} {:?} {:?}",
        session.screen,
        session.step(),
        session.keyboard,
        session.snapshot.mode,
        session
            .snapshot
            .alarms
            .first()
            .copied()
            .flatten()
            .map(|alarm| alarm.condition)
    );
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
        Some(library) => texts.format(
            "frame-library",
            &[
                ("name", Arg::Text(library.identity.name.clone())),
                ("version", Arg::Text(library.identity.version.clone())),
            ],
        ),
        None => texts.get("frame-no-library"),
    }));
    let (page, title) = match &session.screen {
        Screen::Startup => (Page::Status, texts.get("startup-title")),
        Screen::NotVerified { .. } => (Page::Status, texts.get("notverified-title")),
        Screen::Home => (Page::Status, texts.get("home-title")),
        Screen::Interrupted => (Page::Status, texts.get("interrupted-title")),
        Screen::Menu(MenuView::History) => (Page::Menu, texts.get("menu-history")),
        Screen::Menu(MenuView::Pin | MenuView::Settings) => {
            (Page::Menu, texts.get("menu-settings"))
        }
        Screen::Menu(MenuView::Locked) => (Page::Menu, texts.get("frame-locked")),
        Screen::Program => (Page::Program, texts.get(kind_id(session))),
        Screen::Running => (Page::Running, pump_status(texts, &session.snapshot)),
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
    render_alarms(window, session);
    match &session.screen {
        Screen::Startup | Screen::NotVerified { .. } | Screen::Home | Screen::Interrupted => {
            render_status(window, session);
        }
        Screen::Program => render_program(window, session),
        Screen::Running => render_running(window, session),
        Screen::Menu(view) => render_menu(window, session, *view),
    }
}

fn render_menu(window: &AppWindow, session: &Session, view: MenuView) {
    let texts = &session.texts;
    let menu = window.global::<MenuAdapter>();
    menu.set_view(match view {
        MenuView::History => perfuse_ui::MenuView::History,
        MenuView::Pin => perfuse_ui::MenuView::Pin,
        MenuView::Settings => perfuse_ui::MenuView::Settings,
        MenuView::Locked => perfuse_ui::MenuView::Locked,
    });
    menu.set_history_label(s(texts.get("menu-history")));
    menu.set_settings_label(s(texts.get("menu-settings")));
    menu.set_lock_label(s(texts.get("menu-lock")));
    menu.set_close_label(s(texts.get("menu-close")));
    match view {
        MenuView::History => {
            let filters: Vec<ChoiceRow> = HistoryFilter::ALL
                .into_iter()
                .map(|filter| ChoiceRow {
                    id: s(format!("{filter:?}")),
                    label: s(texts.get(match filter {
                        HistoryFilter::All => "filter-all",
                        HistoryFilter::Alarms => "filter-alarms",
                        HistoryFilter::Programs => "filter-programs",
                        HistoryFilter::Interactions => "filter-interactions",
                    })),
                    chosen: filter == session.history_filter,
                })
                .collect();
            menu.set_filters(model(filters));
            let (rows, note) = match &session.history_rows {
                Ok(rows) => (
                    rows.iter()
                        .map(|recorded| history_row(texts, recorded))
                        .collect(),
                    if rows.is_empty() {
                        texts.get("history-empty")
                    } else {
                        String::new()
                    },
                ),
                Err(error) => (
                    Vec::new(),
                    texts.format(
                        "history-unreadable",
                        &[("detail", Arg::Text(error.clone()))],
                    ),
                ),
            };
            menu.set_rows(model(rows));
            menu.set_history_note(s(note));
        }
        MenuView::Pin => {
            menu.set_pin_prompt(s(texts.get("pin-prompt")));
            menu.set_pin_dots(s("•".repeat(session.pin.len())));
            menu.set_pin_message(s(if session.pin_wrong {
                texts.get("pin-wrong")
            } else {
                String::new()
            }));
            menu.set_enter_label(s(texts.get("pin-enter")));
            menu.set_clear_label(s(texts.get("action-clear")));
            menu.set_backspace_label(s("⌫"));
        }
        MenuView::Settings => {
            menu.set_language_label(s(texts.get("settings-language")));
            let languages: Vec<ChoiceRow> = super::text::Language::ALL
                .into_iter()
                .map(|language| ChoiceRow {
                    id: s(language.tag()),
                    label: s(language.native_name()),
                    chosen: language == texts.language(),
                })
                .collect();
            menu.set_languages(model(languages));
            menu.set_brightness_label(s(texts.get("settings-brightness")));
            menu.set_brightness(s(format!(
                "{} %",
                u32::from(session.brightness_tenths) * 10
            )));
            menu.set_dimmer_label(s(texts.get("settings-dimmer")));
            menu.set_brighter_label(s(texts.get("settings-brighter")));
            menu.set_volume_label(s(texts.get("settings-volume")));
            let level = |volume: AlarmVolume| Arg::Count(u64::from(volume.level()));
            menu.set_volume(s(texts.format(
                "settings-volume-level",
                &[
                    ("level", level(session.alarm_volume)),
                    ("max", level(AlarmVolume::LOUDEST)),
                ],
            )));
            menu.set_volume_note(s(texts.format(
                "settings-volume-note",
                &[("floor", level(AlarmVolume::HIGH_PRIORITY_FLOOR))],
            )));
            menu.set_quieter_label(s(texts.get("settings-quieter")));
            menu.set_louder_label(s(texts.get("settings-louder")));
            let biomed: Vec<Fact> = session
                .biomed
                .iter()
                .map(|(id, value)| match *id {
                    // Numbers in the language's own format.
                    "biomed-rates" => fact(
                        texts,
                        id,
                        format!(
                            "{} – {}",
                            texts.number(session.limits.min.value()),
                            texts.quantity(session.limits.max.value(), "mL/h")
                        ),
                    ),
                    _ => fact(texts, id, value.clone()),
                })
                .collect();
            menu.set_biomed(model(biomed));
        }
        MenuView::Locked => {
            menu.set_locked_text(s(texts.get("locked-text")));
            menu.set_unlock_label(s(texts.get("unlock")));
            menu.set_confirm_unlock_label(s(texts.get("unlock-confirm")));
            menu.set_unlock_armed(session.unlock_armed);
        }
    }
}

fn history_row(texts: &Texts, recorded: &crate::store::Recorded) -> HistoryRow {
    use crate::store::Event;
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(recorded.at_ms) * 1_000_000)
            .ok()
            .and_then(|moment| {
                moment
                    .format(time::macros::format_description!(
                        "[hour]:[minute]:[second]"
                    ))
                    .ok()
            })
            .unwrap_or_default();
    let (alarm, detail) = match &recorded.event {
        Event::AlarmRaised { condition, .. }
        | Event::AlarmSilenced { condition }
        | Event::AlarmAcknowledged { condition }
        | Event::AlarmCleared { condition } => (true, condition_text(texts, condition)),
        Event::SupervisorTrip { reason } => (true, reason.clone()),
        Event::ProgramStarted { program } | Event::ProgramChanged { program } => {
            (false, program.clone())
        }
        Event::SoftLimitOverride { drug, value, limit } => {
            (false, format!("{drug}: {value} ({limit})"))
        }
        Event::Interaction {
            screen,
            action,
            element,
            ..
        } => (false, format!("{screen} · {action} · {element}")),
        Event::SelfTest { detail, .. }
        | Event::PlatformCheck { detail, .. }
        | Event::StorageFault { detail } => (false, detail.clone()),
        Event::LibraryActivated { name, version, .. } => (false, format!("{name} {version}")),
        Event::EventsDropped { count } => (false, count.to_string()),
        Event::PowerOn
        | Event::PowerOff
        | Event::ProgramPaused
        | Event::ProgramResumed
        | Event::ProgramStopped
        | Event::ProgramCompleted => (false, String::new()),
    };
    HistoryRow {
        time: s(time),
        kind: s(texts.get(&format!(
            "event-{}",
            recorded.event.kind().replace('_', "-")
        ))),
        detail: s(detail),
        alarm,
    }
}

fn kind_id(session: &Session) -> &'static str {
    match session
        .workflow
        .as_ref()
        .map(super::workflow::Workflow::kind)
    {
        Some(Kind::Primary) | None => "kind-primary",
        Some(Kind::Secondary) => "kind-secondary",
        Some(Kind::Bolus) => "kind-bolus",
        Some(Kind::Titration) => "kind-titration",
    }
}

/// The pump's status as the bar and the running page show it (one text for
/// both): its mode, and when an alarm stopped the flow, which alarm. A
/// flow-stopping condition acknowledged but still there stays named until
/// it is cleared; it is never shown as a plain "Paused".
pub fn pump_status(texts: &Texts, snapshot: &crate::control::controller::Snapshot) -> String {
    let stopping = snapshot
        .alarms
        .iter()
        .flatten()
        .find(|alarm| alarm.condition.stops_flow() && (alarm.present || !alarm.acknowledged));
    match (snapshot.mode, stopping) {
        (Mode::AlarmStopped | Mode::Paused | Mode::Ready, Some(alarm)) => texts.format(
            "state-stopped-by",
            &[("cause", Arg::Text(texts.get(alarm_ids(alarm.condition).0)))],
        ),
        (_, _) => texts.get(mode_id(snapshot.mode)),
    }
}

fn mode_id(mode: Mode) -> &'static str {
    match mode {
        Mode::SelfTest => "state-self-test",
        Mode::PlatformRejected => "state-platform-rejected",
        Mode::Idle => "state-idle",
        Mode::Ready => "state-ready",
        Mode::Delivering => "state-delivering",
        Mode::KeepVeinOpen => "state-keep-vein-open",
        Mode::Paused => "state-paused",
        Mode::AlarmStopped => "state-alarm-stopped",
        Mode::Completed => "state-completed",
        Mode::Fault => "state-fault",
    }
}

/// The words for an alarm condition as recorded by name ("AirInLine"); an
/// unknown name is shown as it is.
fn condition_text(texts: &Texts, condition: &str) -> String {
    Condition::ALL
        .into_iter()
        .find(|known| format!("{known:?}") == condition)
        .map_or_else(
            || condition.to_owned(),
            |known| texts.get(alarm_ids(known).0),
        )
}

/// A concentration as the bag label states it: "4 mg in 250 mL".
fn concentration_text(
    texts: &Texts,
    amount: crate::therapy::Amount,
    volume: crate::therapy::Millilitres,
) -> String {
    texts.format(
        "concentration-option",
        &[
            (
                "amount",
                Arg::Text(texts.quantity(amount.value, amount.unit.symbol())),
            ),
            ("volume", Arg::Text(texts.quantity(volume.value(), "mL"))),
        ],
    )
}

/// Message ids of an alarm's cause and what to do.
pub fn alarm_ids(condition: Condition) -> (&'static str, &'static str) {
    match condition {
        Condition::DownstreamOcclusion => (
            "alarm-downstream-occlusion",
            "alarm-downstream-occlusion-do",
        ),
        Condition::UpstreamOcclusion => ("alarm-upstream-occlusion", "alarm-upstream-occlusion-do"),
        Condition::AirInLine => ("alarm-air-in-line", "alarm-air-in-line-do"),
        Condition::AccumulatedAir => ("alarm-accumulated-air", "alarm-accumulated-air-do"),
        Condition::DoorOpen => ("alarm-door-open", "alarm-door-open-do"),
        Condition::SyringeNotLoaded => ("alarm-syringe-not-loaded", "alarm-syringe-not-loaded-do"),
        Condition::EndOfContainer => ("alarm-end-of-container", "alarm-end-of-container-do"),
        Condition::MotorStall => ("alarm-motor-stall", "alarm-motor-stall-do"),
        Condition::DriverFault => ("alarm-driver-fault", "alarm-driver-fault-do"),
        Condition::EncoderDisagreement => (
            "alarm-encoder-disagreement",
            "alarm-encoder-disagreement-do",
        ),
        Condition::SensorFault => ("alarm-sensor-fault", "alarm-sensor-fault-do"),
        Condition::SupervisorTrip => ("alarm-supervisor-trip", "alarm-supervisor-trip-do"),
        Condition::InfusionComplete => ("alarm-infusion-complete", "alarm-infusion-complete-do"),
        Condition::NearEnd => ("alarm-near-end", "alarm-near-end-do"),
        Condition::KeepVeinOpen => ("alarm-keep-vein-open", "alarm-keep-vein-open-do"),
        Condition::CallbackPaused => ("alarm-callback-paused", "alarm-callback-paused-do"),
        Condition::CallbackUnstarted => ("alarm-callback-unstarted", "alarm-callback-unstarted-do"),
        Condition::StorageFault => ("alarm-storage-fault", "alarm-storage-fault-do"),
    }
}

fn render_alarms(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let alarms = window.global::<Alarms>();
    let raised: Vec<_> = session.snapshot.alarms.iter().flatten().collect();
    let Some(top) = raised.first() else {
        alarms.set_level(AlarmLevel::None);
        return;
    };
    let (level, priority) = match top.priority {
        Priority::High => (AlarmLevel::High, "priority-high"),
        Priority::Medium => (AlarmLevel::Medium, "priority-medium"),
        Priority::Low => (AlarmLevel::Low, "priority-low"),
    };
    let (cause, action) = alarm_ids(top.condition);
    alarms.set_level(level);
    alarms.set_priority(s(texts.get(priority)));
    alarms.set_cause(s(texts.get(cause)));
    alarms.set_action(s(texts.get(action)));
    let others = raised.len().saturating_sub(1);
    alarms.set_more(s(if others > 0 {
        format!(" (+{others})")
    } else {
        String::new()
    }));
    let silence_s = session.snapshot.silence_remaining_ms.div_ceil(1000);
    alarms.set_silenced(s(if silence_s > 0 {
        texts.format("alarm-silenced", &[("seconds", Arg::Count(silence_s))])
    } else {
        String::new()
    }));
    alarms.set_silence_label(s(texts.get("action-silence")));
    alarms.set_acknowledge_label(s(texts.get("action-acknowledge")));
    alarms.set_can_silence(silence_s == 0);
    alarms.set_can_acknowledge(raised.iter().any(|alarm| !alarm.acknowledged));
}

fn fact(texts: &Texts, id: &str, value: String) -> Fact {
    Fact {
        label: s(texts.get(id)),
        value: s(value),
    }
}

fn render_status(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let status = window.global::<StatusAdapter>();
    let mut checks = Vec::new();
    let mut facts = Vec::new();
    let mut note = String::new();
    let mut secondary = None;
    let (title, primary) = match &session.screen {
        Screen::Startup | Screen::Home => {
            for check in &session.checks {
                let (result, state) = match &check.result {
                    Ok(detail) => (
                        format!("{} ({detail})", texts.get("startup-passed")),
                        CheckState::Passed,
                    ),
                    Err(reason) => (
                        format!("{}: {reason}", texts.get("startup-failed")),
                        CheckState::Failed,
                    ),
                };
                checks.push(Check {
                    label: s(texts.get(check.name)),
                    result: s(result),
                    state,
                });
            }
            if session.screen == Screen::Startup {
                checks.push(Check {
                    label: s(texts.get("state-self-test")),
                    result: s(texts.get("startup-running")),
                    state: CheckState::Running,
                });
                (texts.get("startup-title"), None)
            } else {
                note = texts.get("home-no-program");
                secondary = Some(texts.get("menu-more"));
                (
                    texts.get("home-title"),
                    session
                        .can_program()
                        .then(|| texts.get("action-new-program")),
                )
            }
        }
        Screen::NotVerified { why, action } => {
            facts.push(fact(texts, "notverified-why", why.clone()));
            facts.push(fact(texts, "notverified-what-to-do", action.clone()));
            (texts.get("notverified-title"), None)
        }
        Screen::Interrupted => {
            if let Some(interrupted) = &session.interrupted {
                facts = interrupted_facts(texts, interrupted);
            }
            note = match &session.notice {
                Some(Notice::Refused(detail)) => {
                    texts.format("error-refused", &[("detail", Arg::Text(detail.clone()))])
                }
                _ if session.can_resume_interrupted() => texts.get("interrupted-check"),
                _ => texts.get("interrupted-no-resume"),
            };
            secondary = Some(texts.get("action-discard"));
            (
                texts.get("interrupted-title"),
                session
                    .can_resume_interrupted()
                    .then(|| texts.get("action-resume-interrupted")),
            )
        }
        Screen::Program | Screen::Running | Screen::Menu(_) => (String::new(), None),
    };
    status.set_title(s(title));
    status.set_checks(model(checks));
    status.set_facts(model(facts));
    status.set_note(s(note));
    status.set_has_primary(primary.is_some());
    status.set_primary_label(s(primary.unwrap_or_default()));
    status.set_has_secondary(secondary.is_some());
    status.set_secondary_label(s(secondary.unwrap_or_default()));
}

/// What the interrupted screen tells: the program, infused, left, when, why.
fn interrupted_facts(texts: &Texts, interrupted: &crate::services::kept::Interrupted) -> Vec<Fact> {
    use crate::services::kept::Cause;
    use crate::therapy::{Delivery, Medication};
    let kept = &interrupted.program;
    let program = match &kept.therapy {
        Some(therapy) => {
            let name = therapy
                .drug_name
                .clone()
                .unwrap_or_else(|| texts.get("running-basic"));
            let dose = match therapy.program.delivery {
                Delivery::Rate { rate, .. } => texts.quantity(rate.value(), "mL/h"),
                Delivery::Dose { dose, .. } => texts.quantity(dose.value, &dose.unit.to_string()),
                Delivery::AmountOverTime { amount, .. } => {
                    texts.quantity(amount.value, &amount.unit.to_string())
                }
                Delivery::VolumeOverTime { volume, .. } => texts.quantity(volume.value(), "mL"),
                Delivery::LoadingThenMaintenance { maintenance, .. } => {
                    texts.quantity(maintenance.value, &maintenance.unit.to_string())
                }
            };
            let concentration = match therapy.program.medication {
                Medication::Drug { concentration, .. } => format!(
                    ", {}",
                    concentration_text(texts, concentration.amount, concentration.volume)
                ),
                Medication::Basic => String::new(),
            };
            format!("{name} {dose}{concentration}")
        }
        None => format!(
            "{} {}",
            texts.get("running-basic"),
            texts.quantity(kept.rate_ml_h.parse().unwrap_or_default(), "mL/h")
        ),
    };
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(interrupted.saved_at_ms) * 1_000_000,
    )
    .ok()
    .and_then(|moment| {
        moment
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
    })
    .unwrap_or_default();
    let why = match &interrupted.cause {
        Cause::ShutDown => texts.get("interrupted-why-shutdown"),
        Cause::Unexpected {
            supervisor_trip: true,
            ..
        } => texts.get("interrupted-why-supervisor"),
        Cause::Unexpected {
            last_alarm: Some(condition),
            ..
        } => {
            let cause = condition_text(texts, condition);
            texts.format("interrupted-why-alarm", &[("alarm", Arg::Text(cause))])
        }
        Cause::Unexpected { .. } => texts.get("interrupted-why-unexpected"),
    };
    vec![
        fact(texts, "interrupted-program", program),
        fact(
            texts,
            "interrupted-infused",
            texts.quantity(millilitres(kept.delivered_nl), "mL"),
        ),
        fact(
            texts,
            "interrupted-left",
            texts.quantity(millilitres(kept.remaining_nl), "mL"),
        ),
        fact(texts, "interrupted-when", when),
        fact(texts, "interrupted-why", why),
    ]
}

fn level_of(status: Option<LimitStatus>) -> LimitLevel {
    match status {
        None => LimitLevel::None,
        Some(LimitStatus::Within) => LimitLevel::Within,
        Some(LimitStatus::BeyondSoft { .. }) => LimitLevel::Soft,
        Some(LimitStatus::BeyondHard { .. }) => LimitLevel::Hard,
    }
}

/// The words for a limit status of a value in `unit`.
pub fn status_text(texts: &Texts, status: LimitStatus, unit: &str) -> String {
    let (id, limit) = match status {
        LimitStatus::Within => return texts.get("limit-within"),
        LimitStatus::BeyondSoft {
            bound: Bound::Maximum,
            limit,
        } => ("limit-soft-max", limit),
        LimitStatus::BeyondSoft {
            bound: Bound::Minimum,
            limit,
        } => ("limit-soft-min", limit),
        LimitStatus::BeyondHard {
            bound: Bound::Maximum,
            limit,
        } => ("limit-hard-max", limit),
        LimitStatus::BeyondHard {
            bound: Bound::Minimum,
            limit,
        } => ("limit-hard-min", limit),
    };
    texts.format(
        id,
        &[
            ("limit", Arg::Number(limit)),
            ("unit", Arg::Text(unit.to_owned())),
        ],
    )
}

/// The words for a refused entry or key.
pub fn problem_text(texts: &Texts, problem: &Problem) -> String {
    match problem {
        Problem::Entry(error) => therapy_text(texts, error),
        Problem::HardLimit { status, unit } => status_text(texts, *status, unit),
        Problem::UnknownChoice(_) => texts.get("error-unknown-choice"),
        Problem::Key(Refusal::SecondPoint) => texts.get("error-key-second-point"),
        Problem::Key(Refusal::LeadingZero) => texts.get("error-key-leading-zero"),
        Problem::Key(Refusal::TooManyIntegerDigits) => texts.get("error-key-too-many-digits"),
        Problem::Key(Refusal::TooManyDecimals) => texts.get("error-key-too-many-decimals"),
        Problem::WrongStep => String::new(),
    }
}

fn therapy_text(texts: &Texts, error: &TherapyError) -> String {
    match error {
        TherapyError::NotANumber { text } if text.is_empty() => texts.get("error-nothing-entered"),
        TherapyError::NotANumber { .. } => texts.get("error-not-a-number"),
        TherapyError::MissingLeadingZero { .. } => texts.get("error-missing-leading-zero"),
        TherapyError::IncompleteNumber { .. } => texts.get("error-incomplete"),
        TherapyError::TooManyDigits {
            max_integer_digits,
            max_decimals,
            ..
        } => texts.format(
            "error-too-many-digits",
            &[
                ("integer", Arg::Count(u64::from(*max_integer_digits))),
                ("decimals", Arg::Count(u64::from(*max_decimals))),
            ],
        ),
        TherapyError::OutOfRange {
            value,
            min,
            max,
            unit,
            ..
        } => texts.format(
            "error-out-of-range",
            &[
                ("value", Arg::Number(*value)),
                ("min", Arg::Number(*min)),
                ("max", Arg::Number(*max)),
                ("unit", Arg::Text(unit.clone())),
            ],
        ),
        TherapyError::AboveContainer { volume, capacity } => texts.format(
            "error-above-container",
            &[
                ("volume", Arg::Number(*volume)),
                ("capacity", Arg::Number(*capacity)),
            ],
        ),
        TherapyError::FinerThanResolution {
            value, step, unit, ..
        } => texts.format(
            "error-finer-than-resolution",
            &[
                ("value", Arg::Number(*value)),
                ("step", Arg::Number(*step)),
                ("unit", Arg::Text(unit.clone())),
            ],
        ),
        TherapyError::IncompatibleUnits { from, to } => texts.format(
            "error-incompatible-units",
            &[
                ("from", Arg::Text((*from).to_owned())),
                ("to", Arg::Text((*to).to_owned())),
            ],
        ),
        TherapyError::UnknownUnit { text, allowed } => texts.format(
            "error-unknown-unit",
            &[
                ("text", Arg::Text(text.clone())),
                ("allowed", Arg::Text((*allowed).to_owned())),
            ],
        ),
        TherapyError::NonPositiveConcentration => texts.get("error-non-positive-concentration"),
        TherapyError::MissingPatientData {
            needs: PatientData::Weight,
        } => texts.get("error-needs-weight"),
        TherapyError::MissingPatientData {
            needs: PatientData::WeightAndHeight,
        } => texts.get("error-needs-weight-and-height"),
        TherapyError::NeedsDrug => texts.get("error-needs-drug"),
        TherapyError::LoadingExceedsVolume { vtbi, loading } => texts.format(
            "error-loading-exceeds-volume",
            &[
                ("vtbi", Arg::Number(*vtbi)),
                ("loading", Arg::Number(*loading)),
            ],
        ),
        TherapyError::Overflow => texts.get("error-overflow"),
    }
}

fn parameter_id(parameter: Parameter) -> &'static str {
    match parameter {
        Parameter::DoseRate => "param-dose-rate",
        Parameter::FlowRate => "param-flow-rate",
        Parameter::DoseAmount => "param-dose-amount",
        Parameter::BolusDose => "param-bolus-dose",
        Parameter::LoadingDose => "param-loading-dose",
        Parameter::Duration => "param-duration",
        Parameter::VolumeToBeInfused => "param-vtbi",
    }
}

fn step_id(step: Step, kind: Kind, unit: &str) -> &'static str {
    match step {
        Step::CareArea => "step-care-area",
        Step::Drug => "step-drug",
        Step::Concentration => "step-concentration",
        Step::Loading => "step-loading",
        Step::LoadingDose => "step-loading-dose",
        Step::LoadingDuration => "step-loading-duration",
        Step::Dose if kind == Kind::Bolus && unit == "mL" => "step-bolus-volume",
        Step::Dose if kind == Kind::Bolus => "step-bolus-dose",
        Step::Dose if unit == "mL/h" => "step-rate",
        Step::Dose => "step-dose",
        Step::Weight => "step-weight",
        Step::Height => "step-height",
        Step::Duration => "step-duration",
        Step::Volume => "step-volume",
        Step::Review => "step-review",
    }
}

fn blocker_text(texts: &Texts, blocker: &Blocker) -> String {
    match blocker {
        Blocker::HardLimit(value) => checked_text(texts, value),
        Blocker::Program(error) => therapy_text(texts, error),
        other => texts.format("error-detail", &[("detail", Arg::Text(other.to_string()))]),
    }
}

fn checked_text(texts: &Texts, value: &CheckedValue) -> String {
    format!(
        "{} {}: {}",
        texts.get(parameter_id(value.parameter)),
        texts.quantity(value.value.round_sf(4).unwrap_or(value.value), &value.unit),
        status_text(texts, value.status, &value.unit)
    )
}

fn render_program(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let adapter = window.global::<ProgramAdapter>();
    let Some(workflow) = &session.workflow else {
        return;
    };
    let step = workflow.step();
    let field = workflow.field();
    let unit = field
        .as_ref()
        .map(|field| field.unit.clone())
        .unwrap_or_default();
    let (index, count) = workflow.position();
    adapter.set_kind_title(s(texts.get(kind_id(session))));
    adapter.set_step_title(s(texts.get(step_id(step, workflow.kind(), &unit))));
    adapter.set_position(s(texts.format(
        "step-position",
        &[
            ("index", Arg::Count(index as u64)),
            ("count", Arg::Count(count as u64)),
        ],
    )));
    adapter.set_choice_step(step.is_choice());
    adapter.set_review_step(step == Step::Review);
    adapter.set_back_label(s(texts.get("action-back")));
    adapter.set_cancel_label(s(texts.get("action-cancel")));
    adapter.set_next_label(s(texts.get("action-next")));
    adapter.set_start_label(s(texts.get(match workflow.kind() {
        Kind::Primary | Kind::Secondary => "action-start",
        Kind::Bolus => "action-bolus",
        Kind::Titration => "action-titrate",
    })));
    adapter.set_confirm_label(s(texts.get("action-confirm-override")));
    adapter.set_point(s(texts.language().decimal_separator().to_string()));
    adapter.set_clear_label(s(texts.get("action-clear")));
    adapter.set_backspace_label(s("⌫"));
    let message = session.notice.as_ref().map(|notice| match notice {
        Notice::Problem(problem) => problem_text(texts, problem),
        Notice::Refused(detail) => {
            texts.format("error-refused", &[("detail", Arg::Text(detail.clone()))])
        }
    });
    adapter.set_message(s(message.clone().unwrap_or_default()));

    if step.is_choice() {
        let chosen = workflow.chosen();
        let rows: Vec<ChoiceRow> = workflow
            .choices()
            .into_iter()
            .map(|choice| {
                let label = match &choice {
                    Choice::CareArea { name, .. } => name.clone(),
                    Choice::Basic => texts.get("choice-basic"),
                    Choice::Drug { display_name, .. } => display_name.clone(),
                    Choice::Concentration { amount, volume, .. } => {
                        concentration_text(texts, *amount, *volume)
                    }
                    Choice::Loading(false) => texts.get("choice-loading-no"),
                    Choice::Loading(true) => texts.get("choice-loading-yes"),
                };
                ChoiceRow {
                    chosen: chosen.as_deref() == Some(choice.id().as_str()),
                    id: s(choice.id()),
                    label: s(label),
                }
            })
            .collect();
        adapter.set_choices(model(rows));
        adapter.set_searchable(step == Step::Drug);
        adapter.set_search_label(s(texts.get("choice-search")));
        adapter.set_search_text(s(workflow.search()));
        adapter.set_keyboard(session.keyboard);
        adapter.set_keyboard_done_label(s(texts.get("keyboard-done")));
        adapter.set_letters(model(
            ('A'..='Z').map(|letter| s(letter.to_string())).collect(),
        ));
    }
    if let Some(field) = field {
        adapter.set_value(s(localise_decimal(
            workflow.entry().text(),
            texts.language(),
        )));
        adapter.set_unit(s(field.unit.as_str()));
        let limits = match field.limits {
            Some(limits) => match limits.hard_min {
                Some(min) => texts.format(
                    "limit-range",
                    &[
                        ("min", Arg::Number(min)),
                        ("max", Arg::Number(limits.hard_max)),
                        ("unit", Arg::Text(field.unit.clone())),
                    ],
                ),
                None => texts.format(
                    "limit-max-only",
                    &[
                        ("max", Arg::Number(limits.hard_max)),
                        ("unit", Arg::Text(field.unit.clone())),
                    ],
                ),
            },
            None => texts.format(
                "limit-range",
                &[
                    ("min", Arg::Number(field.range.min)),
                    ("max", Arg::Number(field.range.max)),
                    ("unit", Arg::Text(field.unit.clone())),
                ],
            ),
        };
        adapter.set_limits(s(limits));
        let typed = workflow.typed_status();
        adapter.set_level(level_of(typed));
        adapter.set_status(s(typed
            .map(|status| status_text(texts, status, &field.unit))
            .unwrap_or_default()));
    }
    if step == Step::Review {
        render_review(&adapter, session, workflow, message);
    }
}

fn render_review(
    adapter: &ProgramAdapter<'_>,
    session: &Session,
    workflow: &super::workflow::Workflow,
    message: Option<String>,
) {
    let texts = &session.texts;
    let Some(review) = workflow.review() else {
        return;
    };
    let row = |label: &str, value: String| ReviewRow {
        label: s(texts.get(label)),
        value: s(value),
        level: LimitLevel::None,
        note: s(""),
    };
    let mut rows = Vec::new();
    if let Some(area) = workflow
        .library()
        .file
        .care_areas
        .iter()
        .find(|area| area.id == review.care_area)
    {
        rows.push(row("review-care-area", area.name.clone()));
    }
    let drug = workflow
        .entry_picked()
        .map(|entry| entry.display_name.clone())
        .or_else(|| {
            session
                .active
                .as_ref()
                .and_then(|active| active.drug.clone())
        })
        .unwrap_or_else(|| texts.get("running-basic"));
    rows.push(row("review-drug", drug));
    if let crate::therapy::Medication::Drug {
        concentration,
        patient,
    } = workflow.medication()
    {
        rows.push(row(
            "review-concentration",
            concentration_text(texts, concentration.amount, concentration.volume),
        ));
        if let Some(weight) = patient.weight {
            rows.push(row("review-weight", texts.quantity(weight.value(), "kg")));
        }
    }
    let typed_dose = workflow.typed_dose();
    for value in &review.values {
        let shown = value.value.round_sf(4).unwrap_or(value.value);
        let status = status_text(texts, value.status, &value.unit);
        // A dose rate is checked as the rounded pump rate delivers it; the
        // nurse sees the dose typed, and what is delivered when it differs.
        let (shown, note) = match typed_dose {
            Some(typed) if value.parameter == Parameter::DoseRate && typed != value.value => (
                typed,
                format!(
                    "{status} · {}",
                    texts.format(
                        "review-delivered",
                        &[("value", Arg::Text(texts.quantity(shown, &value.unit)))]
                    )
                ),
            ),
            _ => (shown, status),
        };
        rows.push(ReviewRow {
            label: s(texts.get(parameter_id(value.parameter))),
            value: s(texts.quantity(shown, &value.unit)),
            level: level_of(Some(value.status)),
            note: s(note),
        });
    }
    if let Some(plan) = &review.plan {
        for segment in &plan.segments {
            rows.push(row(
                "review-rate",
                texts.quantity(segment.rate.value(), "mL/h"),
            ));
        }
        let volume_checked = review
            .values
            .iter()
            .any(|value| value.parameter == Parameter::VolumeToBeInfused);
        if let (Ok(total), false) = (plan.total_volume(), volume_checked) {
            // Shown to 0.01 mL, as the pump meters it.
            rows.push(row(
                "review-volume",
                texts.quantity(total.value().round_dp(2), "mL"),
            ));
        }
    }
    if let Some((before, left)) = review
        .plan
        .as_ref()
        .and_then(|plan| session.resume_volumes(plan))
    {
        // Shown to 0.01 mL, as the pump meters it.
        let millilitres = |nl: u64| {
            let hundredths = i64::try_from(nl / 10_000).unwrap_or(i64::MAX);
            texts.quantity(Decimal::new(hundredths, 2), "mL")
        };
        rows.push(row("review-infused-before", millilitres(before)));
        rows.push(row(
            if workflow.rest_after_nl().is_some() {
                "review-rest-to-give"
            } else {
                "review-to-give"
            },
            millilitres(left),
        ));
    }
    adapter.set_rows(model(rows));
    adapter.set_advisory(s(workflow
        .entry_picked()
        .and_then(|entry| entry.advisory.clone())
        .unwrap_or_default()));
    let needed = review.overrides_needed();
    let findings: Vec<_> = review.soft_findings().cloned().collect();
    let overrides: Vec<OverrideRow> = findings
        .iter()
        .zip(&needed)
        .map(|(value, wanted)| OverrideRow {
            text: s(checked_text(texts, value)),
            confirmed: session.overrides.contains(wanted),
        })
        .collect();
    let all_confirmed = overrides.iter().all(|row| row.confirmed);
    adapter.set_overrides(model(overrides));
    let (verdict, level) = if !review.blockers.is_empty() {
        let reasons: Vec<String> = review
            .blockers
            .iter()
            .map(|blocker| blocker_text(texts, blocker))
            .collect();
        (
            format!("{}: {}", texts.get("review-blocked"), reasons.join("; ")),
            LimitLevel::Hard,
        )
    } else if !all_confirmed {
        (texts.get("review-override"), LimitLevel::Soft)
    } else {
        (texts.get("review-ready"), LimitLevel::Within)
    };
    let verdict = match message {
        Some(message) if !message.is_empty() => message,
        _ => verdict,
    };
    adapter.set_verdict(s(verdict));
    adapter.set_verdict_level(level);
    adapter.set_can_start(review.blockers.is_empty() && all_confirmed);
}

/// Nanolitres as millilitres, to 0.01 mL.
fn millilitres(nanolitres: u64) -> Decimal {
    Decimal::new(i64::try_from(nanolitres / 10_000).unwrap_or(i64::MAX), 2)
}

fn render_running(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let adapter = window.global::<RunningAdapter>();
    let snapshot = &session.snapshot;
    let active = session.active.as_ref();
    adapter.set_drug(s(active
        .and_then(|active| active.drug.clone())
        .unwrap_or_else(|| texts.get("running-basic"))));
    adapter.set_state(s(pump_status(texts, snapshot)));
    let rate = millilitres(snapshot.commanded_rate.0);
    let mut readings = vec![Reading {
        label: s(texts.get("running-rate")),
        value: s(texts.quantity(rate, "mL/h")),
    }];
    if let Some((dose, unit)) =
        active.and_then(|active| Some((active.running.dose, active.dose_unit.clone()?)))
    {
        readings.push(Reading {
            label: s(texts.get("running-dose")),
            value: s(texts.quantity(dose, &unit)),
        });
    }
    readings.push(Reading {
        label: s(texts.get("running-vtbi-left")),
        value: s(texts.quantity(millilitres(snapshot.remaining.0), "mL")),
    });
    readings.push(Reading {
        label: s(texts.get("running-infused")),
        value: s(texts.quantity(
            millilitres(
                snapshot
                    .delivered
                    .0
                    .saturating_add(active.map_or(0, |active| active.infused_before_nl)),
            ),
            "mL",
        )),
    });
    let minutes_left = snapshot
        .remaining
        .0
        .saturating_mul(60)
        .checked_div(snapshot.commanded_rate.0)
        .filter(|_| snapshot.mode == Mode::Delivering);
    readings.push(Reading {
        label: s(texts.get("running-time-left")),
        value: s(minutes_left.map_or_else(
            || "–".to_owned(),
            |minutes| {
                texts.format(
                    "duration-hours-minutes",
                    &[
                        ("hours", Arg::Count(minutes / 60)),
                        ("minutes", Arg::Count(minutes % 60)),
                    ],
                )
            },
        )),
    });
    readings.push(Reading {
        label: s(texts.get("running-pressure")),
        value: s(snapshot.downstream_tenths_mmhg.map_or_else(
            || "–".to_owned(),
            |tenths| texts.quantity(Decimal::new(i64::from(tenths), 1).round(), "mmHg"),
        )),
    });
    adapter.set_readings(model(readings));
    let allowed = session.allowed();
    adapter.set_can_start(allowed.start);
    adapter.set_can_pause(allowed.pause);
    adapter.set_can_resume(allowed.resume);
    adapter.set_can_stop(allowed.stop);
    adapter.set_can_titrate(allowed.titrate);
    adapter.set_can_bolus(allowed.bolus);
    adapter.set_can_secondary(allowed.secondary);
    adapter.set_can_leave(allowed.leave);
    adapter.set_start_label(s(texts.get("action-start")));
    adapter.set_pause_label(s(texts.get("action-pause")));
    adapter.set_resume_label(s(texts.get("action-resume")));
    adapter.set_stop_label(s(texts.get("action-stop")));
    adapter.set_titrate_label(s(texts.get("action-titrate")));
    adapter.set_bolus_label(s(texts.get("action-bolus")));
    adapter.set_secondary_label(s(texts.get("action-secondary")));
    adapter.set_home_label(s(texts.get("action-home")));
    adapter.set_menu_label(s(texts.get("menu-more-short")));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::text::Language;
    use rust_decimal_macros::dec;

    /// One of each refusal the therapy core can give.
    fn every_therapy_error() -> Vec<TherapyError> {
        let text = || "1.".to_owned();
        vec![
            TherapyError::NotANumber {
                text: String::new(),
            },
            TherapyError::NotANumber { text: text() },
            TherapyError::MissingLeadingZero { text: text() },
            TherapyError::IncompleteNumber { text: text() },
            TherapyError::TooManyDigits {
                text: text(),
                max_integer_digits: 4,
                max_decimals: 2,
            },
            TherapyError::OutOfRange {
                quantity: crate::therapy::Quantity::Rate,
                value: dec!(1200),
                min: dec!(0.1),
                max: dec!(999),
                unit: "mL/h".to_owned(),
            },
            TherapyError::FinerThanResolution {
                quantity: crate::therapy::Quantity::Rate,
                value: dec!(1.234),
                step: dec!(0.01),
                unit: "mL/h".to_owned(),
            },
            TherapyError::IncompatibleUnits {
                from: "mg",
                to: "mL",
            },
            TherapyError::UnknownUnit {
                text: "grain".to_owned(),
                allowed: "mg, mcg, g, units, mmol",
            },
            TherapyError::AboveContainer {
                volume: dec!(60),
                capacity: dec!(50),
            },
            TherapyError::NonPositiveConcentration,
            TherapyError::MissingPatientData {
                needs: PatientData::Weight,
            },
            TherapyError::MissingPatientData {
                needs: PatientData::WeightAndHeight,
            },
            TherapyError::NeedsDrug,
            TherapyError::LoadingExceedsVolume {
                vtbi: dec!(5),
                loading: dec!(10),
            },
            TherapyError::Overflow,
        ]
    }

    #[test]
    fn every_therapy_refusal_is_said_in_the_screen_language() {
        let english = Texts::new(Language::English).unwrap();
        let german = Texts::new(Language::German).unwrap();
        for error in every_therapy_error() {
            let (en, de) = (
                therapy_text(&english, &error),
                therapy_text(&german, &error),
            );
            for said in [&en, &de] {
                assert!(!said.is_empty() && !said.contains('['), "{error:?}: {said}");
            }
            assert_ne!(en, de, "{error:?} is not translated");
            // The core's own English sentence never reaches a German screen.
            assert_ne!(
                de.to_lowercase(),
                error.to_string().to_lowercase(),
                "{error:?}"
            );
        }
    }
}
