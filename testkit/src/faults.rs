//! The fault-injection stack, shared by `tests/stack/supervisor_faults.rs` (20
//! trials per fault) and `benches/supervisor.rs` (100): the simulator, the
//! supervisor and the app each as its own process, faults injected into
//! them, and every cut measured from the board's ground truth.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use crate::motor;

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use perfuse::stack::SimProcess;
use perfuse_heartbeat::protocol::{AlarmLevel, AlarmVolume, Kind, Message, PumpMode, MESSAGE_LEN};
use perfuse_sim::{chip_fault, Board, SimPaths, SimWiring};
/// The supervisor's heartbeat deadline, and its loop period.
pub const DEADLINE_MS: f64 = 50.0;
pub const SUPERVISOR_PERIOD_MS: f64 = 2.0;
/// Heartbeats are every 10 ms, so the last one came up to 10 ms before the fault.
pub const HEARTBEAT_MS: f64 = 10.0;
/// 50 mL syringe: 0.5553 mL per turn of 256 000 native microsteps.
pub const ML_PER_NATIVE_STEP: f64 = 0.5553 / 256_000.0;
use crate::bins::root;

pub fn monotonic_us() -> u64 {
    let time = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    time.tv_sec() as u64 * 1_000_000 + time.tv_nsec() as u64 / 1000
}

pub struct Stack {
    pub sim: SimProcess,
    pub supervisor: Child,
    pub board: Arc<Board>,
    pub dir: tempfile::TempDir,
}

pub fn spawn_supervisor(dir: &Path, watchdog_ms: u32) -> Child {
    Command::new(crate::bins::binary("perfuse-supervisor"))
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
pub fn wait_ready(dir: &Path, count: usize) {
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
    pub fn start() -> Stack {
        // The board lives in memory, as the launcher puts it.
        let dir = tempfile::tempdir_in(SimPaths::scratch_parent()).unwrap();
        let sim = SimProcess::start(
            &crate::bins::binary("perfuse-sim"),
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
            sim,
            supervisor,
            board,
            dir,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default()
    }

    /// The log once the supervisor's writer thread has caught up: it
    /// writes within milliseconds of the loop, so wait until the file has
    /// not grown for 100 ms (2 s at most).
    pub fn settled_log(&self) -> String {
        let started = Instant::now();
        let mut last = self.log();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.log();
            if now.len() == last.len() || started.elapsed() > Duration::from_secs(2) {
                return now;
            }
            last = now;
        }
    }

    /// Starts the app (perfuse-headless) on this board; its output goes to
    /// app.out, emptied first.
    pub fn app(&self) -> Child {
        self.app_with_store(&self.dir.path().join("events.db"))
    }

    /// Starts the app with its event log at `store` (which may outlive this stack).
    pub fn app_with_store(&self, store: &Path) -> Child {
        self.app_with(
            store,
            &root().join("assets/platforms/perfuse-s50-syringe.toml"),
        )
    }

    /// Starts the app with its event log at `store` and the signed
    /// mechanism profile at `profile` (beside it, `<profile>.sig`).
    pub fn app_with(&self, store: &Path, profile: &Path) -> Child {
        self.app_with_args(store, profile, &[])
    }

    /// Starts the app with the network link's socket at `socket`.
    pub fn app_with_link(&self, socket: &Path) -> Child {
        self.app_with_args(
            &self.dir.path().join("events.db"),
            &root().join("assets/platforms/perfuse-s50-syringe.toml"),
            &[std::ffi::OsStr::new("--link"), socket.as_os_str()],
        )
    }

    /// Starts the app with `extra` arguments after the usual ones.
    pub fn app_with_args(&self, store: &Path, profile: &Path, extra: &[&std::ffi::OsStr]) -> Child {
        let output = std::fs::File::create(self.dir.path().join("app.out")).unwrap();
        Command::new(crate::bins::binary("perfuse-headless"))
            .arg("--sim-dir")
            .arg(self.dir.path())
            .arg("--store")
            .arg(store)
            .arg("--profile")
            .arg(profile)
            .arg("--keys")
            .arg(root().join("assets/config/trusted-keys.toml"))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap()
    }

    /// The app's output so far.
    pub fn app_output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("app.out")).unwrap_or_default()
    }

    /// Starts the app and a 50 mL infusion at `rate_ml_h`; returns once the motor turns.
    pub fn infusing_app(&self, rate_ml_h: u32) -> Child {
        let mut app = self.app();
        self.start_infusing(&mut app, rate_ml_h);
        app
    }

    /// Loads a 50 mL infusion at `rate_ml_h` into `app` and starts it;
    /// returns once the motor turns.
    pub fn start_infusing(&self, app: &mut Child, rate_ml_h: u32) {
        let stdin = app.stdin.as_mut().unwrap();
        writeln!(stdin, "load {rate_ml_h} 50").unwrap();
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
    }

    /// Injects `fault` into the app and measures, from the board: when
    /// ENABLE went off (after the fault, and after the last heartbeat the
    /// supervisor accepted, whose send time its trip record carries), mL the
    /// motor moved after the fault, and whether the buzzer sounded within a second.
    pub fn measure(&self, app: &mut Child, fault: Fault) -> Cut {
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
        let until = Instant::now() + Duration::from_secs(1);
        let mut sounded = false;
        while Instant::now() < until && !sounded {
            sounded = crate::listen::pwm_sounding(&self.board);
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
pub enum Fault {
    Signal(Signal),
    /// The stepper bus hangs: the control thread blocks in a transfer while
    /// the rest of the app runs on.
    StallControlThread,
}

/// One trial, from the board's ground truth.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub from_fault_ms: f64,
    pub from_last_good_ms: f64,
    pub moved_ml: f64,
    pub sounded: bool,
}

/// The send time of the last message the supervisor accepted, from its trip record.
pub fn last_good_sent_us(trip: &str) -> u64 {
    trip.split_once("last good message sent at ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no last good message in the trip record: {trip}"))
}

/// The cut counted from the last good heartbeat: the deadline, two
/// supervisor periods, and scheduling slack on a shared machine.
pub const FROM_LAST_GOOD_LIMIT_MS: f64 = DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0;

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.supervisor.kill();
        let _ = self.supervisor.wait();
    }
}
/// The test process as a misbehaving app: it speaks the protocol itself.
pub struct FakeApp {
    pub connection: uds::UnixSeqpacketConn,
    session: u64,
    sequence: u64,
    /// What its heartbeats ask the buzzer for.
    pub alarm: AlarmLevel,
    pub volume: AlarmVolume,
}

impl FakeApp {
    /// Connects, opens a session and confirms a start: the supervisor enables the motor.
    pub fn delivering(stack: &Stack, session: u64) -> FakeApp {
        let connection =
            uds::UnixSeqpacketConn::connect(stack.dir.path().join("supervisor.sock")).unwrap();
        let mut app = FakeApp {
            connection,
            session,
            sequence: 0,
            alarm: AlarmLevel::None,
            volume: AlarmVolume::LOUDEST,
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

    /// A message claiming `steps` microsteps commanded forward so far.
    pub fn message(&mut self, kind: Kind, steps: u64) -> [u8; MESSAGE_LEN] {
        self.sequence += 1;
        Message {
            kind,
            mode: PumpMode::Delivering,
            session: self.session,
            sequence: self.sequence,
            sent_at_us: monotonic_us(),
            rate_nl_per_h: 25_000_000,
            forward_steps: steps,
            reverse_steps: 0,
            alarm: self.alarm,
            audible: self.alarm != AlarmLevel::None,
            volume: self.volume,
        }
        .encode()
    }

    /// Sends a good message; returns when it was sent (us).
    pub fn send(&mut self, kind: Kind, steps: u64) -> u64 {
        let bytes = self.message(kind, steps);
        let _ = self.connection.send(&bytes);
        monotonic_us()
    }
}

/// Runs `misbehave` (called every 2 ms with the app) after a last good
/// heartbeat; returns ms from that heartbeat until ENABLE is off.
pub fn time_to_cut(
    stack: &Stack,
    app: &mut FakeApp,
    mut misbehave: impl FnMut(&mut FakeApp),
) -> f64 {
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
/// The app's last `status` line, once it answered a fresh `status`.
pub fn app_status(stack: &Stack, app: &mut Child) -> String {
    app_answer(stack, app, "status", "status {")
}

/// Sends the line command `command` to the headless `app` and returns its
/// answer: the next whole line of its output that starts with `prefix`.
/// Only what the app wrote after the command is read.
pub fn app_answer(stack: &Stack, app: &mut Child, command: &str, prefix: &str) -> String {
    use std::io::{Read as _, Seek as _};
    let out = stack.dir.path().join("app.out");
    let from = std::fs::metadata(&out).map(|meta| meta.len()).unwrap_or(0);
    writeln!(app.stdin.as_mut().unwrap(), "{command}").unwrap();
    let started = Instant::now();
    let mut text = String::new();
    loop {
        if let Ok(mut file) = std::fs::File::open(&out) {
            if file.seek(std::io::SeekFrom::Start(from)).is_ok() {
                text.clear();
                let _ = file.read_to_string(&mut text);
            }
        }
        // Only whole lines: the app may be half-way through writing one.
        let whole = text
            .rfind('\n')
            .and_then(|end| text.get(..end))
            .unwrap_or("");
        if let Some(line) = whole.lines().find(|line| line.starts_with(prefix)) {
            return line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the app did not answer {command}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
/// Heartbeats that break the protocol.
#[derive(Debug, Clone, Copy)]
pub enum ProtocolFault {
    /// Random bytes and a heartbeat with a flipped bit (bad CRC).
    Garbage,
    /// The last good heartbeat, sent again and again.
    Replayed,
    /// Twenty heartbeats every 2 ms, far over the flood limit.
    Flooding,
}

/// One trial of a protocol fault from a fresh test app (session `session`):
/// ms from its last good heartbeat to ENABLE off, from the board.
pub fn protocol_trial(stack: &Stack, session: u64, fault: ProtocolFault) -> f64 {
    let mut app = FakeApp::delivering(stack, session);
    match fault {
        ProtocolFault::Garbage => time_to_cut(stack, &mut app, |app| {
            let _ = app.connection.send(&[0x5A; MESSAGE_LEN]);
            let mut corrupt = app.message(Kind::Heartbeat, 0);
            corrupt[20] ^= 0x01;
            let _ = app.connection.send(&corrupt);
        }),
        ProtocolFault::Replayed => {
            let replay = app.message(Kind::Heartbeat, 0);
            let _ = app.connection.send(&replay);
            time_to_cut(stack, &mut app, |app| {
                let _ = app.connection.send(&replay);
            })
        }
        ProtocolFault::Flooding => time_to_cut(stack, &mut app, |app| {
            for _ in 0..20 {
                app.send(Kind::Heartbeat, 0);
            }
        }),
    }
}

/// The motor, driven by the test itself (no app): the driver configured as
/// the app's self-test would, STEP pulsed on demand.
pub struct TestMotor {
    pins: perfuse_drivers::tmc5160::StepDir<perfuse_sim::SimPin, perfuse_sim::SimPin>,
    board: Arc<Board>,
}

impl TestMotor {
    pub fn new(stack: &Stack) -> TestMotor {
        TestMotor {
            pins: motor::configured_stepper(&stack.board),
            board: stack.board.clone(),
        }
    }

    pub fn steps(&mut self, count: u32) {
        for _ in 0..count {
            self.pins
                .step(perfuse_drivers::tmc5160::Direction::Forward)
                .unwrap();
        }
    }
}

impl Drop for TestMotor {
    fn drop(&mut self) {
        use embedded_hal::digital::OutputPin;
        let _ = perfuse_sim::SimPin::new(self.board.clone(), SimWiring::REFERENCE.step).set_low();
    }
}

/// One runaway trial: a test app whose heartbeats claim no motion while the
/// motor turns 2000 microsteps/s; ms until the supervisor cut ENABLE.
pub fn runaway_trial(stack: &Stack, motor: &mut TestMotor, session: u64) -> f64 {
    let mut app = FakeApp::delivering(stack, session);
    let started = monotonic_us();
    let memory = stack.board.memory();
    while memory.motor_enabled() {
        assert!(
            monotonic_us() - started < 5_000_000,
            "the runaway was never caught"
        );
        motor.steps(20);
        app.send(Kind::Heartbeat, 0);
        std::thread::sleep(Duration::from_millis(10));
    }
    let disabled_at = memory.motor_disabled_at_us.load(Ordering::Acquire);
    disabled_at.saturating_sub(started) as f64 / 1000.0
}

/// One kill -9 of the supervisor while the app infuses at `rate_ml_h`:
/// ms until ENABLE was released and mL the motor moved after the kill. The
/// watchdog then resets the board, which takes the app down; a fresh
/// supervisor (watchdog 300 ms) is started for the next trial. `started` is
/// how many supervisors have passed their self-test so far.
pub fn kill_supervisor_trial(stack: &mut Stack, started: usize, rate_ml_h: u32) -> (f64, f64) {
    let memory = stack.board.memory();
    let mut app = stack.infusing_app(rate_ml_h);
    let resets = memory.resets.load(Ordering::Acquire);
    let rotor_at_fault = memory.rotor_actual.load(Ordering::Acquire);
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
    let moved = memory.rotor_actual.load(Ordering::Acquire) - rotor_at_fault;
    // Nobody feeds the watchdog: the board resets and takes the app down.
    // (Poll: `wait` would close the app's stdin and let it quit by itself.)
    let waiting = Instant::now();
    let status = loop {
        if let Some(status) = app.try_wait().unwrap() {
            break status;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "the board was never reset"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(!status.success(), "the app survived the board reset");
    assert_eq!(
        memory.resets.load(Ordering::Acquire),
        resets + 1,
        "no board reset"
    );
    assert!(!memory.motor_enabled());
    stack.supervisor = spawn_supervisor(stack.dir.path(), 300);
    wait_ready(stack.dir.path(), started + 1);
    (
        (released_at - at_fault) as f64 / 1000.0,
        moved as f64 * ML_PER_NATIVE_STEP,
    )
}
