//! Words: every enum the screen shows, mapped to its message id or to its
//! text in the screen's language, one arm per variant and no catch-all,
//! so a new variant cannot reach the nurse as an English default.

use crate::alarms::Condition;
use crate::control::api::{CommandKind, Mode};
use crate::druglib::{
    Blocker, Bound, CheckedValue, ConcentrationProblem, ConfirmError, LimitStatus, Mismatch,
    Parameter,
};
use crate::therapy::{PatientData, TherapyError};
use crate::ui::keypad::Refusal;
use crate::ui::session::Session;
use crate::ui::text::{Arg, Texts};
use crate::ui::workflow::{Kind, OrderMismatch, Problem, Step};

mod library;
mod platform;
mod refusals;

/// A name, number or path shown as it is, as a message argument.
fn text(value: impl ToString) -> Arg {
    Arg::Text(value.to_string())
}

pub use library::unusable_text;
pub use platform::{
    mechanism_id, rejection_action_id, rejection_why, send_refusal_id, send_refusal_text, unit_text,
};
pub use refusals::{
    blocker_text, checked_text, confirm_text, order_mismatch_text, problem_text, status_text,
    therapy_text,
};

pub fn kind_id(session: &Session) -> &'static str {
    match session.workflow().map(super::workflow::Workflow::kind) {
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
pub fn pump_status(texts: &Texts, snapshot: &crate::control::api::Snapshot) -> String {
    if let Some(waiting) = standby_status(texts, snapshot) {
        return waiting;
    }
    match (snapshot.mode, stopping_alarm(snapshot)) {
        (Mode::AlarmStopped | Mode::Paused | Mode::Ready, Some(alarm)) => texts.format(
            "state-stopped-by",
            &[("cause", Arg::Text(texts.get(alarm_ids(alarm.condition).0)))],
        ),
        (_, _) => texts.get(mode_id(snapshot.mode)),
    }
}

/// The pump's status in the bar: its mode, or "stopped by an alarm" while
/// one stops the flow (the banner beneath names it, and the running page
/// says which): short enough for the bar beside the platform's name.
pub fn bar_status(texts: &Texts, snapshot: &crate::control::api::Snapshot) -> String {
    if snapshot.mode == Mode::Ready && snapshot.standby.is_some() {
        return texts.get("state-standby-short");
    }
    match (snapshot.mode, stopping_alarm(snapshot)) {
        (Mode::AlarmStopped | Mode::Paused | Mode::Ready, Some(_)) => {
            texts.get(mode_id(Mode::AlarmStopped))
        }
        (_, _) => texts.get(mode_id(snapshot.mode)),
    }
}

/// A program waiting in standby, or to start by itself: which, and when.
fn standby_status(texts: &Texts, snapshot: &crate::control::api::Snapshot) -> Option<String> {
    use crate::control::api::Standby;
    if snapshot.mode != Mode::Ready {
        return None;
    }
    match (snapshot.standby?, snapshot.starts_in_ms) {
        (Standby::OnCommand, _) => Some(texts.get("state-standby")),
        (Standby::StartAfter { .. }, Some(ms)) => Some(texts.format(
            "state-starts-in",
            &[("minutes", Arg::Count(ms.div_ceil(60_000)))],
        )),
        (Standby::StartAfter { .. }, None) => None,
    }
}

/// The first alarm that stops the flow, while it is there or unanswered.
fn stopping_alarm(snapshot: &crate::control::api::Snapshot) -> Option<&crate::alarms::ActiveAlarm> {
    snapshot
        .alarms
        .iter()
        .flatten()
        .find(|alarm| alarm.condition.stops_flow() && (alarm.present || !alarm.acknowledged))
}

pub fn mode_id(mode: Mode) -> &'static str {
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
pub fn condition_text(texts: &Texts, condition: &str) -> String {
    Condition::ALL
        .into_iter()
        .find(|known| known.name() == condition)
        .map_or_else(
            || condition.to_owned(),
            |known| texts.get(alarm_ids(known).0),
        )
}

/// A concentration as the bag label states it, with its strength per mL:
/// "25,000 units in 500 mL (50 units/mL)".
pub fn concentration_text(
    texts: &Texts,
    amount: crate::therapy::Amount,
    volume: crate::therapy::Millilitres,
) -> String {
    let unit = amount.unit.symbol();
    let strength = amount
        .value
        .checked_div(volume.value())
        .map(|per_ml| {
            per_ml
                .round_sf_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .unwrap_or(per_ml)
        })
        .map_or_else(String::new, |per_ml| {
            texts.quantity(per_ml, &format!("{unit}/mL"))
        });
    texts.format(
        "concentration-option",
        &[
            ("amount", Arg::Text(texts.quantity(amount.value, unit))),
            ("volume", Arg::Text(texts.quantity(volume.value(), "mL"))),
            ("strength", Arg::Text(strength)),
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
        Condition::PcaLimit => ("alarm-pca-limit", "alarm-pca-limit-do"),
    }
}

pub fn parameter_id(parameter: Parameter) -> &'static str {
    match parameter {
        Parameter::DoseRate => "param-dose-rate",
        Parameter::FlowRate => "param-flow-rate",
        Parameter::DoseAmount => "param-dose-amount",
        Parameter::BolusDose => "param-bolus-dose",
        Parameter::LoadingDose => "param-loading-dose",
        Parameter::Duration => "param-duration",
        Parameter::VolumeToBeInfused => "param-vtbi",
        Parameter::DemandDose => "param-demand-dose",
        Parameter::Lockout => "param-lockout",
        Parameter::PcaLimit => "param-pca-limit",
    }
}

pub fn step_id(step: Step, kind: Kind, unit: &str) -> &'static str {
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
        Step::StepRate(_) => "step-step-rate",
        Step::StepVolume(_) => "step-step-volume",
        Step::MoreSteps(_) => "step-more-steps",
        Step::Basal => "step-basal",
        Step::Demand => "step-demand",
        Step::Lockout => "step-lockout",
        Step::PcaLimit => "step-pca-limit",
        Step::Review => "step-review",
    }
}

/// What the pump refused to do, as the refusal names it.
pub fn command_id(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::Load => "command-load",
        CommandKind::Start => "command-start",
        CommandKind::Pause => "command-pause",
        CommandKind::Resume => "command-resume",
        CommandKind::Stop => "command-stop",
        CommandKind::Titrate => "command-titrate",
        CommandKind::Bolus => "command-bolus",
        CommandKind::Secondary => "command-secondary",
        CommandKind::AcknowledgeAlarms => "command-acknowledge",
        CommandKind::SilenceAlarms => "command-silence",
        CommandKind::LoadSyringe => "command-load-syringe",
        CommandKind::Standby => "command-standby",
        CommandKind::ClearPcaLimit => "command-clear-pca-limit",
    }
}
