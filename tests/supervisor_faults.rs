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
use perfuse_drivers::sim::{Board, SimPaths, SimWiring};

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
        let supervisor = Command::new(env!("CARGO_BIN_EXE_perfuse-supervisor"))
            .arg("--sim-dir")
            .arg(dir.path())
            .arg("--profile")
            .arg(root().join("assets/platforms/perfuse-s50-syringe.toml"))
            .arg("--keys")
            .arg(root().join("assets/config/trusted-keys.toml"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let socket = dir.path().join("supervisor.sock");
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the supervisor did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
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

    /// Injects `fault` into the app and measures, from the board: ms until
    /// ENABLE is off, mL the motor moved after the fault, and whether the
    /// buzzer sounded within a second.
    fn measure(&self, app: &mut Child, fault: Signal) -> (f64, f64, bool) {
        let memory = self.board.memory();
        let pid = Pid::from_raw(i32::try_from(app.id()).unwrap());
        let rotor_at_fault = memory.rotor_actual.load(Ordering::Acquire);
        let at_fault = monotonic_us();
        kill(pid, fault).unwrap();
        while memory.motor_enabled() {
            assert!(
                monotonic_us() - at_fault < 2_000_000,
                "the motor was never disabled after {fault}"
            );
            std::hint::spin_loop();
        }
        let disabled_after_ms = (monotonic_us() - at_fault) as f64 / 1000.0;
        let moved = memory.rotor_actual.load(Ordering::Acquire) - rotor_at_fault;
        let buzzer_line = SimWiring::REFERENCE.buzzer;
        let until = Instant::now() + Duration::from_secs(1);
        let mut sounded = false;
        while Instant::now() < until && !sounded {
            sounded = memory.level(buzzer_line);
            std::thread::sleep(Duration::from_micros(500));
        }
        (
            disabled_after_ms,
            moved as f64 * ML_PER_NATIVE_STEP,
            sounded,
        )
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.supervisor.kill();
        let _ = self.supervisor.wait();
    }
}

fn check(kind: &str, results: &[(f64, f64, bool)], limit_ms: f64) {
    let worst_ms = results.iter().map(|result| result.0).fold(0.0, f64::max);
    let worst_ml = results.iter().map(|result| result.1).fold(0.0, f64::max);
    // A deadline's worth at 25 mL/h, counted from the last heartbeat.
    let allowed_ml = 25.0 / 3_600_000.0 * (limit_ms + HEARTBEAT_MS);
    eprintln!("{kind}: {} trials, motor off after at most {worst_ms:.1} ms, at most {:.3} uL moved after the fault", results.len(), worst_ml * 1000.0);
    for (trial, (ms, ml, sounded)) in results.iter().enumerate() {
        assert!(
            *ms <= limit_ms,
            "{kind} #{trial}: motor off after {ms:.1} ms (limit {limit_ms} ms)"
        );
        assert!(
            *ml <= allowed_ml,
            "{kind} #{trial}: {:.3} uL moved after the fault (limit {:.3})",
            ml * 1000.0,
            allowed_ml * 1000.0
        );
        assert!(
            *sounded,
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
        results.push(stack.measure(&mut app, Signal::SIGKILL));
        app.wait().unwrap();
    }
    // The connection closes with the process: the supervisor cuts at once
    // (measured: a few ms for the kernel to close the socket and one
    // supervisor period), far inside the 50 ms deadline.
    check("kill -9 the app", &results, 20.0);
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
        results.push(stack.measure(&mut app, Signal::SIGSTOP));
        let pid = Pid::from_raw(i32::try_from(app.id()).unwrap());
        kill(pid, Signal::SIGCONT).unwrap();
        app.kill().unwrap();
        app.wait().unwrap();
    }
    // Silent heartbeats: the deadline runs from the last one, which came at most
    // one heartbeat period before the stop; two supervisor periods and
    // scheduling slack on a shared machine on top.
    check(
        "SIGSTOP the app",
        &results,
        DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
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
            .rsplit("silent ")
            .next()
            .unwrap()
            .trim_end_matches(" us")
            .parse()
            .unwrap();
        assert!(
            silent_us / 1000.0 <= DEADLINE_MS + 2.0 * SUPERVISOR_PERIOD_MS + 6.0,
            "{line}"
        );
    }
}
