//! The running page's controller (RunningAdapter): delivery, and the
//! titration, bolus and secondary it leads to.

use super::*;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let running = wire.window.global::<RunningAdapter>();
    running.on_start(wire.act(Session::start_loaded));
    running.on_pause(wire.act(Session::pause));
    running.on_resume(wire.act(Session::resume));
    running.on_stop(wire.act(Session::stop));
    running.on_leave(wire.act(Session::leave));
    running.on_menu(wire.act(Session::open_menu));
    running.on_titrate(wire.act(|session| session.program_on_running(Kind::Titration)));
    running.on_bolus(wire.act(|session| session.program_on_running(Kind::Bolus)));
    running.on_secondary(wire.act(|session| session.program_on_running(Kind::Secondary)));
}

pub(super) fn render(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let adapter = window.global::<RunningAdapter>();
    let snapshot = &session.snapshot;
    let active = session.active.as_ref();
    adapter.set_drug(s(active
        .and_then(|active| active.drug.clone())
        .unwrap_or_else(|| texts.get("running-basic"))));
    let pca = snapshot.pca;
    let limited = pca.is_some_and(|pca| pca.limited);
    adapter.set_state(s(if limited && snapshot.mode == Mode::Delivering {
        texts.get("running-pca-limited")
    } else {
        pump_status(texts, snapshot)
    }));
    adapter.set_concentration(s(active
        .and_then(|active| match active.running.medication {
            crate::therapy::Medication::Drug { concentration, .. } => Some(concentration_text(
                texts,
                concentration.amount,
                concentration.volume,
            )),
            crate::therapy::Medication::Basic => None,
        })
        .unwrap_or_default()));
    // The moving sign of flow, seen from across the room.
    adapter.set_flowing(matches!(
        snapshot.mode,
        Mode::Delivering | Mode::KeepVeinOpen
    ));
    adapter.set_flow_phase(i32::try_from(session.uptime_ms() / 250 % 5).unwrap_or(0));
    let rate = millilitres(snapshot.commanded_rate.0);
    let mut readings = vec![Reading {
        label: s(texts.get("running-rate")),
        value: s(texts.quantity(rate, "mL/h")),
    }];
    if let Some((dose, unit)) =
        active.and_then(|active| Some((active.running.dose, active.dose_unit.clone()?)))
    {
        readings.push(Reading {
            label: s(texts.get(if pca.is_some() {
                "running-basal"
            } else {
                "running-dose"
            })),
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
        .filter(|_| snapshot.mode == Mode::Delivering && pca.is_none());
    if let Some(pca) = pca {
        readings.extend(pca_readings(texts, &pca));
    }
    // A PCA runs as long as the demands take it: no time left to show.
    if pca.is_none() {
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
    }
    readings.push(Reading {
        label: s(texts.get("running-pressure")),
        value: s(snapshot.downstream_tenths_mmhg.map_or_else(
            || "–".to_owned(),
            |tenths| texts.quantity(Decimal::new(i64::from(tenths), 1).round(), "mmHg"),
        )),
    });
    update_rows(
        || adapter.get_readings(),
        |rows| adapter.set_readings(rows),
        readings,
    );
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
    adapter.set_resume_label(s(texts.get(
        if limited && snapshot.mode == Mode::Delivering {
            "action-resume-pca"
        } else {
            "action-resume"
        },
    )));
    adapter.set_stop_label(s(texts.get("action-stop")));
    adapter.set_titrate_label(s(texts.get("action-titrate")));
    adapter.set_bolus_label(s(texts.get("action-bolus")));
    adapter.set_secondary_label(s(texts.get("action-secondary")));
    adapter.set_home_label(s(texts.get("action-home")));
    adapter.set_menu_label(s(texts.get("menu-more-short")));
}

/// A PCA's demands, its window against the limit, and when the next demand
/// can be given.
fn pca_readings(texts: &Texts, pca: &crate::control::api::PcaStatus) -> [Reading; 3] {
    let next = if pca.limited {
        texts.get("running-pca-limited")
    } else if pca.lockout_left_ms == 0 {
        texts.get("running-pca-ready")
    } else {
        texts.format(
            "running-pca-next",
            &[("minutes", Arg::Count(pca.lockout_left_ms.div_ceil(60_000)))],
        )
    };
    [
        Reading {
            label: s(texts.get("running-pca-demands")),
            value: s(texts.format(
                "running-pca",
                &[
                    ("given", Arg::Count(u64::from(pca.given))),
                    ("refused", Arg::Count(u64::from(pca.refused))),
                ],
            )),
        },
        Reading {
            label: s(texts.format(
                "running-pca-window-label",
                &[("hours", Arg::Count(u64::from(pca.window_minutes / 60)))],
            )),
            value: s(texts.format(
                "running-pca-window",
                &[
                    (
                        "used",
                        Arg::Text(texts.quantity(millilitres(pca.used.0).round_dp(2), "mL")),
                    ),
                    (
                        "limit",
                        Arg::Text(texts.quantity(millilitres(pca.limit.0), "mL")),
                    ),
                    ("hours", Arg::Count(u64::from(pca.window_minutes / 60))),
                ],
            )),
        },
        Reading {
            label: s(texts.get("running-pca-next-label")),
            value: s(next),
        },
    ]
}
