//! The alarm volume end to end, with real processes on the simulated board:
//! what the nurse sets travels in the heartbeat to the supervisor, which
//! drives the buzzer's attenuator lines (read back from the board), never
//! below the high-priority floor, and at the loudest once it has tripped.
//! Its own test binary, so its processes do not load the timing trials of
//! tests/stack/supervisor_faults.rs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::faults;

use std::io::Write as _;
use std::time::{Duration, Instant};

use faults::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Waits up to a second for the board's attenuator lines to select `level`.
fn wait_for_volume(stack: &Stack, level: u8, what: &str) {
    let memory = stack.board.memory();
    let until = Instant::now() + Duration::from_secs(1);
    while memory.buzzer_volume().level() != level {
        assert!(
            Instant::now() < until,
            "{what}: the attenuators select level {}, not {level}\n{}",
            memory.buzzer_volume().level(),
            stack.log()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn the_buzzer_sounds_at_the_nurses_volume_never_below_the_high_priority_floor_and_loudest_after_a_trip(
) {
    let _machine = crate::machine::shared();
    use perfuse_heartbeat::protocol::{AlarmLevel, AlarmVolume, Kind};
    let stack = Stack::start();
    let mut app = FakeApp::delivering(&stack, 900);
    let beat = |app: &mut FakeApp, alarm: AlarmLevel, level: u8, expected: u8, what: &str| {
        app.alarm = alarm;
        app.volume = AlarmVolume::new(level).unwrap();
        let until = Instant::now() + Duration::from_millis(200);
        while Instant::now() < until {
            app.send(Kind::Heartbeat, 0);
            std::thread::sleep(Duration::from_millis(10));
        }
        wait_for_volume(&stack, expected, what);
    };
    beat(
        &mut app,
        AlarmLevel::Medium,
        1,
        1,
        "medium alarm at level 1",
    );
    beat(&mut app, AlarmLevel::Low, 2, 2, "low alarm at level 2");
    beat(
        &mut app,
        AlarmLevel::High,
        1,
        3,
        "high alarm set to level 1",
    );
    beat(
        &mut app,
        AlarmLevel::High,
        2,
        3,
        "high alarm set to level 2",
    );
    beat(&mut app, AlarmLevel::High, 4, 4, "high alarm at level 4");
    beat(&mut app, AlarmLevel::None, 1, 1, "no alarm at level 1");
    // The app falls silent: the supervisor trips and sounds at the loudest.
    wait_for_volume(&stack, 4, "after a missed heartbeat");
    let until = Instant::now() + Duration::from_secs(1);
    let mut sounded = false;
    while Instant::now() < until && !sounded {
        sounded = perfuse_testkit::listen::pwm_sounding(&stack.board);
        std::thread::sleep(Duration::from_micros(500));
    }
    assert!(sounded, "the tripped supervisor did not sound the buzzer");
    let log = stack.settled_log();
    assert!(log.contains("TRIP missed heartbeat"), "{log}");
    for level in [1, 2, 4] {
        assert!(
            log.contains(&format!("VOLUME alarm volume set to {level} of 4")),
            "level {level} not logged:\n{log}"
        );
    }
    drop(app);
}

#[test]
fn the_apps_alarm_volume_reaches_the_buzzer_through_the_heartbeat_and_a_crash_makes_it_loudest() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut app = stack.infusing_app(25);
    writeln!(app.stdin.as_mut().unwrap(), "volume 7").unwrap();
    writeln!(app.stdin.as_mut().unwrap(), "volume 1").unwrap();
    wait_for_volume(&stack, 1, "the app set level 1");
    let until = Instant::now() + Duration::from_secs(2);
    while !stack
        .app_output()
        .contains("alarm volume \"7\": the levels are 1 (quietest) to 4 (loudest)")
    {
        assert!(
            Instant::now() < until,
            "level 7 was not refused by name:\n{}",
            stack.app_output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(stack
        .settled_log()
        .contains("VOLUME alarm volume set to 1 of 4"));
    kill(Pid::from_raw(app.id() as i32), Signal::SIGKILL).unwrap();
    let _ = app.wait();
    wait_for_volume(&stack, 4, "after the app was killed");
    assert!(
        stack.settled_log().contains("TRIP app gone"),
        "{}",
        stack.log()
    );
}
