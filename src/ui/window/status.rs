//! The status page's controller (StatusAdapter): start-up checks, platform
//! not verified, home, infusion interrupted.

use super::*;
use crate::ui::session::START_LATER_MINUTES;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let status = wire.window.global::<StatusAdapter>();
    status.on_primary(wire.act(|session| match session.screen {
        Screen::Home => session.new_program(),
        Screen::Interrupted => session.resume_interrupted(),
        Screen::Order => session.review_order(),
        Screen::Startup
        | Screen::NotVerified(_)
        | Screen::Program(_)
        | Screen::Running
        | Screen::Menu(_)
        | Screen::Syringe { .. }
        | Screen::StartLater(_) => {}
    }));
    status.on_secondary(wire.act(|session| match session.screen {
        Screen::Interrupted => session.discard_interrupted(),
        Screen::Home => session.open_menu(),
        Screen::Syringe { .. } => session.leave_syringes(),
        Screen::StartLater(_) => session.leave_start_later(),
        Screen::Order if session.order_picking() => session.leave_order_areas(),
        Screen::Order => session.decline_order(),
        Screen::Startup
        | Screen::NotVerified(_)
        | Screen::Program(_)
        | Screen::Running
        | Screen::Menu(_) => {}
    }));
    status.on_extra(wire.act(Session::show_syringes));
    status.on_pick(wire.with(|session, id: SharedString| {
        let Ok(index) = id.parse::<usize>() else {
            return;
        };
        match session.screen {
            Screen::Syringe { .. } => session.confirm_syringe(index),
            Screen::StartLater(_) => session.start_later_choice(index),
            Screen::Order => session.pick_order_area(index),
            Screen::Startup
            | Screen::NotVerified(_)
            | Screen::Home
            | Screen::Program(_)
            | Screen::Running
            | Screen::Interrupted
            | Screen::Menu(_) => {}
        }
    }));
}

/// What is ready and what is not, for the nurse: the pump, the drug
/// library and the safety supervisor (paths and hashes are on the
/// biomedical page).
fn startup_checks(texts: &Texts, session: &Session) -> Vec<Check> {
    let check = |name: &str, result: String, state: CheckState| Check {
        label: s(texts.get(name)),
        result: s(result),
        state,
    };
    let identity = |id: &str| {
        session
            .library
            .as_ref()
            .map_or_else(String::new, |library| {
                texts.format(
                    id,
                    &[
                        ("name", Arg::Text(library.identity.name.clone())),
                        ("version", Arg::Text(library.identity.version.clone())),
                    ],
                )
            })
    };
    let library = match &session.library_state {
        LibraryState::Installed | LibraryState::Activated => check(
            "startup-step-library",
            identity("home-library"),
            CheckState::Passed,
        ),
        LibraryState::LastGood(_) => check(
            "startup-step-library",
            identity("home-library-last-good"),
            CheckState::Warning,
        ),
        LibraryState::None(_) => check(
            "startup-step-library",
            texts.get("home-library-none"),
            CheckState::Failed,
        ),
    };
    vec![
        check(
            "startup-step-platform",
            session.platform.clone(),
            CheckState::Passed,
        ),
        library,
        check(
            "startup-step-supervisor",
            texts.get("home-supervisor-connected"),
            CheckState::Passed,
        ),
    ]
}

pub(super) fn render(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let status = window.global::<StatusAdapter>();
    let mut checks = Vec::new();
    let mut facts = Vec::new();
    let mut note = String::new();
    let mut secondary = None;
    let mut choices = Vec::new();
    let mut extra = None;
    let (title, primary) = match &session.screen {
        Screen::Startup | Screen::Home => {
            checks = startup_checks(texts, session);
            if matches!(session.screen, Screen::Startup) {
                checks.push(Check {
                    label: s(texts.get("state-self-test")),
                    result: s(texts.get("startup-running")),
                    state: CheckState::Running,
                });
                (texts.get("startup-title"), None)
            } else {
                if let Some(area) = session
                    .care_area
                    .as_deref()
                    .and_then(|id| session.library.as_ref()?.care_area(id))
                {
                    facts.push(fact(texts, "home-care-area", area.name.clone()));
                }
                note = match (&session.notice, &session.library_state) {
                    // An order refused, or expired, is told on the home page.
                    (Some(Notice::Refused(detail)), _) => detail.clone(),
                    (_, LibraryState::Installed | LibraryState::Activated) => {
                        texts.get("home-no-program")
                    }
                    (_, LibraryState::LastGood(why)) => texts.format(
                        "home-library-last-good-note",
                        &[("reason", Arg::Text(unusable_text(texts, why)))],
                    ),
                    (_, LibraryState::None(why)) => texts.format(
                        "home-library-none-note",
                        &[("reason", Arg::Text(unusable_text(texts, why)))],
                    ),
                };
                if let Some(option) = session.syringe_option() {
                    let state = if session.syringe_confirmed {
                        "home-syringe-confirmed"
                    } else {
                        "home-syringe-to-confirm"
                    };
                    facts.push(fact(
                        texts,
                        "home-syringe",
                        texts.format(state, &[("name", Arg::Text(option.name.clone()))]),
                    ));
                }
                if !session.syringes.is_empty() {
                    extra = Some(texts.get("action-syringe"));
                }
                secondary = Some(texts.get("menu-more"));
                (
                    texts.get("home-title"),
                    session
                        .can_program()
                        .then(|| texts.get("action-new-program")),
                )
            }
        }
        Screen::NotVerified(rejection) => {
            let (why, action) = match rejection {
                Some(rejection) => (
                    crate::ui::words::rejection_why(texts, rejection),
                    crate::ui::words::rejection_action_id(rejection),
                ),
                None => (
                    texts.get("notverified-by-controller"),
                    "notverified-action-board",
                ),
            };
            facts.push(fact(texts, "notverified-why", why));
            facts.push(fact(texts, "notverified-what-to-do", texts.get(action)));
            note = texts.get("notverified-details");
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
        Screen::Syringe { .. } => {
            choices = session
                .syringes
                .iter()
                .enumerate()
                .map(|(index, option)| StatusChoice {
                    id: s(index.to_string()),
                    label: s(texts.format(
                        "syringe-option",
                        &[
                            ("name", Arg::Text(option.name.clone())),
                            (
                                "max",
                                Arg::Text(texts.quantity(option.limits.max.value(), "mL/h")),
                            ),
                        ],
                    )),
                    chosen: session.syringe == Some(index),
                })
                .collect();
            note = match &session.notice {
                Some(Notice::Refused(detail)) => {
                    texts.format("error-refused", &[("detail", Arg::Text(detail.clone()))])
                }
                _ => texts.get("syringe-note"),
            };
            secondary = Some(texts.get("action-cancel"));
            (texts.get("syringe-title"), None)
        }
        Screen::StartLater(_) => {
            choices = START_LATER_MINUTES
                .iter()
                .enumerate()
                .map(|(index, choice)| StatusChoice {
                    id: s(index.to_string()),
                    label: s(match choice {
                        None => texts.get("start-later-standby"),
                        Some(minutes) => texts.format(
                            "start-later-in",
                            &[(
                                "duration",
                                Arg::Text(texts.format(
                                    "duration-hours-minutes",
                                    &[
                                        ("hours", Arg::Count(minutes / 60)),
                                        ("minutes", Arg::Count(minutes % 60)),
                                    ],
                                )),
                            )],
                        ),
                    }),
                    chosen: false,
                })
                .collect();
            note = texts.get("start-later-note");
            secondary = Some(texts.get("action-cancel"));
            (texts.get("start-later-title"), None)
        }
        Screen::Order if session.order_picking() => {
            choices = order_facts(texts, session).1;
            note = texts.get("order-note-pick");
            secondary = Some(texts.get("action-back"));
            (texts.get("order-pick-title"), None)
        }
        Screen::Order => {
            facts = order_facts(texts, session).0;
            let chosen = session.order_areas().1.is_some();
            note = match &session.notice {
                Some(Notice::Refused(detail)) => detail.clone(),
                _ => texts.get("order-note"),
            };
            secondary = Some(texts.get("order-decline"));
            (
                texts.get("order-title"),
                Some(texts.get(if chosen {
                    "order-review"
                } else {
                    "order-choose-care-area"
                })),
            )
        }
        Screen::Program(_) | Screen::Running | Screen::Menu(_) => (String::new(), None),
    };
    update_rows(
        || status.get_choices(),
        |rows| status.set_choices(rows),
        choices,
    );
    status.set_has_extra(extra.is_some());
    status.set_extra_label(s(extra.unwrap_or_default()));
    status.set_title(s(title));
    update_rows(
        || status.get_checks(),
        |rows| status.set_checks(rows),
        checks,
    );
    update_rows(|| status.get_facts(), |rows| status.set_facts(rows), facts);
    status.set_note(s(note));
    status.set_has_primary(primary.is_some());
    status.set_primary_label(s(primary.unwrap_or_default()));
    status.set_has_secondary(secondary.is_some());
    status.set_secondary_label(s(secondary.unwrap_or_default()));
}

/// What the interrupted screen tells: the program, infused, left, when, why.
pub(super) fn interrupted_facts(
    texts: &Texts,
    interrupted: &crate::services::kept::Interrupted,
) -> Vec<Fact> {
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
                Delivery::Pca(pca) => texts.format(
                    "interrupted-pca",
                    &[(
                        "demand",
                        Arg::Text(texts.quantity(pca.demand.value, &pca.demand.unit.to_string())),
                    )],
                ),
                Delivery::Steps(steps) => texts.format(
                    "interrupted-steps",
                    &[(
                        "count",
                        Arg::Count(u64::try_from(steps.as_slice().len()).unwrap_or(0)),
                    )],
                ),
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
            texts.quantity(kept.rate.value(), "mL/h")
        ),
    };
    // In the device's time zone, labelled.
    let saved = interrupted.saved_at_ms;
    let when = crate::ui::clock::date_time(saved, crate::ui::clock::local_offset(saved));
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
            texts.quantity(millilitres(kept.delivered.0), "mL"),
        ),
        fact(
            texts,
            "interrupted-left",
            texts.quantity(millilitres(kept.remaining.0), "mL"),
        ),
        fact(texts, "interrupted-when", when),
        fact(texts, "interrupted-why", why),
    ]
}

/// The order on its page, as ordered: who, what, how much, until when; and
/// the care areas to choose from when it passes the library in several.
fn order_facts(texts: &Texts, session: &Session) -> (Vec<Fact>, Vec<StatusChoice>) {
    let Some(order) = session.order() else {
        return (Vec::new(), Vec::new());
    };
    let (areas, chosen) = session.order_areas();
    let area_name = |id: &str| {
        session
            .library
            .as_ref()
            .and_then(|library| library.care_area(id))
            .map_or_else(|| id.to_owned(), |area| area.name.clone())
    };
    // The library's name for the drug (tall-man lettering), as the label has it.
    let drug = areas
        .get(chosen.unwrap_or(0))
        .and_then(|(_, workflow)| workflow.entry_picked())
        .map_or_else(|| order.drug.clone(), |entry| entry.display_name.clone());
    let mut facts = vec![
        fact(
            texts,
            "order-patient",
            texts.format(
                "order-patient-value",
                &[
                    ("name", Arg::Text(order.patient_name.clone())),
                    ("id", Arg::Text(order.patient_id.clone())),
                ],
            ),
        ),
        fact(texts, "order-drug", drug),
    ];
    if let Some(concentration) = order.concentration {
        facts.push(fact(
            texts,
            "order-concentration",
            concentration_text(texts, concentration.amount, concentration.volume),
        ));
    }
    match (order.dose, order.rate) {
        (Some(dose), _) => facts.push(fact(
            texts,
            "order-dose",
            texts.quantity(dose.value, &dose.unit.to_string()),
        )),
        (None, Some(rate)) => facts.push(fact(
            texts,
            "order-rate",
            texts.quantity(rate.value(), "mL/h"),
        )),
        (None, None) => {}
    }
    if let Some(weight) = order.weight {
        facts.push(fact(
            texts,
            "order-weight",
            texts.quantity(weight.value(), "kg"),
        ));
    }
    facts.push(fact(
        texts,
        "order-volume",
        texts.quantity(order.vtbi.value(), "mL"),
    ));
    let until_ms = order.expires_at.saturating_mul(1000);
    let until = crate::ui::clock::time_of_day(until_ms, crate::ui::clock::local_offset(until_ms));
    facts.push(fact(
        texts,
        "order-number",
        texts.format(
            "order-number-value",
            &[
                ("order", Arg::Text(order.order_id.clone())),
                ("until", Arg::Text(until)),
            ],
        ),
    ));
    let choices = if areas.len() > 1 {
        areas
            .iter()
            .enumerate()
            .map(|(index, (id, _))| StatusChoice {
                id: s(index.to_string()),
                label: s(texts.format(
                    "order-care-area-option",
                    &[("name", Arg::Text(area_name(id)))],
                )),
                chosen: chosen == Some(index),
            })
            .collect()
    } else {
        Vec::new()
    };
    // The care area, once there is one (alone, or the nurse's choice).
    let shown = if areas.len() == 1 { Some(0) } else { chosen };
    if let Some((id, _)) = shown.and_then(|index| areas.get(index)) {
        facts.insert(0, fact(texts, "order-care-area", area_name(id)));
    }
    (facts, choices)
}
