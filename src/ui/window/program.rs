//! The programming page's controller (ProgramAdapter): each step of the
//! workflow with its keypad or choices, and the drug library's review.

use super::*;
use crate::ui::session::{END_KVO_ID, END_STOP_ID};
use crate::ui::workflow::RateBy;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let program = wire.window.global::<ProgramAdapter>();
    program.on_next(wire.act(Session::next));
    program.on_back(wire.act(Session::back));
    program.on_cancel(wire.act(Session::cancel));
    program.on_start(wire.act(Session::start));
    program.on_start_later(wire.act(Session::start_later));
    program.on_point_pressed(wire.act(|session| session.key(Key::Point)));
    program.on_backspace_pressed(wire.act(|session| session.key(Key::Backspace)));
    program.on_clear_pressed(wire.act(|session| session.key(Key::Clear)));
    program.on_digit(wire.with(|session, digit: i32| {
        if let Ok(digit) = u8::try_from(digit) {
            session.key(Key::Digit(digit));
        }
    }));
    program.on_choose(wire.with(|session, id: SharedString| {
        session.choose(&id);
    }));
    program.on_letter(wire.with(|session, letter: SharedString| {
        session.search_letter(&letter);
    }));
    program.on_search_backspace(wire.act(Session::search_backspace));
    program.on_preset(wire.with(|session, id: SharedString| {
        session.volume_preset(&id);
    }));
    program.on_rate_by(wire.with(|session, id: SharedString| {
        session.rate_by(&id);
    }));
    program.on_end(wire.with(|session, id: SharedString| {
        session.end_choice(&id);
    }));
    program.on_initial(wire.with(|session, letter: SharedString| {
        session.pick_initial(&letter);
    }));
    program.on_toggle_keyboard(wire.act(Session::toggle_keyboard));
    program.on_confirm_override(wire.with(|session, index: i32| {
        if let Ok(index) = usize::try_from(index) {
            session.confirm_override(index);
        }
    }));
}

/// The number a nurse reads for a step of a multi-step program (from 1).
fn step_number(step: Step) -> u64 {
    step.rate_step().map_or(0, |index| u64::from(index) + 1)
}

pub(super) fn level_of(status: Option<LimitStatus>) -> LimitLevel {
    match status {
        None => LimitLevel::None,
        Some(LimitStatus::Within) => LimitLevel::Within,
        Some(LimitStatus::BeyondSoft { .. }) => LimitLevel::Soft,
        Some(LimitStatus::BeyondHard { .. }) => LimitLevel::Hard,
    }
}

pub(super) fn render(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let adapter = window.global::<ProgramAdapter>();
    let Some(workflow) = session.workflow() else {
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
    adapter.set_step_title(s(texts.format(
        step_id(step, workflow.kind(), &unit),
        &[("number", Arg::Count(step_number(step)))],
    )));
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
                    Choice::MoreSteps(true) => texts.format(
                        "choice-steps-add",
                        &[("next", Arg::Count(step_number(step).saturating_add(1)))],
                    ),
                    Choice::MoreSteps(false) => texts.get("choice-steps-done"),
                };
                ChoiceRow {
                    chosen: chosen.as_deref() == Some(choice.id().as_str()),
                    id: s(choice.id()),
                    label: s(label),
                }
            })
            .collect();
        update_rows(
            || adapter.get_choices(),
            |rows| adapter.set_choices(rows),
            rows,
        );
        adapter.set_searchable(step == Step::Drug);
        adapter.set_search_label(s(texts.get("choice-search")));
        adapter.set_search_text(s(workflow.search()));
        adapter.set_keyboard(
            session
                .programming()
                .is_some_and(|programming| programming.keyboard),
        );
        adapter.set_keyboard_done_label(s(texts.get("keyboard-done")));
        update_rows(
            || adapter.get_letters(),
            |rows| adapter.set_letters(rows),
            ('A'..='Z').map(|letter| s(letter.to_string())).collect(),
        );
        let chosen = workflow.initial();
        update_rows(
            || adapter.get_initials(),
            |rows| adapter.set_initials(rows),
            if step == Step::Drug && workflow.search().is_empty() {
                workflow
                    .initials()
                    .into_iter()
                    .map(|letter| ChoiceRow {
                        id: s(letter.to_string()),
                        label: s(letter.to_uppercase().to_string()),
                        chosen: chosen == Some(letter),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        );
    }
    update_rows(
        || adapter.get_presets(),
        |rows| adapter.set_presets(rows),
        workflow
            .volume_presets()
            .into_iter()
            .map(|volume| ChoiceRow {
                id: s(volume.to_string()),
                label: s(texts.quantity(volume, "mL")),
                chosen: false,
            })
            .collect(),
    );
    update_rows(
        || adapter.get_rates_by(),
        |rows| adapter.set_rates_by(rows),
        workflow
            .rate_by()
            .map(|current| {
                workflow
                    .rate_by_options()
                    .iter()
                    .copied()
                    .map(|by| ChoiceRow {
                        id: s(by.id()),
                        label: s(texts.get(match by {
                            RateBy::Rate => "rate-by-rate",
                            RateBy::VolumeOverTime => "rate-by-time",
                            RateBy::Steps => "rate-by-steps",
                        })),
                        chosen: by == current,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    );
    let ends = workflow.end_options().map(|options| {
        [
            (END_STOP_ID, texts.get("end-stop"), !options.keep_vein_open),
            (
                END_KVO_ID,
                texts.format(
                    "end-kvo",
                    &[(
                        "rate",
                        Arg::Text(texts.quantity(options.kvo_rate.value(), "mL/h")),
                    )],
                ),
                options.keep_vein_open,
            ),
        ]
        .into_iter()
        .map(|(id, label, chosen)| ChoiceRow {
            id: s(id),
            label: s(label),
            chosen,
        })
        .collect()
    });
    update_rows(
        || adapter.get_ends(),
        |rows| adapter.set_ends(rows),
        ends.unwrap_or_default(),
    );
    adapter.set_end_label(s(texts.get("review-at-end")));
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

pub(super) fn render_review(
    adapter: &ProgramAdapter<'_>,
    session: &Session,
    workflow: &crate::ui::workflow::Workflow,
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
        // With no drug library there is no care area: the review says so.
        let name = if area.id == crate::druglib::startup::BASIC_ONLY_CARE_AREA {
            texts.get("review-no-library")
        } else {
            area.name.clone()
        };
        rows.push(row("review-care-area", name));
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
        if let Some(height) = patient.height {
            rows.push(row("review-height", texts.quantity(height.value(), "cm")));
            // The body surface the dose is per (Mosteller), to 0.01 m².
            if let Ok(area) = patient.body_surface_area() {
                rows.push(row(
                    "review-body-surface",
                    texts.quantity(area.value().round_dp(2), "m²"),
                ));
            }
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
        // A PCA's dose rate is its basal.
        let is_pca = review.plan.as_ref().is_some_and(|plan| plan.pca.is_some());
        let label = if is_pca && value.parameter == Parameter::DoseRate {
            "running-basal"
        } else {
            parameter_id(value.parameter)
        };
        rows.push(ReviewRow {
            label: s(texts.get(label)),
            value: s(texts.quantity(shown, &value.unit)),
            level: level_of(Some(value.status)),
            note: s(note),
        });
    }
    if let Some(plan) = &review.plan {
        let in_steps = plan.segments.len() > 1
            && plan
                .segments
                .iter()
                .all(|segment| segment.purpose == crate::therapy::SegmentPurpose::Primary);
        for (index, segment) in plan.segments.iter().enumerate() {
            if in_steps {
                // Each step's rate and volume (shown to 0.01 mL).
                rows.push(ReviewRow {
                    label: s(texts.format(
                        "review-step",
                        &[("number", Arg::Count(u64::try_from(index + 1).unwrap_or(0)))],
                    )),
                    value: s(texts.format(
                        "review-step-value",
                        &[
                            (
                                "rate",
                                Arg::Text(texts.quantity(segment.rate.value(), "mL/h")),
                            ),
                            (
                                "volume",
                                Arg::Text(texts.quantity(segment.volume.value().round_dp(2), "mL")),
                            ),
                        ],
                    )),
                    level: LimitLevel::None,
                    note: s(""),
                });
            } else {
                rows.push(row(
                    "review-rate",
                    texts.quantity(segment.rate.value(), "mL/h"),
                ));
            }
        }
        if let Some(pca) = &plan.pca {
            // What one demand is in the syringe, and the limit's window.
            rows.push(row(
                "review-pca-demand-volume",
                texts.quantity(pca.demand_volume.value().round_dp(2), "mL"),
            ));
            rows.push(row(
                "review-pca-window",
                texts.format(
                    "review-pca-window-value",
                    &[("hours", Arg::Count(u64::from(pca.window.hours())))],
                ),
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
        // How long it runs, and what the pump does when it is done.
        let seconds = plan.segments.iter().try_fold(0_u64, |sum, segment| {
            segment
                .duration()
                .ok()
                .map(|duration| sum.saturating_add(u64::from(duration.seconds())))
        });
        // A PCA runs as long as the patient's demands take it.
        if let (Some(seconds), None) = (seconds, plan.pca) {
            let minutes = seconds.div_ceil(60);
            rows.push(row(
                "review-runs-for",
                texts.format(
                    "duration-hours-minutes",
                    &[
                        ("hours", Arg::Count(minutes / 60)),
                        ("minutes", Arg::Count(minutes % 60)),
                    ],
                ),
            ));
        }
        rows.push(row(
            "review-at-end",
            match plan.end {
                crate::therapy::PlanEnd::Stop => texts.get("review-end-stop"),
                crate::therapy::PlanEnd::KeepVeinOpen { rate } => texts.format(
                    "review-end-kvo",
                    &[("rate", Arg::Text(texts.quantity(rate.value(), "mL/h")))],
                ),
                crate::therapy::PlanEnd::ResumePrimary => texts.get("review-end-primary"),
            },
        ));
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
    // An order's program: whose, and which order (its values are as ordered).
    if let Some(order) = session.order().filter(|_| workflow.is_ordered()) {
        rows.insert(
            0,
            row(
                "order-number",
                texts.format(
                    "order-review-value",
                    &[
                        ("order", Arg::Text(order.order_id.clone())),
                        ("name", Arg::Text(order.patient_name.clone())),
                        ("id", Arg::Text(order.patient_id.clone())),
                    ],
                ),
            ),
        );
    }
    update_rows(|| adapter.get_rows(), |rows| adapter.set_rows(rows), rows);
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
            confirmed: session
                .programming()
                .is_some_and(|programming| programming.overrides.contains(wanted)),
        })
        .collect();
    let all_confirmed = overrides.iter().all(|row| row.confirmed);
    update_rows(
        || adapter.get_overrides(),
        |rows| adapter.set_overrides(rows),
        overrides,
    );
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
    adapter.set_can_start_later(session.can_start_later() && all_confirmed);
    adapter.set_start_later_label(s(texts.get("start-later")));
}
