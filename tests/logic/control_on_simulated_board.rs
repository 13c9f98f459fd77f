//! The controller runs the simulated mechanism end to end through the real
//! drivers: volumes match the ground truth, programs end exactly at their
//! VTBI, occlusions stop flow and back off, pause stops within a period.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse::alarms::{AlarmChange, Condition};
use perfuse::control::api::{Command, ControlEvent, Mode};
use perfuse::control::state::End;
use perfuse::control::units::Nanolitres;
use perfuse_sim::{Faults, Occlusion};
use perfuse_testkit::rig::{continuous, Platform, Rig};

#[test]
fn the_self_test_passes_on_the_simulated_board() {
    let rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    assert_eq!(
        *rig.controller.state(),
        perfuse::control::state::State::Idle
    );
}

#[test]
fn ten_minutes_at_25_ml_per_hour_match_the_ground_truth() {
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.command(Command::Load(continuous(25.0, 50.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(600.0);
    rig.command(Command::Pause);
    rig.run_for(30.0);
    let pump = rig.last.delivered.0 as f64 / 1.0e6;
    let truth = rig.truth().delivered_ml;
    // The pump counts 4.1667 mL; the syringe's 0.02 mm of backlash (0.011 mL) never reaches the patient.
    assert!((pump - 25.0 / 6.0).abs() < 0.001, "pump says {pump} mL");
    let error = (truth - pump) / pump;
    assert!(
        error.abs() < 0.005,
        "pump {pump} mL, truth {truth} mL: {:.3} %",
        error * 100.0
    );
}

#[test]
fn a_program_ends_exactly_at_its_vtbi_then_keeps_the_vein_open() {
    let mut rig = Rig::new(Platform::Volumetric, 1000).unwrap();
    rig.command(Command::Load(continuous(
        120.0,
        2.0,
        End::KeepVeinOpen(perfuse::control::units::NanolitresPerHour(1_000_000)),
    )));
    rig.command(Command::Start);
    let took = rig.run_until(120.0, |snapshot| snapshot.mode == Mode::KeepVeinOpen);
    assert!(
        took.is_some_and(|seconds| (59.0..61.0).contains(&seconds)),
        "{took:?}"
    );
    assert_eq!(rig.last.delivered, Nanolitres(2_000_000));
    assert!(rig.events.contains(&ControlEvent::Notice(
        perfuse::control::state::Notice::NearEnd
    )));
    assert_eq!(rig.last.commanded_rate.0, 1_000_000);
    rig.run_for(10.0);
    assert!(rig.last.kvo_delivered.0 > 0);
}

#[test]
fn a_downstream_occlusion_stops_flow_alarms_and_backs_off() {
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.command(Command::Load(continuous(25.0, 50.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(20.0);
    rig.simulator.physics_mut().set_faults(Faults {
        downstream: Occlusion::Full,
        ..Faults::NONE
    });
    let took = rig
        .run_until(300.0, |snapshot| snapshot.mode == Mode::AlarmStopped)
        .unwrap();
    assert!(took < 30.0, "alarm after {took} s at 25 mL/h");
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::DownstreamOcclusion
        ))));
    assert_eq!(rig.last.commanded_rate.0, 0);
    let peak = rig.truth().downstream_pressure_mmhg;
    rig.run_for(15.0);
    let relieved = rig.truth().downstream_pressure_mmhg;
    assert!(
        relieved < peak - 20.0,
        "back-off relieved {peak:.0} -> {relieved:.0} mmHg"
    );
    // Clearing the occlusion releases only a small bolus.
    let before = rig.truth().delivered_ml;
    rig.simulator.physics_mut().set_faults(Faults::NONE);
    rig.run_for(30.0);
    let bolus = rig.truth().delivered_ml - before;
    assert!(bolus < 0.05, "bolus after release {bolus} mL");
    // The alarm latches until acknowledged; then the pump waits paused.
    assert_eq!(rig.mode(), Mode::AlarmStopped);
    rig.command(Command::AcknowledgeAlarms);
    rig.period(Vec::new());
    assert_eq!(rig.mode(), Mode::Paused);
    rig.command(Command::Resume);
    rig.run_for(1.0);
    assert_eq!(rig.mode(), Mode::Delivering);
}

#[test]
fn pause_stops_the_motor_within_one_period() {
    let mut rig = Rig::new(Platform::Volumetric, 1000).unwrap();
    rig.command(Command::Load(continuous(500.0, 100.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(2.0);
    let steps = rig.last.steps;
    rig.command(Command::Pause);
    assert_eq!(
        rig.last.steps, steps,
        "no step in the period the pause arrived"
    );
    rig.run_for(1.0);
    assert_eq!(rig.last.steps, steps);
}

#[test]
fn an_emptied_syringe_alarms_as_the_end_of_the_syringe() {
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.simulator.physics_mut().set_reservoir(1.0);
    rig.command(Command::Load(continuous(100.0, 20.0, End::Stop)));
    rig.command(Command::Start);
    let took = rig.run_until(120.0, |snapshot| snapshot.mode == Mode::AlarmStopped);
    // The alarm comes with half a millimetre of stroke left (0.28 mL of a
    // 50 mL syringe): 0.72 mL at 100 mL/h is 26 s.
    assert!(
        took.is_some_and(|seconds| (24.0..28.0).contains(&seconds)),
        "{took:?}"
    );
    // Within one position-sensor count (0.11 mm, 0.06 mL).
    assert!(
        (rig.truth().reservoir_ml - 0.28).abs() < 0.07,
        "{} mL left",
        rig.truth().reservoir_ml
    );
    assert!(
        rig.events
            .contains(&ControlEvent::Alarm(AlarmChange::Raised(
                Condition::EndOfContainer
            ))),
        "{:?}",
        rig.events
    );
    assert!(!rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::MotorStall
        ))));
}

#[test]
fn reminders_call_the_nurse_back_to_an_unstarted_or_paused_pump() {
    let mut rig = Rig::new(Platform::Volumetric, 10_000).unwrap();
    rig.command(Command::Load(continuous(50.0, 100.0, End::Stop)));
    rig.run_for(299.0);
    assert!(!rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::CallbackUnstarted
        ))));
    rig.run_for(2.0);
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::CallbackUnstarted
        ))));
    rig.command(Command::Start);
    rig.run_for(1.0);
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Cleared(
            Condition::CallbackUnstarted
        ))));
    rig.command(Command::Pause);
    rig.run_for(121.0);
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::CallbackPaused
        ))));
    assert!(rig.last.alarms[0].is_some_and(|alarm| alarm.condition == Condition::CallbackPaused));
}

#[test]
fn the_near_end_and_the_end_of_an_infusion_alarm_in_order() {
    let mut rig = Rig::new(Platform::Volumetric, 10_000).unwrap();
    rig.command(Command::Load(continuous(120.0, 12.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_until(600.0, |snapshot| snapshot.mode == Mode::Completed)
        .unwrap();
    rig.run_for(1.0);
    let raised: Vec<Condition> = rig
        .events
        .iter()
        .filter_map(|event| match event {
            ControlEvent::Alarm(AlarmChange::Raised(condition)) => Some(*condition),
            _ => None,
        })
        .collect();
    assert_eq!(
        raised,
        vec![Condition::NearEnd, Condition::InfusionComplete]
    );
    assert_eq!(rig.last.delivered, Nanolitres(12_000_000));
}

#[test]
fn a_supervisor_cut_is_seen_by_the_app_and_stops_its_flow_with_an_alarm() {
    use embedded_hal::digital::OutputPin;
    let mut rig = Rig::new(Platform::Volumetric, 1000).unwrap();
    rig.command(Command::Load(continuous(100.0, 50.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(2.0);
    // The supervisor takes the enable line away.
    let line = perfuse_sim::SimWiring::REFERENCE.motor_enable;
    perfuse_sim::SimPin::new(rig.board.clone(), line)
        .set_high()
        .unwrap();
    let took = rig
        .run_until(1.0, |snapshot| snapshot.mode == Mode::AlarmStopped)
        .unwrap();
    assert!(took <= 0.12, "seen after {took} s");
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::SupervisorTrip
        ))));
    // Issue 12: until the alarm, the controller went on stepping (and
    // counting) into a disabled driver. Now not one step is emitted while
    // ENABLE is off, and none is booked.
    let memory = rig.board.memory();
    assert_eq!(
        memory
            .steps_while_disabled
            .load(std::sync::atomic::Ordering::Acquire),
        0,
        "steps into a disabled driver"
    );
}

/// Issue 12: a back-off after a downstream occlusion is reverse motion the
/// heartbeat reports as such (relieving), and the pump's delivered volume
/// never counts what the back-off took back.
#[test]
fn the_back_off_is_reported_as_relieving_and_never_counted_as_delivered() {
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.command(Command::Load(continuous(100.0, 40.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(12.0);
    rig.occlude_downstream(perfuse_sim::Occlusion::Full);
    rig.run_until(30.0, |snapshot| snapshot.mode == Mode::AlarmStopped)
        .unwrap();
    let at_alarm = rig.last;
    let relieving = rig.run_until(2.0, |snapshot| snapshot.relieving);
    assert!(relieving.is_some(), "no back-off reported");
    rig.run_until(30.0, |snapshot| !snapshot.relieving).unwrap();
    let after = rig.last;
    assert!(
        after.reverse_steps > at_alarm.reverse_steps,
        "no reverse motion"
    );
    assert_eq!(
        after.forward_steps, at_alarm.forward_steps,
        "forward motion while relieving"
    );
    assert!(
        after.delivered < at_alarm.delivered,
        "the back-off's volume is still counted: {:?} then {:?}",
        at_alarm.delivered,
        after.delivered
    );
}

#[test]
fn a_motor_never_enabled_since_the_start_alarms_after_two_seconds() {
    use embedded_hal::digital::OutputPin;
    let mut rig = Rig::new(Platform::Volumetric, 1000).unwrap();
    let line = perfuse_sim::SimWiring::REFERENCE.motor_enable;
    perfuse_sim::SimPin::new(rig.board.clone(), line)
        .set_high()
        .unwrap();
    rig.command(Command::Load(continuous(100.0, 50.0, End::Stop)));
    rig.command(Command::Start);
    let took = rig
        .run_until(5.0, |snapshot| snapshot.mode == Mode::AlarmStopped)
        .unwrap();
    assert!((2.0..2.1).contains(&took), "alarmed after {took} s");
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::SupervisorTrip
        ))));
}

#[test]
fn a_storage_fault_is_a_medium_alarm_that_leaves_flow_alone() {
    let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
    rig.command(Command::Load(continuous(25.0, 50.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(2.0);
    rig.command(Command::StorageFault(true));
    rig.run_for(1.0);
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Raised(
            Condition::StorageFault
        ))));
    assert_eq!(
        Condition::StorageFault.priority(),
        perfuse_drivers::annunciator::Priority::Medium
    );
    assert_eq!(
        rig.last.mode,
        Mode::Delivering,
        "a storage fault stopped the infusion"
    );
    assert!(rig
        .last
        .alarms
        .iter()
        .flatten()
        .any(|alarm| alarm.condition == Condition::StorageFault));
    // Writes work again: the alarm clears by itself (it does not latch).
    rig.command(Command::StorageFault(false));
    rig.run_for(1.0);
    assert!(rig
        .events
        .contains(&ControlEvent::Alarm(AlarmChange::Cleared(
            Condition::StorageFault
        ))));
    assert!(!rig
        .last
        .alarms
        .iter()
        .flatten()
        .any(|alarm| alarm.condition == Condition::StorageFault));
    assert_eq!(rig.last.mode, Mode::Delivering);
}

/// Found by the system fault matrix: a program loaded after another had
/// completed (or been stopped) continued the last one's step accounting, so
/// it stopped stepping short of its volume (by the first program's volume)
/// and stayed "delivering" without a step or an alarm.
#[test]
fn every_program_after_the_first_delivers_its_whole_volume() {
    for finish in ["completed", "stopped"] {
        let mut rig = Rig::new(Platform::Syringe50, 1000).unwrap();
        rig.command(Command::Load(continuous(360.0, 0.1, End::Stop)));
        rig.command(Command::Start);
        if finish == "completed" {
            rig.run_until(10.0, |snapshot| snapshot.mode == Mode::Completed)
                .unwrap();
        } else {
            rig.run_for(0.5);
            rig.command(Command::Stop);
        }
        rig.command(Command::Load(continuous(360.0, 0.5, End::Stop)));
        rig.command(Command::Start);
        let took = rig.run_until(20.0, |snapshot| snapshot.mode == Mode::Completed);
        assert!(
            took.is_some(),
            "after a program {finish}, the next never completed: {:?}",
            rig.last
        );
        assert_eq!(
            rig.last.delivered,
            Nanolitres(500_000),
            "after a program {finish}"
        );
    }
}
