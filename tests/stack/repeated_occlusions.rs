//! DESIGN.md F4: after an occlusion that was not fully resolved, later
//! occlusions did not alarm. Here 1020 occlusions in six variants run on the
//! simulated board through the real controller, and every single one must
//! alarm: resolved; partly resolved; acknowledged but not cleared; silenced;
//! the app restarted mid-alarm; upstream after downstream.
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
use perfuse_sim::{Faults, Occlusion};
use perfuse_testkit::rig::{continuous, Platform, Rig};

/// Each variant runs this many cycles (6 x 170 = 1020).
const CYCLES: usize = 170;
/// An alarm must come within this much simulated time.
const ALARM_LIMIT_S: f64 = 120.0;

fn occlude(rig: &mut Rig, downstream: Occlusion, upstream: Occlusion) {
    rig.simulator.physics_mut().set_faults(Faults {
        downstream,
        upstream,
        ..Faults::NONE
    });
}

/// Runs until `condition` is raised (counting from now); panics if it is not.
fn expect_alarm(rig: &mut Rig, condition: Condition, what: &str) -> f64 {
    rig.events.clear();
    let raised = ControlEvent::Alarm(AlarmChange::Raised(condition));
    let start = rig.now_us;
    while !rig.events.contains(&raised) {
        rig.period(Vec::new());
        let elapsed = (rig.now_us - start) as f64 / 1.0e6;
        assert!(
            elapsed < ALARM_LIMIT_S,
            "{what}: no {condition:?} alarm after {elapsed} s (mode {:?})",
            rig.mode()
        );
    }
    assert_eq!(
        rig.last.commanded_rate.0, 0,
        "{what}: flow continues during the alarm"
    );
    (rig.now_us - start) as f64 / 1.0e6
}

/// Acknowledges, waits until the pump is paused, resumes and lets it settle.
fn acknowledge_and_resume(rig: &mut Rig, what: &str) {
    rig.command(Command::AcknowledgeAlarms);
    let paused = rig.run_until(30.0, |snapshot| snapshot.mode == Mode::Paused);
    assert!(
        paused.is_some(),
        "{what}: not paused after acknowledging (mode {:?}, alarms {:?})",
        rig.mode(),
        rig.last.alarms
    );
    rig.command(Command::Resume);
    assert_eq!(rig.mode(), Mode::Delivering, "{what}: did not resume");
    rig.run_for(12.0);
}

fn started(platform: Platform) -> Rig {
    let mut rig = Rig::new(platform, 10_000).unwrap();
    rig.command(Command::Load(continuous(100.0, 5000.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(12.0);
    rig
}

#[test]
fn a_thousand_occlusions_in_six_variants_all_alarm() {
    let _machine = crate::machine::shared();
    let mut alarms = 0_usize;
    let mut longest = 0.0_f64;

    // 1. Resolved.
    let mut rig = started(Platform::Volumetric);
    for cycle in 0..CYCLES {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("resolved #{cycle}"),
        ));
        alarms += 1;
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "resolved");
    }

    // 2. Partly resolved: the clamp is opened only part way; it must alarm again.
    let mut rig = started(Platform::Volumetric);
    for cycle in 0..CYCLES / 2 {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("partial first #{cycle}"),
        ));
        occlude(&mut rig, Occlusion::Partial, Occlusion::None);
        acknowledge_and_resume(&mut rig, "partly resolved");
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("still partial #{cycle}"),
        ));
        alarms += 2;
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "then resolved");
    }

    // 3. Acknowledged but not cleared: resuming into the same occlusion alarms again.
    let mut rig = started(Platform::Volumetric);
    for cycle in 0..CYCLES / 2 {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("unacknowledged #{cycle}"),
        ));
        acknowledge_and_resume(&mut rig, "acknowledged, still occluded");
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("occluded again #{cycle}"),
        ));
        alarms += 2;
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "cleared");
    }

    // 4. Silenced: every later occlusion still alarms, and sounds.
    let mut rig = started(Platform::Volumetric);
    for cycle in 0..CYCLES {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("silenced #{cycle}"),
        ));
        assert!(
            rig.last
                .announcement
                .is_some_and(|announcement| announcement.audible),
            "silenced #{cycle}: alarm is not sounding"
        );
        alarms += 1;
        rig.command(Command::SilenceAlarms);
        assert!(rig
            .last
            .announcement
            .is_some_and(|announcement| !announcement.audible));
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "silenced");
    }

    // 5. The app restarts in the middle of the alarm, the occlusion still there.
    let mut rig = started(Platform::Syringe50);
    for cycle in 0..CYCLES {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("before restart #{cycle}"),
        ));
        rig.restart().unwrap();
        rig.command(Command::Load(continuous(100.0, 5000.0, End::Stop)));
        rig.command(Command::Start);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("after restart #{cycle}"),
        ));
        alarms += 2;
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "after restart");
        if rig.truth().reservoir_ml < 10.0 {
            // A new syringe, as a nurse would load.
            rig.simulator.physics_mut().set_reservoir(50.0);
        }
    }

    // 6. Upstream after downstream.
    let mut rig = started(Platform::Volumetric);
    for cycle in 0..CYCLES / 2 {
        occlude(&mut rig, Occlusion::Full, Occlusion::None);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::DownstreamOcclusion,
            &format!("downstream #{cycle}"),
        ));
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "downstream cleared");
        occlude(&mut rig, Occlusion::None, Occlusion::Full);
        longest = longest.max(expect_alarm(
            &mut rig,
            Condition::UpstreamOcclusion,
            &format!("upstream #{cycle}"),
        ));
        alarms += 2;
        occlude(&mut rig, Occlusion::None, Occlusion::None);
        acknowledge_and_resume(&mut rig, "upstream cleared");
    }

    assert!(alarms >= 1000, "only {alarms} occlusions");
    eprintln!("{alarms} occlusions, every one alarmed; slowest alarm {longest:.1} s");
}
