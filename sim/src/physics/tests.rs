#![allow(clippy::unwrap_used)]
use super::*;

/// Runs `steps_per_second` for `seconds` in 1 ms ticks.
fn run(physics: &mut Physics, steps_per_second: f64, seconds: f64) {
    let ticks = (seconds * 1000.0) as i64;
    let start = physics.rotor();
    for tick in 1..=ticks {
        let rotor = start + (steps_per_second * tick as f64 / 1000.0) as i64;
        let allowed = if physics.motor_blocked() {
            physics.rotor()
        } else {
            rotor
        };
        physics.advance(0.001, allowed);
    }
}

#[test]
fn a_syringe_delivers_what_its_plunger_displaces() {
    let mechanism = Mechanism::reference_syringe(Syringe::ML_50);
    let per_step = mechanism.nominal_ml_per_native_step();
    let mut physics = Physics::new(mechanism, LineModel::ADULT, 50.0);
    // 25 mL/h for 10 min, then 30 s to drain the compliance.
    let steps_per_second = 25.0 / 3600.0 / per_step;
    run(&mut physics, steps_per_second, 600.0);
    run(&mut physics, 0.0, 30.0);
    let truth = physics.truth();
    let expected = 25.0 / 6.0 - 0.02 * Syringe::ML_50.area_mm2() / 1000.0;
    assert!(
        (truth.delivered_ml - expected).abs() < 0.002,
        "{} vs {expected}",
        truth.delivered_ml
    );
    assert!(truth.downstream_pressure_mmhg < 9.0);
}

#[test]
fn a_full_downstream_occlusion_builds_pressure_and_holds_the_volume() {
    let mechanism = Mechanism::reference_syringe(Syringe::ML_50);
    let per_step = mechanism.nominal_ml_per_native_step();
    let mut physics = Physics::new(mechanism, LineModel::ADULT, 50.0);
    physics.set_faults(Faults {
        downstream: Occlusion::Full,
        ..Faults::NONE
    });
    run(&mut physics, 25.0 / 3600.0 / per_step, 120.0);
    let occluded = physics.truth();
    // About 0.8 mL pushed into a closed line of 0.0025 mL/mmHg: over 300 mmHg.
    assert!(
        occluded.downstream_pressure_mmhg > 300.0,
        "{}",
        occluded.downstream_pressure_mmhg
    );
    assert!(occluded.delivered_ml < 0.001);
    physics.set_faults(Faults::NONE);
    run(&mut physics, 0.0, 30.0);
    let released = physics.truth();
    assert!(
        released.delivered_ml > 0.75,
        "the stored volume is released as a bolus: {}",
        released.delivered_ml
    );
}

#[test]
fn the_peristaltic_pump_loses_stroke_volume_under_back_pressure_and_starves_when_upstream_closes() {
    let mechanism = Mechanism::reference_peristaltic();
    let per_step = mechanism.nominal_ml_per_native_step();
    let steps_per_second = 100.0 / 3600.0 / per_step;
    let mut free = Physics::new(mechanism, LineModel::ADULT, 1000.0);
    run(&mut free, steps_per_second, 360.0);
    run(&mut free, 0.0, 30.0);
    let delivered = free.truth().delivered_ml;
    assert!((delivered - 10.0).abs() < 0.05, "{delivered}");

    let mut upstream = Physics::new(mechanism, LineModel::ADULT, 1000.0);
    upstream.set_faults(Faults {
        upstream: Occlusion::Full,
        ..Faults::NONE
    });
    run(&mut upstream, steps_per_second, 360.0);
    let starved = upstream.truth();
    assert!(
        starved.upstream_pressure_mmhg < -100.0,
        "{}",
        starved.upstream_pressure_mmhg
    );
    assert!(starved.delivered_ml < 1.0, "{}", starved.delivered_ml);
}

#[test]
fn air_passes_the_sensor_and_displaces_fluid() {
    let mechanism = Mechanism::reference_peristaltic();
    let per_step = mechanism.nominal_ml_per_native_step();
    let mut physics = Physics::new(mechanism, LineModel::ADULT, 1000.0);
    assert!(physics.inject_air(100.0));
    assert!(physics.truth().air_at_sensor);
    run(&mut physics, 100.0 / 3600.0 / per_step, 10.0);
    let truth = physics.truth();
    assert!(
        !truth.air_at_sensor,
        "a 100 uL bubble passes in under 4 s at 100 mL/h"
    );
    assert!((truth.air_delivered_ml - 0.1).abs() < 1e-9);
    for _ in 0..MAX_BUBBLES {
        physics.inject_air(1.0);
    }
    assert!(!physics.inject_air(1.0), "the bubble queue is bounded");
    assert!(!physics.inject_air(-1.0));
}

#[test]
fn the_syringe_stops_at_its_end_and_the_bag_runs_dry_into_air() {
    let mechanism = Mechanism::reference_syringe(Syringe::ML_10);
    let mut physics = Physics::new(mechanism, LineModel::ADULT, 1.0);
    run(&mut physics, 5_000_000.0, 120.0);
    assert!(physics.motor_blocked());
    assert!(physics.truth().reservoir_ml < 1e-9);
    run(&mut physics, 0.0, 30.0);
    assert!((physics.truth().delivered_ml - 1.0).abs() < 0.002);

    let mut bag = Physics::new(Mechanism::reference_peristaltic(), LineModel::ADULT, 0.5);
    run(&mut bag, 400_000.0, 60.0);
    let truth = bag.truth();
    assert!(truth.air_at_sensor && truth.reservoir_ml == 0.0);
    assert!(truth.air_delivered_ml > 0.0);
}

#[test]
fn a_stall_blocks_the_rotor_and_an_open_door_pumps_nothing() {
    let mut physics = Physics::new(Mechanism::reference_peristaltic(), LineModel::ADULT, 100.0);
    physics.set_faults(Faults {
        motor_stall: true,
        ..Faults::NONE
    });
    assert!(physics.motor_blocked());
    physics.set_faults(Faults {
        door_open: true,
        ..Faults::NONE
    });
    run(&mut physics, 400_000.0, 10.0);
    assert!(physics.truth().delivered_ml.abs() < 1e-9);
    assert!(physics.truth().door_open);
}

#[test]
fn the_encoder_follows_the_rotor() {
    let mut physics = Physics::new(Mechanism::reference_peristaltic(), LineModel::ADULT, 100.0);
    // Two camshaft turns: 2 x 200 x 256 native steps.
    physics.advance(0.001, 102_400);
    assert_eq!(physics.encoder_counts(4000), 8000);
}

#[test]
fn two_hours_on_the_virtual_clock_conserve_volume() {
    let mechanism = Mechanism::reference_syringe(Syringe::ML_50);
    let per_step = mechanism.nominal_ml_per_native_step();
    let mut physics = Physics::new(mechanism, LineModel::ADULT, 50.0);
    // 20 mL/h for two hours in 10 ms steps: 720 000 steps of physics.
    let steps_per_tick = 20.0 / 3600.0 / 100.0 / per_step;
    for tick in 1..=720_000_i64 {
        physics.advance(0.01, (steps_per_tick * tick as f64) as i64);
    }
    let truth = physics.truth();
    assert!((truth.time_s - 7200.0).abs() < 1e-6);
    let in_line = (truth.downstream_pressure_mmhg - LineModel::ADULT.venous_pressure_mmhg)
        * LineModel::ADULT.downstream_compliance_ml_per_mmhg;
    let accounted = truth.delivered_ml + in_line + truth.reservoir_ml;
    assert!(
        (accounted - 50.0).abs() < 1e-9,
        "volume is conserved: {accounted}"
    );
    assert!(
        (truth.delivered_ml - 40.0 / 1.0).abs() < 0.05,
        "{}",
        truth.delivered_ml
    );
}
