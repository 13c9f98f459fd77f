//! The menu's controller (MenuAdapter): history, settings behind the PIN,
//! the screen lock.

use super::*;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let menu = wire.window.global::<MenuAdapter>();
    menu.on_history(wire.act(Session::show_history));
    menu.on_settings(wire.act(Session::show_settings));
    menu.on_lock(wire.act(Session::lock));
    menu.on_close(wire.act(Session::close_menu));
    menu.on_pin_backspace(wire.act(|session| session.pin_key(Key::Backspace)));
    menu.on_pin_clear(wire.act(|session| session.pin_key(Key::Clear)));
    menu.on_pin_enter(wire.act(Session::pin_enter));
    menu.on_brighter(wire.act(|session| session.brightness(true)));
    menu.on_dimmer(wire.act(|session| session.brightness(false)));
    menu.on_louder(wire.act(|session| session.alarm_volume(true)));
    menu.on_quieter(wire.act(|session| session.alarm_volume(false)));
    menu.on_unlock(wire.act(|session| session.unlock(false)));
    menu.on_activate_library(wire.act(|session| session.activate_library()));
    menu.on_confirm_unlock(wire.act(|session| session.unlock(true)));
    menu.on_pin_digit(wire.with(|session, digit: i32| {
        if let Ok(digit) = u8::try_from(digit) {
            session.pin_key(Key::Digit(digit));
        }
    }));
    menu.on_filter(wire.with(|session, id: SharedString| {
        let filter = HistoryFilter::ALL
            .into_iter()
            .find(|filter| filter.id() == id.as_str());
        if let Some(filter) = filter {
            session.filter_history(filter);
        }
    }));
    menu.on_language(wire.with(|session, tag: SharedString| {
        session.choose_language(&tag);
    }));
}

pub(super) fn render(window: &AppWindow, session: &Session, view: &MenuView) {
    let texts = &session.texts;
    let menu = window.global::<MenuAdapter>();
    menu.set_view(match view {
        MenuView::History { .. } => perfuse_ui::MenuView::History,
        MenuView::Pin(_) => perfuse_ui::MenuView::Pin,
        MenuView::Settings => perfuse_ui::MenuView::Settings,
        MenuView::Locked { .. } => perfuse_ui::MenuView::Locked,
    });
    menu.set_history_label(s(texts.get("menu-history")));
    menu.set_settings_label(s(texts.get("menu-settings")));
    menu.set_lock_label(s(texts.get("menu-lock")));
    menu.set_close_label(s(texts.get("menu-close")));
    match view {
        MenuView::History { rows } => {
            let filters: Vec<ChoiceRow> = HistoryFilter::ALL
                .into_iter()
                .map(|filter| ChoiceRow {
                    id: s(filter.id()),
                    label: s(texts.get(match filter {
                        HistoryFilter::All => "filter-all",
                        HistoryFilter::Alarms => "filter-alarms",
                        HistoryFilter::Programs => "filter-programs",
                        HistoryFilter::Interactions => "filter-interactions",
                    })),
                    chosen: filter == session.history_filter,
                })
                .collect();
            update_rows(
                || menu.get_filters(),
                |rows| menu.set_filters(rows),
                filters,
            );
            let (rows, note) = match rows {
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
            update_rows(|| menu.get_rows(), |rows| menu.set_rows(rows), rows);
            menu.set_history_note(s(note));
        }
        MenuView::Pin(entry) => {
            menu.set_pin_prompt(s(texts.get("pin-prompt")));
            menu.set_pin_dots(s("•".repeat(entry.typed.len())));
            menu.set_pin_message(s(if entry.wrong {
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
            let languages: Vec<ChoiceRow> = crate::ui::text::Language::ALL
                .into_iter()
                .map(|language| ChoiceRow {
                    id: s(language.tag()),
                    label: s(language.native_name()),
                    chosen: language == texts.language(),
                })
                .collect();
            update_rows(
                || menu.get_languages(),
                |rows| menu.set_languages(rows),
                languages,
            );
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
            update_rows(|| menu.get_biomed(), |rows| menu.set_biomed(rows), biomed);
            menu.set_staged_label(s(texts.get("library-staged-label")));
            let staged = match &session.staged {
                None => texts.get("library-staged-none"),
                Some(Ok(verified)) => texts.format(
                    "library-staged-detail",
                    &[
                        (
                            "library",
                            Arg::Text(crate::ui::session::library_fact(Some(&verified.library))),
                        ),
                        ("signer", Arg::Text(verified.signed_by.clone())),
                    ],
                ),
                Some(Err(why)) => texts.format(
                    "library-staged-refused",
                    &[("detail", Arg::Text(why.clone()))],
                ),
            };
            menu.set_staged(s(staged));
            let blocked = session.activation_blocked();
            menu.set_activate_enabled(blocked.is_none());
            let identity = |id: &str, verified: &crate::druglib::VerifiedLibrary| {
                texts.format(
                    id,
                    &[
                        ("name", Arg::Text(verified.library.identity.name.clone())),
                        (
                            "version",
                            Arg::Text(verified.library.identity.version.clone()),
                        ),
                    ],
                )
            };
            menu.set_activate_note(s(match (&blocked, &session.notice, &session.staged) {
                (_, Some(crate::ui::session::Notice::Refused(text)), _) => text.clone(),
                (Some(why), _, Some(_)) => why.clone(),
                (None, _, Some(Ok(verified))) if session.activation_armed => {
                    identity("library-activate-confirm-note", verified)
                }
                _ => String::new(),
            }));
            menu.set_activate_label(s(match (&session.staged, session.activation_armed) {
                (Some(Ok(verified)), true) => identity("library-activate-confirm", verified),
                _ => texts.get("library-activate"),
            }));
            menu.set_activate_armed(session.activation_armed);
        }
        MenuView::Locked { unlock_armed } => {
            menu.set_locked_text(s(texts.get("locked-text")));
            menu.set_unlock_label(s(texts.get("unlock")));
            menu.set_confirm_unlock_label(s(texts.get("unlock-confirm")));
            menu.set_unlock_armed(*unlock_armed);
        }
    }
}

pub(super) fn history_row(texts: &Texts, recorded: &crate::store::Recorded) -> HistoryRow {
    use crate::store::Event;
    let at_ms = recorded.at_ms;
    let time = crate::ui::clock::time_of_day(at_ms, crate::ui::clock::local_offset(at_ms));
    let (alarm, detail) = match &recorded.event {
        Event::AlarmRaised { condition, .. }
        | Event::AlarmEscalated { condition, .. }
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
        Event::LibraryRefused { detail } => (false, detail.clone()),
        Event::EventsDropped { count } => (false, count.to_string()),
        Event::PcaDemand { outcome } => (false, texts.get(&format!("pca-demand-{outcome}"))),
        Event::LibraryOffer {
            offer,
            outcome,
            detail,
        } => (
            false,
            texts.format(
                &format!("library-offer-history-{outcome}"),
                &[
                    ("offer", Arg::Text(offer.clone())),
                    ("detail", Arg::Text(detail.clone())),
                ],
            ),
        ),
        Event::Order {
            order,
            outcome,
            detail,
        } => (
            false,
            texts.format(
                &format!("order-history-{outcome}"),
                &[
                    ("order", Arg::Text(order.clone())),
                    ("detail", Arg::Text(detail.clone())),
                ],
            ),
        ),
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
            recorded.event.kind().name().replace('_', "-")
        ))),
        detail: s(detail),
        alarm,
    }
}
