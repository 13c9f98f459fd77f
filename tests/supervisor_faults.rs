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

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use perfuse::stack::SimProcess;
use perfuse_drivers::sim::{chip_fault, Board, SimPaths, SimWiring};

/// Trials per fault kind.
const TRIALS: usize = 20;
/// The supervisor's heartbeat deadline, and its loop period.
const DEADLINE_MS: f64 = 50.0;
const SUPERVISOR_PERIOD_MS: f64 = 2.0;
/// Heartbeats are every 10 ms, so the last one came up to 10 ms before the fault.
const HEARTBEAT_MS: f64 = 10.0;
/// 50 mL syringe: 0.5553 mL per turn of 256 000 native microsteps.
const ML_PER_NATIVE_STEP: f64 = 0.5553 / 256_000.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn monotonic_us() -> u64 {
    let time = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    time.tv_sec() as u64 * 1_000_000 + time.tv_nsec() as u64 / 1000
}

struct Stack {
    _sim: SimProcess,
    supervisor: Child,
    board: Arc<Board>,
    dir: tempfile::TempDir,
}

fn spawn_supervisor(dir: &Path, watchdog_ms: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_perfuse-supervisor"))
        .arg("--sim-dir")
        .arg(dir)
        .arg("--profile")
        .arg(root().join("assets/platforms/perfuse-s50-syringe.toml"))
        .arg("--keys")
        .arg(root().join("assets/config/trusted-keys.toml"))
        .arg("--watchdog-ms")
        .arg(watchdog_ms.to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the supervisor logged its `count`-th passed self-test.
fn wait_ready(dir: &Path, count: usize) {
    let log = dir.join("supervisor.log");
    let started = Instant::now();
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("START self-test passed")
        .count()
        < count
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the supervisor did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(5));
}

impl Stack {
    fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimProcess::start(
            Path::new(env!("CARGO_BIN_EXE_perfuse-sim")),
            SimPaths::in_dir(dir.path()),
            &[],
            true,
        )
        .unwrap();
        // Ready once its self-test passed (what Type=notify tells systemd).
        let supervisor = spawn_supervisor(dir.path(), 1000);
        wait_ready(dir.path(), 1);
        let board = Board::open(&SimPaths::in_dir(dir.path()).board()).unwrap();
        Stack {
            _sim: sim,
            supervisor,
            board,
            dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default()
    }

    /// Starts the app and an infusion at 25 mL/h; returns once the motor turns.
    fn infusing_app(&self) -> Child {
        let output = std::fs::File::create(self.dir.path().join("app.out")).unwrap();
        let mut app = Command::new(env!("CARGO_BIN_EXE_perfuse-headless"))
            .arg("--sim-dir")
            .arg(self.dir.path())
            .arg("--profile")
            .arg(root().join("assets/platforms/perfuse-s50-syringe.toml"))
            .arg("--keys")
            .arg(root().join("assets/config/trusted-keys.toml"))
            .stdin(Stdio::piped())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let stdin = app.stdin.as_mut().unwrap();
        writeln!(stdin, "load 25 50").unwrap();
        writeln!(stdin, "start").unwrap();
        let memory = self.board.memory();
        let started = Instant::now();
        let rotor = memory.rotor_actual.load(Ordering::Acquire);
        while !(memory.motor_enabled() && memory.rotor_actual.load(Ordering::Acquire) > rotor + 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the app never started infusing (enabled {}):\n{}\nsupervisor log:\n{}",
                memory.motor_enabled(),
                std::fs::read_to_string(self.dir.path().join("app.out")).unwrap_or_default(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        app
    }

    /// Injects `fault` into the app and measures, from the board: when
    /// ENABLE went off (after the fault, and after the last heartbeat the
    /// supervisor accepted, whose send time its trip record carries), mL the
    /// motor moved after the fault, and whether the buzzer sounded within a second.
    fn measure(&self, app: &mut Child, fault: Fault) -> Cut {
        let memory = self.board.memory();
        let pid = Pid::from_raw(i32::try_from(app.id()).unwrap());
        let trips_before = self.log().matches("TRIP").count();
        let rotor_at_fault = memory.rotor_actual.load(Ordering::Acquire);
        let at_fault = monotonic_us();
        match fault {
            Fault::Signal(signal) => kill(pid, signal).unwrap(),
            Fault::StallControlThread => {
                memory
                    .chip_faults
                    .fetch_or(chip_fault::STEPPER_BUS_HANG, Ordering::AcqRel);
            }
        }
        while memory.motor_enabled() {
            assert!(
                monotonic_us() - at_fault < 2_000_000,
                "the motor was never disabled after {fault:?}"
            );
            std::hint::spin_loop();
        }
        let disabled_at = memory.motor_disabled_at_us.load(Ordering::Acquire);
        assert!(
            disabled_at >= at_fault,
            "the board's stamp {disabled_at} is older than the fault {at_fault}"
        );
        let moved = memory.rotor_actual.load(Ordering::Acquire) - rotor_at_fault;
        let buzzer_line = SimWiring::REFERENCE.buzzer;
        let until = Instant::now() + Duration::from_secs(1);
        let mut sounded = false;
        while Instant::now() < until && !sounded {
            sounded = memory.level(buzzer_line);
            std::thread::sleep(Duration::from_micros(500));
        }
        let trip = loop {
            let log = self.log();
            if let Some(line) = log
                .lines()
                .filter(|line| line.contains("TRIP"))
                .nth(trips_before)
            {
                break line.to_owned();
            }
            assert!(
                monotonic_us() - at_fault < 2_000_000,
                "no trip in the supervisor's log after {fault:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        let last_good = last_good_sent_us(&trip);
        Cut {
            from_fault_ms: (disabled_at - at_fault) as f64 / 1000.0,
            from_last_good_ms: disabled_at.saturating_sub(last_good) as f64 / 1000.0,
            moved_ml: moved as f64 * ML_PER_NATIVE_STEP,
            sounded,
        }
    }
}

/// How a trial breaks the app.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Signal(Signal),
    /// The stepper bus hangs: the control thread blocks in a transfer while
    /// the rest of the app runs on.
    StallControlThread,
}

/// One trial, from the board's ground truth.
#[derive(Debug, Clone, Copy)]
struct Cut {
    from_fault_ms: f64,
    from_last_good_ms: f64,
    moved_ml: f64,
    sounded: bool,
}

/// The send time of the last message the supervisor accepted, from its trip record.
fn last_good_sent_us(trip: &str) -> u64 {
    trip.split_once("last good message sent at ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no last good message in the trip record: {trip}"))
}

/// The cut counted from the last good heartbeat: the deadline, two
/// supervisor periods, and scheduling slack on a shared machine.
const FROM_LAST_GOOD_LIMIT_MS: f64 = DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0;

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.supervisor.kill();
        let _ = self.supervisor.wait();
    }
}

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
    let stack = Stack::start();
    let mut results = Vec::new();
    for _ in 0..TRIALS {
        let mut app = stack.infusing_app();
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
        stack.log().matches("TRIP app gone").count(),
        TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn stopping_the_app_trips_the_supervisor_within_the_deadline_every_time() {
    let stack = Stack::start();
    let mut results = Vec::new();
    for _ in 0..TRIALS {
        let mut app = stack.infusing_app();
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
    let log = stack.log();
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

/// The test process as a misbehaving app: it speaks the protocol itself.
struct FakeApp {
    connection: uds::UnixSeqpacketConn,
    session: u64,
    sequence: u64,
}

use perfuse::supervision::protocol::{AlarmLevel, Kind, Message, PumpMode};

impl FakeApp {
    /// Connects, opens a session and confirms a start: the supervisor enables the motor.
    fn delivering(stack: &Stack, session: u64) -> FakeApp {
        let connection =
            uds::UnixSeqpacketConn::connect(stack.dir.path().join("supervisor.sock")).unwrap();
        let mut app = FakeApp {
            connection,
            session,
            sequence: 0,
        };
        app.send(Kind::Hello, 0);
        app.send(Kind::ResumeConfirmed, 0);
        let memory = stack.board.memory();
        let started = Instant::now();
        while !memory.motor_enabled() {
            app.send(Kind::Heartbeat, 0);
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the supervisor never enabled the motor (board resets {}, watchdog expiries {}, supervisor alive {:?}):\n{}",
                memory.resets.load(Ordering::Acquire),
                memory.watchdog_expiries.load(Ordering::Acquire),
                nix::sys::signal::kill(Pid::from_raw(i32::try_from(stack.supervisor.id()).unwrap()), None).is_ok(),
                stack.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        app
    }

    fn message(&mut self, kind: Kind, steps: i64) -> [u8; 56] {
        self.sequence += 1;
        Message {
            kind,
            mode: PumpMode::Delivering,
            session: self.session,
            sequence: self.sequence,
            sent_at_us: monotonic_us(),
            rate_nl_per_h: 25_000_000,
            steps,
            alarm: AlarmLevel::None,
            audible: false,
        }
        .encode()
    }

    /// Sends a good message; returns when it was sent (us).
    fn send(&mut self, kind: Kind, steps: i64) -> u64 {
        let bytes = self.message(kind, steps);
        let _ = self.connection.send(&bytes);
        monotonic_us()
    }
}

/// Runs `misbehave` (called every 2 ms with the app) after a last good
/// heartbeat; returns ms from that heartbeat until ENABLE is off.
fn time_to_cut(stack: &Stack, app: &mut FakeApp, mut misbehave: impl FnMut(&mut FakeApp)) -> f64 {
    let memory = stack.board.memory();
    let last_good = app.send(Kind::Heartbeat, 0);
    while memory.motor_enabled() {
        assert!(
            monotonic_us() - last_good < 2_000_000,
            "the motor was never disabled"
        );
        misbehave(app);
        std::thread::sleep(Duration::from_millis(2));
    }
    // The board stamps the instant DRV_ENN went high: this test process's
    // own polling (not real-time) would add its scheduling delay.
    let disabled_at = memory.motor_disabled_at_us.load(Ordering::Acquire);
    assert!(
        disabled_at >= last_good,
        "the board's stamp is older than the last heartbeat"
    );
    (disabled_at - last_good) as f64 / 1000.0
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

/// The app's last `status` line, once it answered a fresh `status`.
fn app_status(stack: &Stack, app: &mut Child) -> String {
    let out = stack.dir.path().join("app.out");
    let before = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .matches("status {")
        .count();
    writeln!(app.stdin.as_mut().unwrap(), "status").unwrap();
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.matches("status {").count() > before {
            return text
                .lines()
                .rfind(|line| line.starts_with("status {"))
                .unwrap()
                .to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the app did not answer status:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn stalling_only_the_control_thread_trips_the_supervisor_and_the_program_waits_for_the_nurse() {
    let stack = Stack::start();
    let memory = stack.board.memory();
    let mut results = Vec::new();
    for trial in 0..TRIALS {
        let mut app = stack.infusing_app();
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
        stack.log().matches("TRIP missed heartbeat").count(),
        TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn garbage_replayed_and_flooding_heartbeats_count_as_missed() {
    let stack = Stack::start();
    let mut garbage = Vec::new();
    let mut replayed = Vec::new();
    let mut flooded = Vec::new();
    for trial in 0..TRIALS as u64 {
        let mut app = FakeApp::delivering(&stack, 100 + trial * 3);
        garbage.push(time_to_cut(&stack, &mut app, |app| {
            let _ = app.connection.send(&[0x5A; 56]);
            let mut corrupt = app.message(Kind::Heartbeat, 0);
            corrupt[20] ^= 0x01;
            let _ = app.connection.send(&corrupt);
        }));
        drop(app);
        let mut app = FakeApp::delivering(&stack, 101 + trial * 3);
        let replay = app.message(Kind::Heartbeat, 0);
        let _ = app.connection.send(&replay);
        replayed.push(time_to_cut(&stack, &mut app, |app| {
            let _ = app.connection.send(&replay);
        }));
        drop(app);
        let mut app = FakeApp::delivering(&stack, 102 + trial * 3);
        flooded.push(time_to_cut(&stack, &mut app, |app| {
            for _ in 0..20 {
                app.send(Kind::Heartbeat, 0);
            }
        }));
    }
    cut_within_deadline("garbage heartbeats", &garbage);
    cut_within_deadline("replayed heartbeats", &replayed);
    cut_within_deadline("flooding heartbeats", &flooded);
    assert_eq!(
        stack.log().matches("TRIP missed heartbeat").count(),
        3 * TRIALS,
        "{}",
        stack.log()
    );
}

#[test]
fn heartbeats_claiming_less_than_the_motor_does_trip_the_runaway_check() {
    use embedded_hal::digital::OutputPin;
    use perfuse_drivers::sim::{SimChip, SimPin, SimSpi};
    use perfuse_drivers::tmc5160::{
        CurrentScale, Direction, DriverConfig, Microsteps, StepDir, Tmc5160,
    };
    let stack = Stack::start();
    // The motor driver configured, as the app's self-test would.
    Tmc5160::new(SimSpi::new(stack.board.clone(), SimChip::Stepper))
        .configure(&DriverConfig {
            microsteps: Microsteps::try_from(16).unwrap(),
            run_current: CurrentScale::try_from(20).unwrap(),
            hold_current: CurrentScale::try_from(8).unwrap(),
            global_scaler: 0,
        })
        .unwrap();
    let wiring = SimWiring::REFERENCE;
    let mut pins = StepDir::new(
        SimPin::new(stack.board.clone(), wiring.step),
        SimPin::new(stack.board.clone(), wiring.direction),
    );
    let mut detected_ms = Vec::new();
    for trial in 0..TRIALS as u64 {
        let mut app = FakeApp::delivering(&stack, 500 + trial);
        // The heartbeats keep claiming no motion while the motor turns 2000 microsteps/s.
        let started = monotonic_us();
        let memory = stack.board.memory();
        while memory.motor_enabled() {
            assert!(
                monotonic_us() - started < 5_000_000,
                "the runaway was never caught"
            );
            for _ in 0..20 {
                pins.step(Direction::Forward).unwrap();
            }
            app.send(Kind::Heartbeat, 0);
            std::thread::sleep(Duration::from_millis(10));
        }
        detected_ms.push((monotonic_us() - started) as f64 / 1000.0);
    }
    let worst = detected_ms.iter().copied().fold(0.0, f64::max);
    eprintln!("runaway (claims 0, motor at 2000 microsteps/s): {TRIALS} trials, caught within {worst:.0} ms");
    // Two samples of 100 ms apart exceed the 64-microstep tolerance.
    assert!(worst <= 400.0, "caught only after {worst} ms");
    assert_eq!(
        stack.log().matches("TRIP runaway").count(),
        TRIALS,
        "{}",
        stack.log()
    );
    let _ = SimPin::new(stack.board.clone(), wiring.step).set_low();
}

#[test]
fn killing_the_supervisor_disables_the_motor_and_the_watchdog_resets_the_board() {
    let mut stack = Stack::start();
    let memory = stack.board.memory();
    let mut released_ms = Vec::new();
    for trial in 0..TRIALS {
        if trial > 0 {
            // A fresh supervisor (with a short watchdog) for the next trial.
            stack.supervisor = spawn_supervisor(stack.dir.path(), 300);
            wait_ready(stack.dir.path(), trial + 1);
        }
        let mut app = stack.infusing_app();
        let resets = memory.resets.load(Ordering::Acquire);
        let at_fault = monotonic_us();
        stack.supervisor.kill().unwrap();
        stack.supervisor.wait().unwrap();
        // Its lines go back to their pull resistors: ENABLE off at once.
        while memory.motor_enabled() {
            assert!(
                monotonic_us() - at_fault < 1_000_000,
                "the motor stayed enabled without a supervisor"
            );
            std::hint::spin_loop();
        }
        let released_at = memory.motor_disabled_at_us.load(Ordering::Acquire);
        assert!(
            released_at >= at_fault,
            "the board's stamp is older than the kill"
        );
        released_ms.push((released_at - at_fault) as f64 / 1000.0);
        // Nobody feeds the watchdog: the board resets and takes the app down.
        // (Poll: `wait` would close the app's stdin and let it quit by itself.)
        let started = Instant::now();
        let status = loop {
            if let Some(status) = app.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "trial {trial}: the board was never reset"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(
            !status.success(),
            "trial {trial}: the app survived the board reset"
        );
        assert_eq!(
            memory.resets.load(Ordering::Acquire),
            resets + 1,
            "trial {trial}: no board reset"
        );
        assert!(!memory.motor_enabled());
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
