//! The program kept for a resume, and what the next start says about an
//! interruption.

use serde::{Deserialize, Serialize};

use crate::control::api::{Mode, Snapshot};
use crate::control::units::Nanolitres;
use crate::store::{Event, EventLog, Recorded, SavedProgram};
use crate::therapy::{Millilitres, MillilitresPerHour};

/// Progress is saved at least this often while flow runs, so a resume after
/// a crash repeats at most this much delivery (28 uL at 999 mL/h).
pub const PROGRESS_EVERY_MS: u64 = 100;

/// The program as kept for a resume. The stored names carry the units, as
/// they always have: the JSON on disk is unchanged by the typed fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptProgram {
    /// The programmed rate, as the nurse entered it (its decimals kept).
    #[serde(rename = "rate_ml_h")]
    pub rate: MillilitresPerHour,
    /// The programmed volume to be infused.
    #[serde(rename = "vtbi_ml")]
    pub vtbi: Millilitres,
    /// Volume infused under this program (across resumes).
    #[serde(rename = "delivered_nl")]
    pub delivered: Nanolitres,
    /// Volume still to infuse.
    #[serde(rename = "remaining_nl")]
    pub remaining: Nanolitres,
    /// The pump's mode when saved.
    pub mode: Mode,
    /// The whole program as the touchscreen entered it, for a resume that
    /// re-checks it against the drug library (absent for a headless load).
    #[serde(default)]
    pub therapy: Option<KeptTherapy>,
}

/// A program as entered on the touchscreen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptTherapy {
    pub care_area: String,
    /// The library entry's id; None for a basic infusion.
    pub entry: Option<String>,
    /// The drug's name as shown (tall-man), for the interrupted screen.
    pub drug_name: Option<String>,
    pub program: crate::therapy::Program,
    /// The drug library version the program was checked against.
    pub library_version: String,
}

/// Why a kept program was interrupted, for the screen to say in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Cause {
    /// The app was shut down while a program was kept.
    ShutDown,
    /// The app stopped without shutting down: crash, reset or power loss.
    Unexpected {
        supervisor_trip: bool,
        /// The last alarm raised before, by condition name.
        last_alarm: Option<String>,
    },
}

/// What the next start tells the nurse about an interrupted program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interrupted {
    pub program: KeptProgram,
    /// When it was last saved, ms since the Unix epoch.
    pub saved_at_ms: i64,
    pub why: String,
    pub cause: Cause,
}

/// The cause, from the log: the last events before this start.
fn cause(history: &[Recorded]) -> Cause {
    if matches!(
        history.last().map(|recorded| &recorded.event),
        Some(Event::PowerOff)
    ) {
        return Cause::ShutDown;
    }
    let last = history
        .iter()
        .rev()
        .find_map(|recorded| match &recorded.event {
            Event::SupervisorTrip { .. } => Some((true, None)),
            Event::AlarmRaised { condition, .. } => Some((false, Some(condition.clone()))),
            _ => None,
        });
    let (supervisor_trip, last_alarm) = last.unwrap_or((false, None));
    Cause::Unexpected {
        supervisor_trip,
        last_alarm,
    }
}

/// Why the pump stopped, from the log: the last event before this start.
fn why(history: &[Recorded]) -> String {
    let last_alarm = history
        .iter()
        .rev()
        .find_map(|recorded| match &recorded.event {
            Event::SupervisorTrip { reason } => {
                Some(format!("the safety supervisor stopped the pump ({reason})"))
            }
            Event::AlarmRaised { condition, .. } => Some(format!("alarm: {condition}")),
            _ => None,
        });
    match history.last().map(|recorded| &recorded.event) {
        Some(Event::PowerOff) => "the app was shut down".to_owned(),
        _ => match last_alarm {
            Some(alarm) => format!(
                "the app stopped without shutting down (crash, reset or power loss); last {alarm}"
            ),
            None => "the app stopped without shutting down (crash, reset or power loss)".to_owned(),
        },
    }
}

/// The interrupted program, if one was kept.
pub fn interrupted(log: &EventLog) -> Result<Option<Interrupted>, String> {
    let saved: Option<SavedProgram<KeptProgram>> =
        log.load_program().map_err(|error| error.to_string())?;
    let Some(saved) = saved else {
        return Ok(None);
    };
    let history = log
        .events(
            saved.saved_at_ms.saturating_sub(24 * 3_600_000),
            i64::MAX,
            &[],
        )
        .map_err(|error| error.to_string())?;
    Ok(Some(Interrupted {
        why: why(&history),
        cause: cause(&history),
        saved_at_ms: saved.saved_at_ms,
        program: saved.program,
    }))
}

/// The kept program after this snapshot.
pub fn progress(
    kept: &KeptProgram,
    delivered_before: Nanolitres,
    snapshot: &Snapshot,
) -> KeptProgram {
    KeptProgram {
        delivered: Nanolitres(delivered_before.0.saturating_add(snapshot.delivered.0)),
        remaining: snapshot.remaining,
        mode: snapshot.mode,
        ..kept.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: i64, event: Event) -> Recorded {
        Recorded {
            id,
            at_ms: id,
            event,
        }
    }

    #[test]
    fn a_kept_program_is_stored_byte_for_byte_as_before_its_mode_was_typed() {
        // As written by the headless app before `mode` became a `Mode`.
        let stored = r#"{"rate_ml_h":"25","vtbi_ml":"50","delivered_nl":1200000,"remaining_nl":48800000,"mode":"Delivering","therapy":null}"#;
        let kept: KeptProgram = serde_json::from_str(stored).unwrap();
        assert_eq!(kept.mode, Mode::Delivering);
        assert_eq!(
            kept.rate,
            MillilitresPerHour::new(rust_decimal::Decimal::from(25))
        );
        assert_eq!(kept.remaining, Nanolitres(48_800_000));
        assert_eq!(serde_json::to_string(&kept).unwrap(), stored);
        for mode in ["Ready", "Paused", "AlarmStopped", "KeepVeinOpen"] {
            let text = stored.replace("Delivering", mode);
            let kept: KeptProgram = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&kept).unwrap(), text);
        }
        // A mode no Perfuse ever wrote is refused, not read as another.
        assert!(
            serde_json::from_str::<KeptProgram>(&stored.replace("Delivering", "Running")).is_err()
        );
    }

    #[test]
    fn a_kept_program_is_stored_byte_for_byte_as_before_its_quantities_were_typed() {
        // As written before rate, volume and progress were typed: the
        // decimals as the nurse typed them ("25.50"), the volumes in nL.
        let stored = r#"{"rate_ml_h":"25.50","vtbi_ml":"0.1","delivered_nl":0,"remaining_nl":100000,"mode":"Ready","therapy":null}"#;
        let kept: KeptProgram = serde_json::from_str(stored).unwrap();
        assert_eq!(kept.rate.value(), rust_decimal::Decimal::new(2550, 2));
        assert_eq!(kept.vtbi.value(), rust_decimal::Decimal::new(1, 1));
        assert_eq!(serde_json::to_string(&kept).unwrap(), stored);
        // What no Perfuse ever wrote is refused, not read as something else.
        for bad in [
            stored.replace("\"25.50\"", "\"fast\""),
            stored.replace("\"remaining_nl\":100000", "\"remaining_nl\":-1"),
        ] {
            assert!(serde_json::from_str::<KeptProgram>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_reason_comes_from_how_the_log_ends() {
        let trip = at(
            2,
            Event::SupervisorTrip {
                reason: "enable off".to_owned(),
            },
        );
        assert_eq!(
            why(&[at(1, Event::PowerOn), trip.clone(), at(3, Event::PowerOff)]),
            "the app was shut down"
        );
        let crashed = why(&[at(1, Event::PowerOn), trip]);
        assert!(
            crashed.starts_with("the app stopped without shutting down"),
            "{crashed}"
        );
        assert!(
            crashed.contains("the safety supervisor stopped the pump (enable off)"),
            "{crashed}"
        );
        assert_eq!(
            why(&[at(1, Event::PowerOn)]),
            "the app stopped without shutting down (crash, reset or power loss)"
        );
    }
}
