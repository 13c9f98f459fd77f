//! `cargo run --release` as a user runs it: the launcher brings up the
//! simulated board and the supervisor as their own processes, and the app
//! takes commands; an infusion starts, the supervisor enables the motor, and
//! everything is cleaned up on quit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `perfuse --headless` with its event log in `data` (not the user's home).
fn headless_launcher(data: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_perfuse"))
        .arg("--headless")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PERFUSE_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn the_launcher_runs_the_whole_stack_and_cleans_up() {
    let _machine = crate::machine::shared();
    // The event log in a folder of the test's own, not the user's home.
    let data = tempfile::tempdir().unwrap();
    let mut perfuse = headless_launcher(data.path());
    let mut stdin = perfuse.stdin.take().unwrap();
    let stdout = BufReader::new(perfuse.stdout.take().unwrap());
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let wait_for = |needle: &str, seen: &mut Vec<String>| {
        let started = Instant::now();
        while !seen.iter().any(|line: &String| line.contains(needle)) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no \"{needle}\" in:\n{}",
                seen.join("\n")
            );
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
                seen.push(line);
            }
        }
    };
    wait_for("ready", &mut seen);
    let board = seen
        .iter()
        .find_map(|line| line.strip_prefix("Simulated board (syringe): "))
        .unwrap()
        .to_owned();
    assert!(seen
        .iter()
        .any(|line| line.starts_with("Supervisor: process")));
    assert!(
        seen.iter()
            .any(|line| line.contains("platform Perfuse S50 syringe pump verified")),
        "{seen:?}"
    );
    writeln!(stdin, "load 25 5").unwrap();
    writeln!(stdin, "start").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    writeln!(stdin, "status").unwrap();
    wait_for("status {\"mode\":\"Delivering\"", &mut seen);
    // The supervisor really enabled the motor: the board moved.
    let truth = Command::new(env!("CARGO_BIN_EXE_perfuse-sim"))
        .args(["--dir", &board, "ctl", "truth"])
        .output()
        .unwrap();
    let truth: serde_json::Value = serde_json::from_slice(&truth.stdout).unwrap();
    assert_eq!(truth["motor_enabled"], true, "{truth}");
    assert!(truth["rotor_actual"].as_i64().unwrap() > 0);
    writeln!(stdin, "quit").unwrap();
    let status = perfuse.wait().unwrap();
    assert!(status.success());
    assert!(
        !std::path::Path::new(&board).exists(),
        "the board folder was left behind"
    );
    // The history outlives the board: this run, from power on to power off.
    let log = perfuse::store::EventLog::open(&data.path().join("events.db")).unwrap();
    let kinds: Vec<&str> = log
        .events(0, i64::MAX, &[])
        .unwrap()
        .iter()
        .map(|recorded| recorded.event.kind().name())
        .collect();
    for kind in ["power_on", "platform_check", "program_started", "power_off"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(kinds.last(), Some(&"power_off"), "{kinds:?}");
}

#[test]
fn a_launcher_killed_outright_takes_its_board_and_supervisor_with_it() {
    let _machine = crate::machine::shared();
    let data = tempfile::tempdir().unwrap();
    let mut perfuse = headless_launcher(data.path());
    let mut lines = BufReader::new(perfuse.stdout.take().unwrap()).lines();
    let (mut board, mut supervisor) = (None, None);
    while board.is_none() || supervisor.is_none() {
        let line = lines.next().unwrap().unwrap();
        if let Some(dir) = line.strip_prefix("Simulated board (syringe): ") {
            board = Some(std::path::PathBuf::from(dir));
        }
        if let Some(rest) = line.strip_prefix("Supervisor: process ") {
            let pid: i32 = rest.split(',').next().unwrap().parse().unwrap();
            supervisor = Some(nix::unistd::Pid::from_raw(pid));
        }
    }
    let (board, supervisor) = (board.unwrap(), supervisor.unwrap());
    assert!(board.exists());
    // The simulator removes its shared memory and socket as it stops (the
    // emptied folder was the launcher's to remove). Both are there before
    // the kill: once the launcher is gone, the simulator may be faster than
    // this test to remove them.
    let memory = board.join("board");
    let socket = board.join("control.sock");
    assert!(memory.exists() && socket.exists());
    // SIGKILL: the launcher cleans up nothing itself.
    perfuse.kill().unwrap();
    perfuse.wait().unwrap();
    let started = Instant::now();
    while nix::sys::signal::kill(supervisor, None).is_ok() || memory.exists() || socket.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "left behind: supervisor alive {}, board memory {}, control socket {}",
            nix::sys::signal::kill(supervisor, None).is_ok(),
            memory.exists(),
            socket.exists()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&board);
}

#[test]
fn without_a_display_the_launcher_says_so_and_starts_nothing() {
    let _machine = crate::machine::shared();
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("no display") && error.contains("--headless"),
        "{error}"
    );
}

#[test]
fn unknown_options_are_refused_with_the_allowed_ones() {
    let _machine = crate::machine::shared();
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse"))
        .args(["--language", "fr"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("unknown language \"fr\": the pump speaks en, de"),
        "{error}"
    );
}

#[test]
fn the_device_app_refuses_bad_options_and_a_missing_display_clearly() {
    let _machine = crate::machine::shared();
    let run = |args: &[&str], display: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_perfuse-app"));
        command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
        if display {
            command.env("DISPLAY", ":0");
        } else {
            command.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let error = run(&["--language", "fr"], true);
    assert!(
        error.contains("--language: unknown language \"fr\": the pump speaks en, de"),
        "{error}"
    );
    // A window needs a desktop session; the device's own display is KMS.
    let error = run(&["--backend", "sim", "--display", "window"], false);
    assert!(
        error.contains("--display window: no display") && error.contains("--display kms"),
        "{error}"
    );
    // The default is the panel through DRM/KMS, which this machine lacks
    // (or this build: the kms feature).
    let error = run(&["--backend", "sim", "--panel-wait", "0"], true);
    let kms_missing = if cfg!(feature = "kms") {
        "--display kms: no DRM/KMS display: /dev/dri has no card device"
    } else {
        "--display kms: this perfuse-app was built without the kms display: rebuild with --features kms"
    };
    if std::path::Path::new("/dev/dri").exists() && cfg!(feature = "kms") {
        eprintln!("this machine has /dev/dri: the missing-panel message is not checked");
    } else {
        assert!(error.contains(kms_missing), "{error}");
    }
    let error = run(&["--backend", "tablet"], true);
    assert!(
        error.contains("possible values: sim, rpi, linux"),
        "{error}"
    );
}
