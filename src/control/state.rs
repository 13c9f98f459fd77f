//! The pump state machine.
//!
//! `next(state, event) -> (state, notices)` is a pure function matched
//! exhaustively over states and events (no `_` arm), so a new state or event
//! forces every transition to be decided. The motor is commanded only by
//! `State::commanded_rate`, which is zero everywhere but `Delivering` and
//! `KeepVeinOpen`. The state machine never allocates: programs and progress
//! are fixed-size values moved from state to state.
//!
//! Safety rules it keeps (checked by the property tests):
//! - flow only in the delivering states, never while a flow-stopping alarm
//!   is active, never above the programmed (or titrated) rate;
//! - a pause, stop or alarm stops flow from the very next period;
//! - the volume of a segment, and so the VTBI, is never exceeded;
//! - the end of the VTBI goes to KVO or completes, as programmed, and a
//!   near-end notice comes first;
//! - an alarm never resumes flow by itself: after it clears, the pump waits
//!   paused for the nurse.

use arrayvec::ArrayVec;

use super::program::capped_end;
pub use super::program::{
    End, Infusion, OverlayKind, Pca, Program, Progress, Segment, MAX_SEGMENTS,
    NEAR_END_MICROSECONDS,
};
use super::units::{Nanolitres, NanolitresPerHour};
use crate::therapy::SegmentPurpose;

/// Why flow stopped on an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    DownstreamOcclusion,
    UpstreamOcclusion,
    AirInLine,
    DoorOpen,
    SyringeNotLoaded,
    EndOfContainer,
    MotorStall,
    DriverFault,
    EncoderDisagreement,
    SensorFault,
    SupervisorTrip,
}

/// A fault that needs the pump restarted (after service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    SelfTestFailed,
    ControlOverrun,
    HardwareUnavailable,
}

/// Where the pump goes back to when a paused infusion resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeTo {
    Delivering,
    KeepVeinOpen(NanolitresPerHour),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Power-on self-test running: no motor.
    SelfTest,
    /// The platform cross-check refused this hardware: no infusion, ever.
    PlatformRejected,
    /// Nothing programmed.
    Idle,
    /// A confirmed program waits for Start.
    Ready(Infusion),
    Delivering(Infusion),
    /// The VTBI is done; the vein is kept open.
    KeepVeinOpen {
        infusion: Infusion,
        rate: NanolitresPerHour,
    },
    Paused {
        infusion: Infusion,
        resume: ResumeTo,
    },
    /// Flow stopped by an alarm; the program is kept.
    AlarmStopped {
        infusion: Infusion,
        cause: StopCause,
        resume: ResumeTo,
    },
    /// The VTBI is done and the program ended (no KVO).
    Completed(Infusion),
    /// Motor off until restart.
    Fault(FaultKind),
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    SelfTestPassed,
    SelfTestFailed,
    PlatformRejected,
    /// A confirmed program (replaces one that has not started).
    Load(Program),
    Start,
    Pause,
    Resume,
    /// End the infusion (the program is logged elsewhere; the pump is idle).
    Stop,
    /// A new rate for the current primary segment (checked by the therapy core first).
    Titrate(NanolitresPerHour),
    Bolus(Segment),
    Secondary(Program),
    /// Volume the motor delivered during the last period.
    Delivered(Nanolitres),
    /// A detector raised a flow-stopping alarm.
    StopFlow(StopCause),
    /// The flow-stopping alarms are resolved and acknowledged.
    AlarmsResolved,
    /// A PCA program reached its limit over its window: its limited rate
    /// from now on, and a demand being given is cut short.
    PcaLimitReached,
    /// A clinician resumes a PCA program held at its limit (the controller
    /// checks first that the window has room again).
    PcaLimitCleared,
    Fault(FaultKind),
}

/// What the rest of the pump should know about a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Started,
    SegmentChanged(SegmentPurpose),
    OverlayFinished(OverlayKind),
    NearEnd,
    KeepVeinOpenStarted,
    Completed,
    FlowStopped(StopCause),
    PcaLimited,
    PcaResumed,
    /// An event that does not apply in this state (for the interaction log).
    Ignored,
}

/// At most this many notices per transition.
pub type Notices = ArrayVec<Notice, 4>;

fn notices(items: &[Notice]) -> Notices {
    items.iter().copied().take(4).collect()
}

impl State {
    /// The rate the motor is commanded at in this state.
    pub fn commanded_rate(&self) -> NanolitresPerHour {
        match self {
            State::Delivering(infusion) => infusion.rate(),
            State::KeepVeinOpen { rate, .. } => *rate,
            State::SelfTest
            | State::PlatformRejected
            | State::Idle
            | State::Ready(_)
            | State::Paused { .. }
            | State::AlarmStopped { .. }
            | State::Completed(_)
            | State::Fault(_) => NanolitresPerHour(0),
        }
    }

    /// The infusion this state holds, if any.
    pub fn infusion(&self) -> Option<&Infusion> {
        match self {
            State::Ready(infusion)
            | State::Delivering(infusion)
            | State::Completed(infusion)
            | State::KeepVeinOpen { infusion, .. }
            | State::Paused { infusion, .. }
            | State::AlarmStopped { infusion, .. } => Some(infusion),
            State::SelfTest | State::PlatformRejected | State::Idle | State::Fault(_) => None,
        }
    }
}

/// Delivery bookkeeping in `Delivering`.
fn deliver(mut infusion: Infusion, volume: Nanolitres) -> (State, Notices) {
    let mut out = Notices::new();
    let segment_done = infusion.active_mut().book(volume);
    // A PCA's demands come out of its syringe: its volume counts them, and
    // a demand that empties it ends the program.
    if infusion.pca().is_some() && infusion.overlay.is_some() && infusion.primary.book_all(volume) {
        infusion.overlay = None;
        return program_end(infusion, out);
    }
    if segment_done {
        if infusion.active_mut().advance() {
            if let Some(segment) = infusion.active().current() {
                out.push(Notice::SegmentChanged(segment.purpose));
            }
        } else if let Some((kind, _)) = infusion.overlay.take() {
            out.push(Notice::OverlayFinished(kind));
        } else {
            return program_end(infusion, out);
        }
    }
    if infusion.overlay.is_none() && !infusion.near_end_announced {
        let left = infusion.primary.remaining();
        let near = infusion
            .rate()
            .time_for(left)
            .is_some_and(|time| time <= NEAR_END_MICROSECONDS);
        if near {
            infusion.near_end_announced = true;
            out.push(Notice::NearEnd);
        }
    }
    (State::Delivering(infusion), out)
}

/// The primary's volume is done: keep the vein open or complete, as programmed.
fn program_end(infusion: Infusion, mut out: Notices) -> (State, Notices) {
    let state = match capped_end(&infusion.primary.program) {
        End::KeepVeinOpen(rate) => {
            out.push(Notice::KeepVeinOpenStarted);
            State::KeepVeinOpen { infusion, rate }
        }
        End::Stop => {
            out.push(Notice::Completed);
            State::Completed(infusion)
        }
    };
    (state, out)
}

/// Replaces the rate of the current primary segment. KVO after the VTBI
/// never runs above the last segment's rate, so a titration of the last
/// segment below the KVO rate brings the KVO rate down with it.
fn titrate(mut infusion: Infusion, rate: NanolitresPerHour) -> Infusion {
    let index = infusion.primary.segment;
    if let Some(segment) = infusion.primary.program.segments.get_mut(index) {
        segment.rate = rate;
        infusion.near_end_announced = false;
    }
    infusion.primary.program.end = capped_end(&infusion.primary.program);
    infusion
}

fn with_overlay(mut infusion: Infusion, kind: OverlayKind, program: Program) -> Infusion {
    infusion.overlay = Some((kind, Progress::new(program)));
    infusion
}

fn bolus_program(segment: Segment) -> Program {
    let mut segments = ArrayVec::new();
    segments.push(segment);
    Program {
        segments,
        end: End::Stop,
        pca: None,
    }
}

/// Every segment has a volume and a rate; a PCA's basal may be zero (demands only).
fn valid(program: &Program) -> bool {
    !program.segments.is_empty()
        && program
            .segments
            .iter()
            .all(|segment| segment.volume.0 > 0 && (segment.rate.0 > 0 || program.pca.is_some()))
}

/// Marks a PCA infusion limited (cutting short a demand being given) or
/// resumed; false, and unchanged, if it is not a PCA or is already so.
fn pca_limit(infusion: &mut Infusion, limited: bool) -> bool {
    if infusion.pca().is_none() || infusion.pca_limited == limited {
        return false;
    }
    infusion.pca_limited = limited;
    if limited {
        infusion.overlay = None;
    }
    true
}

/// The transition function.
pub fn next(state: State, event: Event) -> (State, Notices) {
    use Event as E;
    use State as S;
    let ignored = |state: State| (state, notices(&[Notice::Ignored]));
    match (state, event) {
        // Faults win everywhere, and nothing leaves a fault but a restart.
        (S::Fault(kind), _) => (S::Fault(kind), notices(&[Notice::Ignored])),
        (_, E::Fault(kind)) => (S::Fault(kind), Notices::new()),
        (S::PlatformRejected, _) => ignored(S::PlatformRejected),

        (S::SelfTest, E::SelfTestPassed) => (S::Idle, Notices::new()),
        (S::SelfTest, E::SelfTestFailed) => (S::Fault(FaultKind::SelfTestFailed), Notices::new()),
        (S::SelfTest, E::PlatformRejected) => (S::PlatformRejected, Notices::new()),
        (
            state @ S::SelfTest,
            E::Load(_)
            | E::Start
            | E::Pause
            | E::Resume
            | E::Stop
            | E::Titrate(_)
            | E::Bolus(_)
            | E::Secondary(_)
            | E::Delivered(_)
            | E::StopFlow(_)
            | E::AlarmsResolved
            | E::PcaLimitReached
            | E::PcaLimitCleared,
        ) => ignored(state),

        (S::Idle | S::Ready(_) | S::Completed(_), E::Load(program)) if valid(&program) => {
            (S::Ready(Infusion::new(program)), Notices::new())
        }
        (S::Ready(infusion), E::Start) => (S::Delivering(infusion), notices(&[Notice::Started])),
        (
            S::Ready(_)
            | S::Completed(_)
            | S::Paused { .. }
            | S::AlarmStopped { .. }
            | S::KeepVeinOpen { .. },
            E::Stop,
        ) => (S::Idle, Notices::new()),
        (S::Delivering(_), E::Stop) => (S::Idle, Notices::new()),

        (S::Delivering(infusion), E::Delivered(volume)) => deliver(infusion, volume),
        (S::Delivering(infusion), E::Pause) => (
            S::Paused {
                infusion,
                resume: ResumeTo::Delivering,
            },
            Notices::new(),
        ),
        (S::Delivering(infusion), E::Titrate(rate)) if rate.0 > 0 => {
            (S::Delivering(titrate(infusion, rate)), Notices::new())
        }
        (S::Delivering(infusion), E::Bolus(segment))
            if infusion.overlay.is_none() && segment.rate.0 > 0 && segment.volume.0 > 0 =>
        {
            (
                S::Delivering(with_overlay(
                    infusion,
                    OverlayKind::Bolus,
                    bolus_program(segment),
                )),
                Notices::new(),
            )
        }
        (S::Delivering(infusion), E::Secondary(program))
            if infusion.overlay.is_none() && valid(&program) =>
        {
            (
                S::Delivering(with_overlay(infusion, OverlayKind::Secondary, program)),
                Notices::new(),
            )
        }
        (S::Delivering(infusion), E::StopFlow(cause)) => (
            S::AlarmStopped {
                infusion,
                cause,
                resume: ResumeTo::Delivering,
            },
            notices(&[Notice::FlowStopped(cause)]),
        ),

        (S::KeepVeinOpen { mut infusion, rate }, E::Delivered(volume)) => {
            infusion.kvo_delivered = infusion.kvo_delivered.saturating_add(volume);
            (S::KeepVeinOpen { infusion, rate }, Notices::new())
        }
        (S::KeepVeinOpen { infusion, rate }, E::Pause) => (
            S::Paused {
                infusion,
                resume: ResumeTo::KeepVeinOpen(rate),
            },
            Notices::new(),
        ),
        (S::KeepVeinOpen { infusion, rate }, E::StopFlow(cause)) => (
            S::AlarmStopped {
                infusion,
                cause,
                resume: ResumeTo::KeepVeinOpen(rate),
            },
            notices(&[Notice::FlowStopped(cause)]),
        ),

        (
            S::Paused {
                infusion,
                resume: ResumeTo::Delivering,
            },
            E::Resume,
        ) => (S::Delivering(infusion), Notices::new()),
        (
            S::Paused {
                infusion,
                resume: ResumeTo::KeepVeinOpen(rate),
            },
            E::Resume,
        ) => (S::KeepVeinOpen { infusion, rate }, Notices::new()),
        (S::Paused { infusion, resume }, E::Titrate(rate))
            if rate.0 > 0 && resume == ResumeTo::Delivering =>
        {
            (
                S::Paused {
                    infusion: titrate(infusion, rate),
                    resume,
                },
                Notices::new(),
            )
        }
        // An alarm while paused is remembered the same way: flow stays stopped.
        (S::Paused { infusion, resume }, E::StopFlow(cause)) => (
            S::AlarmStopped {
                infusion,
                cause,
                resume,
            },
            notices(&[Notice::FlowStopped(cause)]),
        ),

        // Never resume by itself: once resolved, wait paused for the nurse.
        (
            S::AlarmStopped {
                infusion, resume, ..
            },
            E::AlarmsResolved,
        ) => (S::Paused { infusion, resume }, Notices::new()),
        (
            S::AlarmStopped {
                infusion, resume, ..
            },
            E::StopFlow(cause),
        ) => (
            S::AlarmStopped {
                infusion,
                cause,
                resume,
            },
            notices(&[Notice::FlowStopped(cause)]),
        ),

        (S::Delivering(mut infusion), event @ (E::PcaLimitReached | E::PcaLimitCleared)) => {
            let limited = event == E::PcaLimitReached;
            if pca_limit(&mut infusion, limited) {
                let notice = if limited {
                    Notice::PcaLimited
                } else {
                    Notice::PcaResumed
                };
                (S::Delivering(infusion), notices(&[notice]))
            } else {
                ignored(S::Delivering(infusion))
            }
        }
        // Paused or stopped by an alarm, a PCA at its limit resumes limited;
        // a clinician may clear the limit there too.
        (
            S::Paused {
                mut infusion,
                resume,
            },
            event @ (E::PcaLimitReached | E::PcaLimitCleared),
        ) => {
            let changed = pca_limit(&mut infusion, event == E::PcaLimitReached);
            let state = S::Paused { infusion, resume };
            if changed {
                (state, Notices::new())
            } else {
                ignored(state)
            }
        }
        (
            S::AlarmStopped {
                mut infusion,
                cause,
                resume,
            },
            event @ (E::PcaLimitReached | E::PcaLimitCleared),
        ) => {
            let changed = pca_limit(&mut infusion, event == E::PcaLimitReached);
            let state = S::AlarmStopped {
                infusion,
                cause,
                resume,
            };
            if changed {
                (state, Notices::new())
            } else {
                ignored(state)
            }
        }

        (
            state @ (S::Idle
            | S::Ready(_)
            | S::Delivering(_)
            | S::KeepVeinOpen { .. }
            | S::Paused { .. }
            | S::AlarmStopped { .. }
            | S::Completed(_)),
            E::SelfTestPassed
            | E::SelfTestFailed
            | E::PlatformRejected
            | E::Load(_)
            | E::Start
            | E::Pause
            | E::Resume
            | E::Stop
            | E::Titrate(_)
            | E::Bolus(_)
            | E::Secondary(_)
            | E::Delivered(_)
            | E::StopFlow(_)
            | E::AlarmsResolved
            | E::PcaLimitReached
            | E::PcaLimitCleared,
        ) => ignored(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loading_then_maintenance() -> Program {
        let mut segments = ArrayVec::new();
        segments.push(Segment {
            purpose: SegmentPurpose::Loading,
            rate: NanolitresPerHour(300_000_000),
            volume: Nanolitres(30_000_000),
        });
        segments.push(Segment {
            purpose: SegmentPurpose::Maintenance,
            rate: NanolitresPerHour(10_000_000),
            volume: Nanolitres(70_000_000),
        });
        Program {
            segments,
            end: End::Stop,
            pca: None,
        }
    }

    #[test]
    fn the_rest_of_a_program_keeps_each_segment_at_its_rate() {
        let program = loading_then_maintenance();
        assert_eq!(program.after(Nanolitres(0)), Some(program.clone()));
        // Part way through the loading dose: its rest, then the whole maintenance.
        let rest = program
            .after(Nanolitres(12_000_000))
            .unwrap_or(program.clone());
        assert_eq!(rest.segments.len(), 2);
        assert_eq!(rest.segments[0].purpose, SegmentPurpose::Loading);
        assert_eq!(rest.segments[0].volume, Nanolitres(18_000_000));
        assert_eq!(rest.segments[0].rate, NanolitresPerHour(300_000_000));
        assert_eq!(rest.segments[1].volume, Nanolitres(70_000_000));
        assert_eq!(rest.total_volume(), Nanolitres(88_000_000));
        // Exactly at the end of the loading dose, and into the maintenance.
        let rest = program
            .after(Nanolitres(30_000_000))
            .unwrap_or(program.clone());
        assert_eq!(rest.segments.len(), 1);
        assert_eq!(rest.segments[0].purpose, SegmentPurpose::Maintenance);
        assert_eq!(rest.total_volume(), Nanolitres(70_000_000));
        let rest = program
            .after(Nanolitres(99_999_999))
            .unwrap_or(program.clone());
        assert_eq!(rest.total_volume(), Nanolitres(1));
        // Nothing left.
        assert_eq!(program.after(Nanolitres(100_000_000)), None);
        assert_eq!(program.after(Nanolitres(u64::MAX)), None);
    }
}
