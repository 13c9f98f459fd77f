//! PCA on the simulated board, through the real drivers and the demand
//! button's GPIO line: demands given and refused (dose in progress,
//! lockout, limit), the basal reaching the limit drops to KVO with an
//! alarm, a clinician resumes only once the window has room, and a button
//! held down is one demand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse::alarms::{AlarmChange, Condition};
use perfuse::control::api::{Command, ControlEvent, DemandOutcome, DemandRefusal, Mode};
use perfuse::control::program::Pca;
use perfuse::control::state::End;
use perfuse::control::units::{Nanolitres, NanolitresPerHour};
use perfuse_testkit::rig::{continuous, Platform, Rig};

/// 50 mL at a basal of 1.5 mL/h; demands of 1 mL at 60 mL/h, 5 min
/// lockout, at most 2.5 mL in an hour; 0.1 mL/h once limited.
fn pca_program() -> perfuse::control::program::Program {
    let mut program = continuous(1.5, 50.0, End::Stop);
    program.pca = Some(Pca {
        demand: Nanolitres(1_000_000),
        demand_rate: NanolitresPerHour(60_000_000),
        lockout_ms: 5 * 60_000,
        limit: Nanolitres(2_500_000),
        window_minutes: 60,
        limited_rate: NanolitresPerHour(100_000),
        carried: Nanolitres(0),
    });
    program
}

/// Presses the button for 300 ms and returns what became of the press.
fn press(rig: &mut Rig) -> Vec<DemandOutcome> {
    let before = rig.events.len();
    rig.simulator.physics_mut().press_demand(300);
    rig.run_for(1.0);
    rig.events[before..]
        .iter()
        .filter_map(|event| match event {
            ControlEvent::Demand(outcome) => Some(*outcome),
            _ => None,
        })
        .collect()
}

fn raised(rig: &Rig, condition: Condition) -> bool {
    rig.last
        .alarms
        .iter()
        .flatten()
        .any(|alarm| alarm.condition == condition)
}

#[test]
fn demands_are_given_within_the_lockout_and_limit_then_the_basal_drops_to_kvo() {
    let mut rig = Rig::new(Platform::Syringe50, 10_000).unwrap();
    rig.command(Command::Load(pca_program()));
    // Waiting to start: a press is refused and counted.
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::NotInfusing)]
    );
    rig.command(Command::Start);
    rig.run_for(10.0);
    assert_eq!(rig.last.commanded_rate, NanolitresPerHour(1_500_000));

    // First demand: given at the demand rate, on top of the basal's volume.
    assert_eq!(press(&mut rig), [DemandOutcome::Given]);
    assert_eq!(rig.last.commanded_rate, NanolitresPerHour(60_000_000));
    // While it runs (1 mL at 60 mL/h: a minute), another press is refused.
    rig.run_for(5.0);
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::DoseInProgress)]
    );
    rig.run_for(60.0);
    assert_eq!(rig.last.commanded_rate, NanolitresPerHour(1_500_000));
    // Within the 5 min lockout: refused.
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::Lockout)]
    );
    let status = rig.last.pca.unwrap();
    assert!(status.lockout_left_ms > 0 && status.lockout_left_ms < 5 * 60_000);
    // After the lockout: given (1 mL + basal so far + 1 mL is below 2.5 mL).
    rig.run_until(300.0, |snapshot| {
        snapshot.pca.is_some_and(|pca| pca.lockout_left_ms == 0)
    })
    .unwrap();
    assert_eq!(press(&mut rig), [DemandOutcome::Given]);
    rig.run_for(70.0);
    // The next after the lockout would pass the limit: refused.
    rig.run_until(300.0, |snapshot| {
        snapshot.pca.is_some_and(|pca| pca.lockout_left_ms == 0)
    })
    .unwrap();
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::Limit)]
    );
    let status = rig.last.pca.unwrap();
    assert_eq!((status.given, status.refused), (2, 4));
    assert!(
        status.used.0 > 2_000_000 && status.used.0 < 2_500_000,
        "{status:?}"
    );
    assert!(!status.limited);

    // The basal alone reaches 2.5 mL in the hour: held at KVO, alarm raised.
    let took = rig.run_until(1200.0, |snapshot| {
        snapshot.pca.is_some_and(|pca| pca.limited)
    });
    assert!(took.is_some(), "never limited: {:?}", rig.last.pca);
    assert_eq!(rig.last.mode, Mode::Delivering);
    assert_eq!(rig.last.commanded_rate, NanolitresPerHour(100_000));
    rig.run_for(1.0);
    assert!(raised(&rig, Condition::PcaLimit));
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::PcaLimit
        ))));
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::Limit)]
    );
    // A clinician cannot resume while the window holds the limit.
    let before = rig.events.len();
    rig.command(Command::ClearPcaLimit);
    assert!(rig.events[before..].contains(&ControlEvent::Refused(
        perfuse::control::api::CommandKind::ClearPcaLimit
    )));
    assert!(rig.last.pca.unwrap().limited);

    // Once the first demand has left the hour, the resume is taken: the
    // basal runs again and the alarm clears.
    let took = rig.run_until(3000.0, |snapshot| {
        snapshot
            .pca
            .is_some_and(|pca| pca.used.0 < pca.limit.0 - 500_000)
    });
    assert!(took.is_some(), "{:?}", rig.last.pca);
    rig.command(Command::ClearPcaLimit);
    rig.run_for(1.0);
    assert!(!rig.last.pca.unwrap().limited);
    assert_eq!(rig.last.commanded_rate, NanolitresPerHour(1_500_000));
    assert!(!raised(&rig, Condition::PcaLimit));

    // What the pump booked is what the simulated syringe gave.
    let pump = rig.last.total_delivered.0 as f64 / 1.0e6;
    let truth = rig.truth().delivered_ml;
    assert!(
        (truth - pump).abs() / pump < 0.01,
        "pump {pump} mL, truth {truth} mL"
    );
}

#[test]
fn a_button_held_down_is_one_demand_and_a_plain_infusion_ignores_it() {
    let mut rig = Rig::new(Platform::Volumetric, 10_000).unwrap();
    // No PCA program: the button means nothing and nothing is counted.
    rig.command(Command::Load(continuous(10.0, 100.0, End::Stop)));
    rig.command(Command::Start);
    rig.simulator.physics_mut().hold_demand();
    rig.run_for(2.0);
    rig.simulator.physics_mut().release_demand();
    assert!(!rig
        .events
        .iter()
        .any(|event| matches!(event, ControlEvent::Demand(_))));
    assert_eq!(rig.last.pca, None);
    rig.command(Command::Stop);

    rig.command(Command::Load(pca_program()));
    rig.command(Command::Start);
    rig.run_for(1.0);
    let before = rig.events.len();
    rig.simulator.physics_mut().hold_demand();
    // Held for ten minutes, past the lockout: still one demand.
    rig.run_for(600.0);
    let outcomes: Vec<_> = rig.events[before..]
        .iter()
        .filter(|event| matches!(event, ControlEvent::Demand(_)))
        .collect();
    assert_eq!(outcomes, [&ControlEvent::Demand(DemandOutcome::Given)]);
    rig.simulator.physics_mut().release_demand();
    rig.run_for(1.0);
    assert_eq!(press(&mut rig), [DemandOutcome::Given]);
}

#[test]
fn a_pca_resumed_after_an_interruption_counts_what_the_patient_had() {
    let mut rig = Rig::new(Platform::Syringe50, 10_000).unwrap();
    // 2 mL given before the app restarted: counted now, so one more demand
    // would pass the 2.5 mL limit.
    let mut program = pca_program();
    if let Some(pca) = program.pca.as_mut() {
        pca.carried = Nanolitres(2_000_000);
    }
    rig.command(Command::Load(program));
    rig.command(Command::Start);
    rig.run_for(1.0);
    assert!(rig.last.pca.unwrap().used.0 >= 2_000_000);
    assert_eq!(
        press(&mut rig),
        [DemandOutcome::Refused(DemandRefusal::Limit)]
    );
    // Never more than the limit is carried.
    let mut rig = Rig::new(Platform::Syringe50, 10_000).unwrap();
    let mut program = pca_program();
    if let Some(pca) = program.pca.as_mut() {
        pca.carried = Nanolitres(40_000_000);
    }
    rig.command(Command::Load(program));
    rig.run_for(0.1);
    assert_eq!(rig.last.pca.unwrap().used, Nanolitres(2_500_000));
}
