//! `perfuse-sim` as a real process: the real drivers in this (test) process
//! drive the shared board while the simulator runs the physics in real time;
//! every fault is injected and cleared through the command socket, and the
//! ground truth read back. The watchdog and a dying supervisor behave as
//! hardware would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse_testkit::motor;

use motor::configured_stepper;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embedded_hal::digital::OutputPin;
use perfuse_drivers::tmc5160::Direction;
use perfuse_sim::{Board, SimClient, SimPaths, SimPin, SimWatchdog, SimWiring};
use serde_json::Value;

struct Sim {
    child: Child,
    paths: SimPaths,
    _dir: tempfile::TempDir,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let paths = SimPaths::in_dir(dir.path());
        let child = Command::new(env!("CARGO_BIN_EXE_perfuse-sim"))
            .arg("--dir")
            .arg(dir.path())
            .arg("run")
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while SimClient::connect(&paths).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "perfuse-sim did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sim {
            child,
            paths,
            _dir: dir,
        }
    }

    fn board(&self) -> Arc<Board> {
        Board::open(&self.paths.board()).unwrap()
    }

    fn send(&self, command: &str) -> Result<Value, String> {
        SimClient::connect(&self.paths)?.send(command)
    }

    fn truth(&self) -> Value {
        self.send("truth").unwrap()
    }

    /// Polls the truth until `check` holds, for at most 3 s.
    fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.wait_up_to(Duration::from_secs(3), what, check)
    }

    fn wait_up_to(&self, limit: Duration, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let truth = self.truth();
            if check(&truth) {
                return truth;
            }
            assert!(
                started.elapsed() < limit,
                "timed out waiting for {what}: {truth}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn number(truth: &Value, field: &str) -> f64 {
    truth[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} missing from {truth}"))
}

#[test]
fn the_real_drivers_move_fluid_through_the_simulator_process() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&["--mechanism", "syringe", "--syringe", "50"]);
    let board = sim.board();
    let mut pins = configured_stepper(&board);
    let mut enable = SimPin::new(board.clone(), SimWiring::REFERENCE.motor_enable);
    enable.set_low().unwrap();
    // 20 000 STEP edges at 16 microsteps: 1.25 lead-screw turns, 1.25 mm, 0.694 mL
    // less the 0.02 mm of backlash.
    for _ in 0..20_000 {
        pins.step(Direction::Forward).unwrap();
    }
    let area = std::f64::consts::PI * 26.59 * 26.59 / 4.0;
    let expected = (1.25 - 0.02) * area / 1000.0;
    // The burst drains into the patient through the line's 1.35 s time constant.
    let truth = sim.wait_up_to(Duration::from_secs(20), "the line to drain", |truth| {
        (number(truth, "delivered_ml") - expected).abs() < 0.003
    });
    assert_eq!(truth["rotor_actual"], truth["rotor_commanded"]);
    assert_eq!(truth["motor_enabled"], Value::Bool(true));
}

/// Whether the ground truth shows an injected fault.
type FaultVisible = dyn Fn(&Value) -> bool;

#[test]
fn every_fault_is_injected_and_cleared_through_the_socket() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&["--mechanism", "volumetric"]);
    let cases: [(&str, &str, &FaultVisible); 9] = [
        ("occlude downstream full", "clear downstream", &|t| {
            t["faults"]["downstream"] == "full"
        }),
        ("occlude downstream partial", "clear downstream", &|t| {
            t["faults"]["downstream"] == "partial"
        }),
        ("occlude upstream full", "clear upstream", &|t| {
            t["faults"]["upstream"] == "full"
        }),
        ("air 200", "clear air", &|t| t["air_at_sensor"] == true),
        ("door open", "door closed", &|t| t["door_open"] == true),
        ("stall on", "stall off", &|t| t["motor_blocked"] == true),
        ("encoder frozen", "encoder working", &|t| {
            t["faults"]["encoder_frozen"] == true
        }),
        (
            "chip overtemperature on",
            "chip overtemperature off",
            &|t| t["faults"]["chip_faults"] == 1,
        ),
        ("reservoir 0", "reservoir 500", &|t| {
            t["air_at_sensor"] == true
        }),
    ];
    let clean = sim.truth();
    assert_eq!(clean["air_at_sensor"], false);
    for (inject, clear, present) in cases {
        sim.send(inject).unwrap();
        let truth = sim.truth();
        assert!(present(&truth), "after `{inject}`: {truth}");
        sim.send(clear).unwrap();
        let truth = sim.truth();
        assert!(!present(&truth), "after `{clear}`: {truth}");
    }
    sim.send("door open").unwrap();
    sim.send("occlude upstream partial").unwrap();
    sim.send("clear all").unwrap();
    let truth = sim.truth();
    assert_eq!(truth["door_open"], false);
    assert_eq!(truth["faults"]["upstream"], "none");
}

#[test]
fn bad_commands_get_a_clear_error_and_change_nothing() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&[]);
    let error = sim.send("occlude sideways full").unwrap_err();
    assert!(error.contains("upstream or downstream"), "{error}");
    let error = sim.send("air -3").unwrap_err();
    assert!(error.contains("between 0 and"), "{error}");
    let error = sim.send("launch").unwrap_err();
    assert!(error.contains("commands: truth"), "{error}");
    let truth = sim.truth();
    assert_eq!(truth["faults"]["downstream"], "none");
    assert_eq!(truth["air_at_sensor"], false);
}

#[test]
fn the_ctl_command_line_prints_the_truth_and_fails_on_bad_input() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&[]);
    let ctl = |words: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_perfuse-sim"))
            .arg("--dir")
            .arg(&sim.paths.dir)
            .arg("ctl")
            .args(words)
            .output()
            .unwrap()
    };
    let output = ctl(&["truth"]);
    assert!(output.status.success());
    let truth: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(truth["reservoir_ml"], 50.0);
    let output = ctl(&["door", "ajar"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("door takes open or closed"));
}

#[test]
fn an_unfed_watchdog_resets_the_board_and_kills_the_processes_on_it() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&[]);
    let board = sim.board();
    let mut supervisor = Command::new("sleep").arg("60").spawn().unwrap();
    let mut app = Command::new("sleep").arg("60").spawn().unwrap();
    board
        .memory()
        .supervisor_pid
        .store(supervisor.id(), Ordering::Release);
    board.memory().app_pid.store(app.id(), Ordering::Release);
    let mut enable = SimPin::new(board.clone(), SimWiring::REFERENCE.motor_enable);
    enable.set_low().unwrap();
    let mut watchdog = SimWatchdog::open(board.clone(), 200);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(50));
        watchdog.feed();
    }
    assert_eq!(
        sim.truth()["watchdog_expiries"],
        0,
        "a fed watchdog does not bite"
    );
    let truth = sim.wait_for("the watchdog to expire", |truth| {
        truth["watchdog_expiries"] == 1
    });
    assert_eq!(truth["motor_enabled"], false);
    assert_eq!(truth["resets"], 1);
    let killed = |child: &mut Child| {
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "process not killed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    assert!(!killed(&mut supervisor).success());
    assert!(!killed(&mut app).success());
}

#[test]
fn when_the_supervisor_dies_its_enable_line_falls_back_to_disabled() {
    let _machine = crate::machine::shared();
    let sim = Sim::start(&[]);
    let board = sim.board();
    let mut supervisor = Command::new("sleep").arg("60").spawn().unwrap();
    board
        .memory()
        .supervisor_pid
        .store(supervisor.id(), Ordering::Release);
    let mut enable = SimPin::new(board.clone(), SimWiring::REFERENCE.motor_enable);
    enable.set_low().unwrap();
    assert_eq!(sim.truth()["motor_enabled"], true);
    supervisor.kill().unwrap();
    supervisor.wait().unwrap();
    sim.wait_for("the enable line to be released", |truth| {
        truth["motor_enabled"] == false
    });
}

/// `perfuse-platform check` against the identity a running simulator presents.
fn platform_check(sim: &Sim, profile: &str) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse-platform"))
        .arg("check")
        .arg("--identity")
        .arg(sim.paths.hat())
        .arg("--profile")
        .arg(root.join("assets/platforms").join(profile))
        .arg("--keys")
        .arg(root.join("assets/config/trusted-keys.toml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_simulated_boards_identity_is_cross_checked_against_the_installed_profile() {
    let _machine = crate::machine::shared();
    let syringe = Sim::start(&["--mechanism", "syringe"]);
    let (ok, text) = platform_check(&syringe, "perfuse-s50-syringe.toml");
    assert!(ok, "{text}");
    assert!(
        text.contains("verified: Perfuse S50 syringe pump"),
        "{text}"
    );
    // F1: the volumetric platform's profile installed on a syringe pump.
    let (ok, text) = platform_check(&syringe, "perfuse-v1-volumetric.toml");
    assert!(!ok);
    assert!(
        text.contains("the mechanism profile is for Perfuse V1 volumetric pump"),
        "{text}"
    );
    assert!(text.contains("Do not use this pump"), "{text}");
    drop(syringe);

    let volumetric = Sim::start(&["--mechanism", "volumetric"]);
    assert!(platform_check(&volumetric, "perfuse-v1-volumetric.toml").0);
    assert!(!platform_check(&volumetric, "perfuse-s50-syringe.toml").0);
    drop(volumetric);

    let unknown = Sim::start(&["--identity", "unknown"]);
    let (ok, text) = platform_check(&unknown, "perfuse-s50-syringe.toml");
    assert!(!ok && text.contains("unknown hardware"), "{text}");
    drop(unknown);

    let missing = Sim::start(&["--identity", "missing"]);
    let (ok, text) = platform_check(&missing, "perfuse-s50-syringe.toml");
    assert!(
        !ok && text.contains("is the pump carrier board fitted?"),
        "{text}"
    );
}

#[test]
fn a_bad_board_configuration_stops_the_simulator_with_the_reason() {
    let _machine = crate::machine::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("board.toml");
    let reference = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config/board.toml"),
    )
    .unwrap();
    std::fs::write(&config, reference.replacen("door = 6 ", "door = 23 ", 1)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse-sim"))
        .arg("--dir")
        .arg(dir.path())
        .args(["run", "--board-config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pins.step and pins.door both use GPIO 23"),
        "{stderr}"
    );
}
