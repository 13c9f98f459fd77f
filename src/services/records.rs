//! Which control events and changes of mode the event log keeps, and as
//! what record.

use crate::alarms::AlarmChange;
use crate::control::api::{ControlEvent, DemandOutcome, DemandRefusal, Mode};
use crate::control::state::Notice;
use crate::store::Event;

/// The record of a control event, if it is one to keep; `program` names the
/// program for a start.
pub fn record_of(event: &ControlEvent, program: &str) -> Option<Event> {
    match event {
        ControlEvent::Alarm(AlarmChange::Raised(condition)) => {
            Some(if *condition == crate::alarms::Condition::SupervisorTrip {
                Event::SupervisorTrip {
                    reason: "the motor driver's enable went off while delivering".to_owned(),
                }
            } else {
                Event::AlarmRaised {
                    condition: condition.name().to_owned(),
                    priority: format!("{:?}", condition.priority()),
                }
            })
        }
        ControlEvent::Alarm(AlarmChange::Escalated(condition)) => Some(Event::AlarmEscalated {
            condition: condition.name().to_owned(),
            priority: format!("{:?}", perfuse_drivers::annunciator::Priority::High),
        }),
        ControlEvent::Alarm(AlarmChange::Cleared(condition)) => Some(Event::AlarmCleared {
            condition: condition.name().to_owned(),
        }),
        ControlEvent::Notice(Notice::Started) => Some(Event::ProgramStarted {
            program: program.to_owned(),
        }),
        ControlEvent::Notice(Notice::Completed) => Some(Event::ProgramCompleted),
        ControlEvent::Notice(Notice::KeepVeinOpenStarted) => Some(Event::ProgramChanged {
            program: "volume infused: keeping the vein open".to_owned(),
        }),
        ControlEvent::Notice(Notice::PcaLimited) => Some(Event::ProgramChanged {
            program: "PCA limit reached: keeping the vein open, no demand given".to_owned(),
        }),
        ControlEvent::Notice(Notice::PcaResumed) => Some(Event::ProgramChanged {
            program: "PCA resumed by a clinician after its limit".to_owned(),
        }),
        ControlEvent::Demand(outcome) => Some(Event::PcaDemand {
            outcome: demand_name(*outcome).to_owned(),
        }),
        ControlEvent::Notice(_) | ControlEvent::Refused(_) => None,
    }
}

/// A demand's outcome as the log stores it.
pub fn demand_name(outcome: DemandOutcome) -> &'static str {
    match outcome {
        DemandOutcome::Given => "given",
        DemandOutcome::Refused(DemandRefusal::Lockout) => "lockout",
        DemandOutcome::Refused(DemandRefusal::Limit) => "limit",
        DemandOutcome::Refused(DemandRefusal::DoseInProgress) => "dose-in-progress",
        DemandOutcome::Refused(DemandRefusal::NotInfusing) => "not-infusing",
    }
}

/// The record of a change of mode, if it is one to keep (starts and
/// completions come as notices, see `record_of`).
pub fn record_of_mode(before: Mode, after: Mode) -> Option<Event> {
    match (before, after) {
        (Mode::Paused | Mode::AlarmStopped, Mode::Delivering) => Some(Event::ProgramResumed),
        (_, Mode::Paused) if before != Mode::Paused => Some(Event::ProgramPaused),
        (Mode::Delivering | Mode::Paused | Mode::AlarmStopped | Mode::Ready, Mode::Idle) => {
            Some(Event::ProgramStopped)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_resumes_and_stops_are_told_apart_from_the_pump_coming_up() {
        assert_eq!(record_of_mode(Mode::SelfTest, Mode::Idle), None);
        assert_eq!(
            record_of_mode(Mode::Delivering, Mode::Paused),
            Some(Event::ProgramPaused)
        );
        assert_eq!(record_of_mode(Mode::Paused, Mode::Paused), None);
        assert_eq!(
            record_of_mode(Mode::Paused, Mode::Delivering),
            Some(Event::ProgramResumed)
        );
        assert_eq!(
            record_of_mode(Mode::Ready, Mode::Idle),
            Some(Event::ProgramStopped)
        );
        assert_eq!(record_of_mode(Mode::Ready, Mode::Delivering), None);
    }
}
