//! Fault injection with real processes on the simulated board: the
//! simulator, the supervisor and the app each run as their own process; the
//! app infuses at 25 mL/h; then it is killed with SIGKILL, or stopped with
//! SIGSTOP. Each time, measured from the board's ground truth (not the
//! supervisor's word): the motor driver is disabled within the deadline, the
//! motor moves no more than a deadline's worth after the fault, the buzzer
//! sounds, and the trip is in the supervisor's log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse_testkit::faults;

use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use faults::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use perfuse_sim::chip_fault;

/// Trials per fault kind.
const TRIALS: usize = 20;

fn check(kind: &str, results: &[Cut], from_fault_limit_ms: f64) {
    let sorted = |value: fn(&Cut) -> f64| {
        let mut values: Vec<f64> = results.iter().map(value).collect();
        values.sort_by(f64::total_cmp);
        values
    };
    let from_fault = sorted(|cut| cut.from_fault_ms);
    let from_last_good = sorted(|cut| cut.from_last_good_ms);
    let moved = sorted(|cut| cut.moved_ml);
    // A deadline's worth at 25 mL/h.
    let allowed_ml = 25.0 / 3_600_000.0 * FROM_LAST_GOOD_LIMIT_MS;
    eprintln!(
        "{kind}: {} trials, motor off {:.1} ms (median), at most {:.1} ms after the fault; at most {:.1} ms after the last good heartbeat; at most {:.3} uL moved after the fault",
        results.len(),
        from_fault[from_fault.len() / 2],
        from_fault[from_fault.len() - 1],
        from_last_good[from_last_good.len() - 1],
        moved[moved.len() - 1] * 1000.0
    );
    for (trial, cut) in results.iter().enumerate() {
        assert!(
            cut.from_fault_ms <= from_fault_limit_ms,
            "{kind} #{trial}: motor off {:.1} ms after the fault (limit {from_fault_limit_ms} ms)",
            cut.from_fault_ms
        );
        assert!(
            cut.from_last_good_ms <= FROM_LAST_GOOD_LIMIT_MS,
            "{kind} #{trial}: motor off {:.1} ms after the last good heartbeat (limit {FROM_LAST_GOOD_LIMIT_MS} ms)",
            cut.from_last_good_ms
        );
        assert!(
            cut.moved_ml <= allowed_ml,
            "{kind} #{trial}: {:.3} uL moved after the fault (limit {:.3})",
            cut.moved_ml * 1000.0,
            allowed_ml * 1000.0
        );
        assert!(
            cut.sounded,
            "{kind} #{trial}: the supervisor's buzzer did not sound"
        );
    }
}

#[test]
fn killing_the_app_disables_the_motor_at_once_every_time() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut results = Vec::new();
    for _ in 0..TRIALS {
        let mut app = stack.infusing_app(25);
        results.push(stack.measure(&mut app, Fault::Signal(Signal::SIGKILL)));
        app.wait().unwrap();
    }
    // The connection closes with the process and the supervisor cuts at once
    // (typically within a few ms: see the median). Linux closes a dying
    // process's files only after freeing its locked memory, which can take
    // tens of ms; the deadline still bounds it.
    check(
        "kill -9 the app",
        &results,
        DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
    );
    assert_eq!(
        stack.settled_log().matches("TRIP app gone").count(),
        TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn stopping_the_app_trips_the_supervisor_within_the_deadline_every_time() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut results = Vec::new();
    for _ in 0..TRIALS {
        let mut app = stack.infusing_app(25);
        results.push(stack.measure(&mut app, Fault::Signal(Signal::SIGSTOP)));
        let pid = Pid::from_raw(i32::try_from(app.id()).unwrap());
        kill(pid, Signal::SIGCONT).unwrap();
        app.kill().unwrap();
        app.wait().unwrap();
    }
    // Silent heartbeats: the deadline runs from the last one. Measured from
    // the signal, one more heartbeat may still leave before the stop takes
    // effect: the deadline, one heartbeat period, two supervisor periods and
    // scheduling slack on a shared machine.
    check(
        "SIGSTOP the app",
        &results,
        DEADLINE_MS + HEARTBEAT_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
    );
    let log = stack.settled_log();
    assert_eq!(
        log.matches("TRIP missed heartbeat").count(),
        TRIALS,
        "{log}"
    );
    // The supervisor's own count of the silence: the deadline and one of its periods.
    for line in log
        .lines()
        .filter(|line| line.contains("TRIP missed heartbeat"))
    {
        let silent_us: f64 = line
            .split_once("silent ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            silent_us / 1000.0 <= DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
            "{line}"
        );
    }
}

fn cut_within_deadline(kind: &str, times: &[f64]) {
    let limit = DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0;
    let worst = times.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "{kind}: {} trials, motor off at most {worst:.1} ms after the last good heartbeat",
        times.len()
    );
    for (trial, ms) in times.iter().enumerate() {
        assert!(
            *ms >= DEADLINE_MS - 1.0,
            "{kind} #{trial}: cut after {ms:.1} ms, before the deadline?"
        );
        assert!(
            *ms <= limit,
            "{kind} #{trial}: cut after {ms:.1} ms (limit {limit} ms)"
        );
    }
}

#[test]
fn stalling_only_the_control_thread_trips_the_supervisor_and_the_program_waits_for_the_nurse() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let memory = stack.board.memory();
    let mut results = Vec::new();
    for trial in 0..TRIALS {
        let mut app = stack.infusing_app(25);
        results.push(stack.measure(&mut app, Fault::StallControlThread));
        // The rest of the app was alive all along; the bus comes back.
        memory
            .chip_faults
            .fetch_and(!chip_fault::STEPPER_BUS_HANG, Ordering::AcqRel);
        // The app sees the supervisor's cut and alarms; the program is kept
        // and the motor stays off until the nurse resumes.
        let started = Instant::now();
        let status = loop {
            let status = app_status(&stack, &mut app);
            if status.contains("SupervisorTrip") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "trial {trial}: the app never reported the supervisor's cut: {status}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let field = |name: &str| -> i64 {
            status
                .split_once(&format!("\"{name}\":"))
                .and_then(|(_, rest)| rest.split([',', '}']).next())
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(
            field("delivered_nl") + field("remaining_nl"),
            50_000_000,
            "trial {trial}: the 50 mL program is not all there: {status}"
        );
        assert!(field("remaining_nl") > 0, "trial {trial}: {status}");
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !memory.motor_enabled(),
            "trial {trial}: the motor came back on by itself"
        );
        let rotor = memory.rotor_actual.load(Ordering::Acquire);
        // The nurse acknowledges the alarm, checks the program, resumes.
        writeln!(app.stdin.as_mut().unwrap(), "ack").unwrap();
        let started = Instant::now();
        loop {
            let status = app_status(&stack, &mut app);
            if status.contains("\"mode\":\"Paused\"") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "trial {trial}: acknowledged, the pump did not wait paused: {status}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            !memory.motor_enabled(),
            "trial {trial}: the motor came back on before the resume"
        );
        writeln!(app.stdin.as_mut().unwrap(), "resume").unwrap();
        let started = Instant::now();
        while !(memory.motor_enabled() && memory.rotor_actual.load(Ordering::Acquire) > rotor + 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "trial {trial}: the nurse's resume did not restart the infusion: {}\nsupervisor log:\n{}",
                app_status(&stack, &mut app),
                stack.log()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        app.kill().unwrap();
        app.wait().unwrap();
    }
    check(
        "stall the control thread",
        &results,
        DEADLINE_MS + HEARTBEAT_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
    );
    assert_eq!(
        stack.settled_log().matches("TRIP missed heartbeat").count(),
        TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn garbage_replayed_and_flooding_heartbeats_count_as_missed() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut garbage = Vec::new();
    let mut replayed = Vec::new();
    let mut flooded = Vec::new();
    for trial in 0..TRIALS as u64 {
        garbage.push(protocol_trial(
            &stack,
            100 + trial * 3,
            ProtocolFault::Garbage,
        ));
        replayed.push(protocol_trial(
            &stack,
            101 + trial * 3,
            ProtocolFault::Replayed,
        ));
        flooded.push(protocol_trial(
            &stack,
            102 + trial * 3,
            ProtocolFault::Flooding,
        ));
    }
    cut_within_deadline("garbage heartbeats", &garbage);
    cut_within_deadline("replayed heartbeats", &replayed);
    cut_within_deadline("flooding heartbeats", &flooded);
    // The supervisor's log is written by its own thread, within milliseconds.
    let waiting = Instant::now();
    while stack.log().matches("TRIP missed heartbeat").count() < 3 * TRIALS
        && waiting.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        stack.log().matches("TRIP missed heartbeat").count(),
        3 * TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn heartbeats_claiming_less_than_the_motor_does_trip_the_runaway_check() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut motor = TestMotor::new(&stack);
    let detected_ms: Vec<f64> = (0..TRIALS as u64)
        .map(|trial| runaway_trial(&stack, &mut motor, 500 + trial))
        .collect();
    let worst = detected_ms.iter().copied().fold(0.0, f64::max);
    eprintln!("runaway (claims 0, motor at 2000 microsteps/s): {TRIALS} trials, caught within {worst:.0} ms");
    // Two samples of 100 ms apart exceed the 64-microstep tolerance.
    assert!(worst <= 400.0, "caught only after {worst} ms");
    assert_eq!(
        stack.settled_log().matches("TRIP runaway").count(),
        TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn killing_the_supervisor_disables_the_motor_and_the_watchdog_resets_the_board() {
    let _machine = crate::machine::shared();
    let mut stack = Stack::start();
    let board = stack.board.clone();
    let memory = board.memory();
    let mut released_ms = Vec::new();
    for trial in 0..TRIALS {
        let (released, moved_ml) = kill_supervisor_trial(&mut stack, trial + 1, 25);
        // The driver's enable is gone within a few ms: a few microsteps at most.
        assert!(
            moved_ml <= 25.0 / 3_600_000.0 * DEADLINE_MS,
            "trial {trial}: {:.3} uL moved after the kill",
            moved_ml * 1000.0
        );
        released_ms.push(released);
    }
    let worst = released_ms.iter().copied().fold(0.0, f64::max);
    eprintln!("kill -9 the supervisor: {TRIALS} trials, ENABLE released within {worst:.1} ms, board reset by the watchdog every time");
    assert!(
        worst <= DEADLINE_MS,
        "ENABLE released only after {worst} ms"
    );
    assert_eq!(
        memory.watchdog_expiries.load(Ordering::Acquire),
        TRIALS as u32
    );
}

/// Stops the supervisor and the app together for `ms`, as a machine that
/// stands still (a virtual machine's host taking both CPUs, or an
/// interrupt storm): the supervisor is continued first, so it wakes to a
/// silence it did not see before the app can be heard.
fn machine_stands_still(stack: &Stack, app: &std::process::Child, ms: u64) {
    let supervisor = Pid::from_raw(i32::try_from(stack.supervisor.id()).unwrap());
    let app = Pid::from_raw(i32::try_from(app.id()).unwrap());
    kill(app, Signal::SIGSTOP).unwrap();
    kill(supervisor, Signal::SIGSTOP).unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    kill(supervisor, Signal::SIGCONT).unwrap();
    std::thread::sleep(Duration::from_micros(500));
    kill(app, Signal::SIGCONT).unwrap();
}

#[test]
fn a_machine_standing_still_60_ms_does_not_trip_a_healthy_pump_and_150_ms_does() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let memory = stack.board.memory();
    let mut app = stack.infusing_app(25);
    let trips = || stack.log().matches("TRIP").count();
    for trial in 0..TRIALS {
        machine_stands_still(&stack, &app, 60);
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            trips(),
            0,
            "trial {trial}: a 60 ms stand-still of the whole machine tripped:\n{}",
            stack.log()
        );
        assert!(memory.motor_enabled(), "trial {trial}: the motor is off");
    }
    let status = app_status(&stack, &mut app);
    assert!(status.contains("\"mode\":\"Delivering\""), "{status}");
    // Beyond twice the deadline the grace ends: the silence trips, and the
    // log says the supervisor stood still too.
    machine_stands_still(&stack, &app, 150);
    let started = Instant::now();
    while trips() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a 150 ms stand-still did not trip:\n{}",
            stack.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert!(!memory.motor_enabled(), "tripped, the motor is still on");
    let log = stack.log();
    let trip = log.lines().find(|line| line.contains("TRIP")).unwrap();
    assert!(
        trip.contains("TRIP missed heartbeat") && trip.contains("supervisor stood still"),
        "{trip}"
    );
    eprintln!("{trip}");
    app.kill().unwrap();
    app.wait().unwrap();
}
