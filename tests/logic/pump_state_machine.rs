//! Model-based property tests of the pump state machine. Random sequences of
//! nurse actions, alarms and control periods run through `next`, driven the
//! way the control thread drives it; after every event the safety invariants
//! are checked against a small model of what must be true.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use arrayvec::ArrayVec;
use perfuse::control::state::{
    next, End, Event, Infusion, Notice, OverlayKind, Program, Segment, State, StopCause,
    NEAR_END_MICROSECONDS,
};
use perfuse::control::units::{Nanolitres, NanolitresPerHour};
use perfuse::therapy::SegmentPurpose;
use proptest::prelude::*;

use perfuse_testkit::cases;

/// The control period the harness simulates, microseconds.
const PERIOD_US: u64 = 100_000;

fn segment(rate_centi_ml_h: u64, volume_centi_ml: u64, purpose: SegmentPurpose) -> Segment {
    Segment {
        purpose,
        rate: NanolitresPerHour(rate_centi_ml_h * 10_000),
        volume: Nanolitres(volume_centi_ml * 10_000),
    }
}

fn program_strategy() -> impl Strategy<Value = Program> {
    let rate = 10_u64..=99_900;
    let volume = 10_u64..=2_000;
    (
        rate.clone(),
        volume.clone(),
        prop::option::of((rate, volume)),
        prop::option::of(1_u64..=2000),
    )
        .prop_map(|(first_rate, first_volume, second, kvo)| {
            let mut segments = ArrayVec::new();
            match second {
                Some((rate, volume)) => {
                    segments.push(segment(first_rate, first_volume, SegmentPurpose::Loading));
                    segments.push(segment(rate, volume, SegmentPurpose::Maintenance));
                }
                None => segments.push(segment(first_rate, first_volume, SegmentPurpose::Primary)),
            }
            let last_rate = segments
                .last()
                .map_or(0, |segment: &Segment| segment.rate.0);
            let end = match kvo {
                Some(kvo) => End::KeepVeinOpen(NanolitresPerHour((kvo * 10_000).min(last_rate))),
                None => End::Stop,
            };
            Program {
                segments,
                end,
                pca: None,
            }
        })
}

#[derive(Debug, Clone)]
enum Action {
    Load(Program),
    Start,
    Pause,
    Resume,
    Stop,
    Titrate(u64),
    Bolus(u64, u64),
    Secondary(Program),
    Periods(u16),
    StopFlow(StopCause),
    AlarmsResolved,
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => program_strategy().prop_map(Action::Load),
        3 => Just(Action::Start),
        2 => Just(Action::Pause),
        3 => Just(Action::Resume),
        1 => Just(Action::Stop),
        2 => (10_u64..=99_900).prop_map(Action::Titrate),
        1 => ((100_u64..=99_900), (10_u64..=500)).prop_map(|(rate, volume)| Action::Bolus(rate, volume)),
        1 => program_strategy().prop_map(Action::Secondary),
        8 => (1_u16..=3000).prop_map(Action::Periods),
        2 => prop::sample::select(vec![StopCause::DownstreamOcclusion, StopCause::AirInLine, StopCause::DoorOpen]).prop_map(Action::StopFlow),
        2 => Just(Action::AlarmsResolved),
    ]
}

/// What the model knows must hold.
#[derive(Default)]
struct Model {
    /// A flow-stopping alarm is active (raised, not yet resolved).
    alarm_active: bool,
    /// The highest rate anyone asked for in this infusion.
    highest_rate: u64,
    near_end_seen: bool,
    infusions_ended: u32,
}

fn max_program_rate(program: &Program) -> u64 {
    program
        .segments
        .iter()
        .map(|segment| segment.rate.0)
        .max()
        .unwrap_or(0)
}

fn check_invariants(state: &State, model: &Model, last: &Event) -> Result<(), TestCaseError> {
    let rate = state.commanded_rate().0;
    let delivering = matches!(state, State::Delivering(_) | State::KeepVeinOpen { .. });
    prop_assert!(rate == 0 || delivering, "flow {rate} in {state:?}");
    prop_assert!(
        !(model.alarm_active && rate > 0),
        "flow {rate} with an active alarm after {last:?}"
    );
    prop_assert!(
        rate <= model.highest_rate,
        "rate {rate} above anything programmed ({})",
        model.highest_rate
    );
    if matches!(last, Event::Pause | Event::Stop | Event::StopFlow(_)) {
        prop_assert_eq!(rate, 0, "still flowing right after {:?}", last);
    }
    if let Some(infusion) = state.infusion() {
        check_volumes(infusion)?;
        if let State::KeepVeinOpen { rate: kvo, .. } = state {
            let last_segment = infusion
                .primary
                .program
                .segments
                .last()
                .map_or(0, |segment| segment.rate.0);
            prop_assert!(
                kvo.0 <= last_segment,
                "KVO {} above the last segment's rate {}",
                kvo.0,
                last_segment
            );
        }
    }
    Ok(())
}

fn check_volumes(infusion: &Infusion) -> Result<(), TestCaseError> {
    let primary = &infusion.primary;
    prop_assert!(
        primary.delivered <= primary.program.total_volume(),
        "VTBI exceeded"
    );
    for (index, segment) in primary.program.segments.iter().enumerate() {
        if index == primary.segment {
            prop_assert!(primary.segment_delivered <= segment.volume);
        }
    }
    if let Some((_, overlay)) = &infusion.overlay {
        prop_assert!(
            overlay.delivered <= overlay.program.total_volume(),
            "overlay volume exceeded"
        );
    }
    Ok(())
}

fn apply(state: State, event: Event, model: &mut Model) -> Result<State, TestCaseError> {
    match &event {
        Event::Load(program)
            if matches!(state, State::Idle | State::Ready(_) | State::Completed(_)) =>
        {
            model.highest_rate = max_program_rate(program);
            model.near_end_seen = false;
        }
        Event::Titrate(rate) => model.highest_rate = model.highest_rate.max(rate.0),
        Event::Bolus(segment) => model.highest_rate = model.highest_rate.max(segment.rate.0),
        Event::Secondary(program) => {
            model.highest_rate = model.highest_rate.max(max_program_rate(program))
        }
        Event::StopFlow(_)
            if matches!(
                state,
                State::Delivering(_)
                    | State::KeepVeinOpen { .. }
                    | State::Paused { .. }
                    | State::AlarmStopped { .. }
            ) =>
        {
            model.alarm_active = true;
        }
        Event::AlarmsResolved => model.alarm_active = false,
        Event::Stop => model.alarm_active = false,
        _ => {}
    }
    let was_running = matches!(state, State::Delivering(_));
    let (state, notices) = next(state, event.clone());
    for notice in &notices {
        match notice {
            Notice::NearEnd => model.near_end_seen = true,
            Notice::Completed | Notice::KeepVeinOpenStarted => {
                prop_assert!(
                    model.near_end_seen,
                    "the VTBI ended without a near-end notice first"
                );
                prop_assert!(was_running);
                let infusion = state.infusion().unwrap();
                prop_assert_eq!(
                    infusion.primary.delivered,
                    infusion.primary.program.total_volume()
                );
                model.infusions_ended += 1;
                match (notice, infusion.primary.program.end) {
                    (Notice::Completed, End::Stop)
                    | (Notice::KeepVeinOpenStarted, End::KeepVeinOpen(_)) => {}
                    (notice, end) => prop_assert!(false, "{notice:?} for a program ending {end:?}"),
                }
            }
            _ => {}
        }
    }
    check_invariants(&state, model, &event)?;
    Ok(state)
}

/// One control period: deliver what the commanded rate gives, never more
/// than the active segment has left (as the step generator's limit does).
fn period(state: State, model: &mut Model) -> Result<State, TestCaseError> {
    let volume = match &state {
        State::Delivering(infusion) => {
            let due = state.commanded_rate().volume_in(PERIOD_US);
            Nanolitres(due.0.min(infusion.active().segment_remaining().0))
        }
        State::KeepVeinOpen { .. } => state.commanded_rate().volume_in(PERIOD_US),
        _ => return Ok(state),
    };
    apply(state, Event::Delivered(volume), model)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases::cases(600),
        failure_persistence: cases::kept(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn safety_invariants_hold_for_any_sequence(actions in prop::collection::vec(action_strategy(), 1..120)) {
        let mut model = Model::default();
        let mut state = apply(State::SelfTest, Event::SelfTestPassed, &mut model)?;
        for action in actions {
            state = match action {
                Action::Periods(count) => {
                    let mut state = state;
                    for _ in 0..count {
                        state = period(state, &mut model)?;
                    }
                    state
                }
                Action::Load(program) => apply(state, Event::Load(program), &mut model)?,
                Action::Start => apply(state, Event::Start, &mut model)?,
                Action::Pause => apply(state, Event::Pause, &mut model)?,
                Action::Resume => apply(state, Event::Resume, &mut model)?,
                Action::Stop => apply(state, Event::Stop, &mut model)?,
                Action::Titrate(rate) => apply(state, Event::Titrate(NanolitresPerHour(rate * 10_000)), &mut model)?,
                Action::Bolus(rate, volume) => {
                    apply(state, Event::Bolus(segment(rate, volume, SegmentPurpose::Bolus)), &mut model)?
                }
                Action::Secondary(program) => apply(state, Event::Secondary(program), &mut model)?,
                Action::StopFlow(cause) => apply(state, Event::StopFlow(cause), &mut model)?,
                Action::AlarmsResolved => apply(state, Event::AlarmsResolved, &mut model)?,
            };
        }
    }

    #[test]
    fn every_program_run_to_its_end_delivers_exactly_its_volume(program in program_strategy()) {
        let mut model = Model::default();
        let total = program.total_volume();
        let end = program.end;
        let mut state = apply(State::SelfTest, Event::SelfTestPassed, &mut model)?;
        state = apply(state, Event::Load(program), &mut model)?;
        state = apply(state, Event::Start, &mut model)?;
        let mut periods = 0_u64;
        while matches!(state, State::Delivering(_)) {
            state = period(state, &mut model)?;
            periods += 1;
            prop_assert!(periods < 10_000_000, "never ended");
        }
        prop_assert_eq!(model.infusions_ended, 1);
        let infusion = state.infusion().unwrap();
        prop_assert_eq!(infusion.primary.delivered, total);
        match end {
            End::Stop => prop_assert!(matches!(state, State::Completed(_))),
            End::KeepVeinOpen(rate) => prop_assert_eq!(state.commanded_rate(), rate),
        }
    }
}

fn single(rate_centi: u64, volume_centi: u64, end: End) -> Program {
    let mut segments = ArrayVec::new();
    segments.push(segment(rate_centi, volume_centi, SegmentPurpose::Primary));
    Program {
        segments,
        end,
        pca: None,
    }
}

#[test]
fn an_alarm_never_resumes_flow_by_itself() {
    let (state, _) = next(State::Idle, Event::Load(single(2500, 10_000, End::Stop)));
    let (state, _) = next(state, Event::Start);
    assert_eq!(state.commanded_rate(), NanolitresPerHour(25_000_000));
    let (state, notices) = next(state, Event::StopFlow(StopCause::DownstreamOcclusion));
    assert_eq!(
        notices.as_slice(),
        &[Notice::FlowStopped(StopCause::DownstreamOcclusion)]
    );
    assert_eq!(state.commanded_rate(), NanolitresPerHour(0));
    let (state, _) = next(state, Event::Resume);
    assert_eq!(
        state.commanded_rate(),
        NanolitresPerHour(0),
        "resume is refused while the alarm is active"
    );
    let (state, _) = next(state, Event::AlarmsResolved);
    assert!(matches!(state, State::Paused { .. }));
    assert_eq!(
        state.commanded_rate(),
        NanolitresPerHour(0),
        "resolved, but waits for the nurse"
    );
    let (state, _) = next(state, Event::Resume);
    assert_eq!(state.commanded_rate(), NanolitresPerHour(25_000_000));
}

#[test]
fn a_bolus_runs_over_the_primary_and_hands_back() {
    let (state, _) = next(State::Idle, Event::Load(single(1000, 10_000, End::Stop)));
    let (state, _) = next(state, Event::Start);
    let (mut state, _) = next(
        state,
        Event::Bolus(segment(60_000, 500, SegmentPurpose::Bolus)),
    );
    assert_eq!(state.commanded_rate(), NanolitresPerHour(600_000_000));
    let mut finished = false;
    for _ in 0..1000 {
        let volume = Nanolitres(
            state
                .commanded_rate()
                .volume_in(PERIOD_US)
                .0
                .min(state.infusion().unwrap().active().segment_remaining().0),
        );
        let (after, notices) = next(state, Event::Delivered(volume));
        state = after;
        if notices.contains(&Notice::OverlayFinished(OverlayKind::Bolus)) {
            finished = true;
            break;
        }
    }
    assert!(finished);
    assert_eq!(state.commanded_rate(), NanolitresPerHour(10_000_000));
    assert_eq!(
        state.infusion().unwrap().primary.delivered,
        Nanolitres(0),
        "the bolus does not count against the primary"
    );
    let _ = NEAR_END_MICROSECONDS;
}

#[test]
fn faults_and_rejected_platforms_never_deliver() {
    let (state, _) = next(State::SelfTest, Event::PlatformRejected);
    for event in [
        Event::SelfTestPassed,
        Event::Load(single(100, 100, End::Stop)),
        Event::Start,
        Event::Resume,
    ] {
        let (after, _) = next(state.clone(), event);
        assert_eq!(after, State::PlatformRejected);
    }
    let (state, _) = next(State::Idle, Event::Load(single(100, 100, End::Stop)));
    let (state, _) = next(state, Event::Start);
    let (state, _) = next(
        state,
        Event::Fault(perfuse::control::state::FaultKind::ControlOverrun),
    );
    let (state, _) = next(state, Event::Resume);
    assert_eq!(state.commanded_rate(), NanolitresPerHour(0));
    assert!(matches!(state, State::Fault(_)));
}

/// The case the property test found (issue 12): 9.81 mL/h for 0.1 mL, KVO
/// at 9.81 mL/h, started, titrated down to 2.6 mL/h and run to the end of
/// the VTBI. KVO then ran at 9.81 mL/h, above the rate the nurse titrated
/// to. KVO now follows the titration down.
#[test]
fn kvo_never_runs_above_a_rate_titrated_down_before_the_end() {
    let mut segments = ArrayVec::new();
    segments.push(segment(981, 10, SegmentPurpose::Primary));
    let program = Program {
        segments,
        end: End::KeepVeinOpen(NanolitresPerHour(9_810_000)),
        pca: None,
    };
    let mut model = Model::default();
    let mut state = apply(State::SelfTest, Event::SelfTestPassed, &mut model).unwrap();
    state = apply(state, Event::Load(program), &mut model).unwrap();
    state = apply(state, Event::Start, &mut model).unwrap();
    state = apply(
        state,
        Event::Titrate(NanolitresPerHour(2_600_000)),
        &mut model,
    )
    .unwrap();
    while matches!(state, State::Delivering(_)) {
        state = period(state, &mut model).unwrap();
    }
    match state {
        State::KeepVeinOpen { rate, .. } => assert_eq!(rate, NanolitresPerHour(2_600_000)),
        other => panic!("expected KVO, got {other:?}"),
    }
}
