//! The supervisor's command line refuses what it cannot honour, before it
//! touches a board: each message says what was wrong and what is allowed.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn supervisor(args: &[&str]) -> (bool, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse-supervisor"))
        .args([
            "--profile",
            &format!("{root}/assets/platforms/perfuse-s50-syringe.toml"),
            "--keys",
            &format!("{root}/assets/config/trusted-keys.toml"),
        ])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_simulated_board_needs_its_folder() {
    let _machine = crate::machine::shared();
    let (ok, stderr) = supervisor(&["--backend", "sim"]);
    assert!(!ok);
    assert!(stderr.contains("--backend sim needs --sim-dir"), "{stderr}");
}

#[test]
fn a_real_board_refuses_the_simulator_folder_and_odd_watchdog_timeouts() {
    let _machine = crate::machine::shared();
    let (ok, stderr) = supervisor(&["--backend", "linux", "--sim-dir", "/tmp"]);
    assert!(!ok);
    assert!(
        stderr.contains("--sim-dir is for --backend sim"),
        "{stderr}"
    );
    for timeout in ["1500", "0", "16000"] {
        let (ok, stderr) = supervisor(&["--backend", "rpi", "--watchdog-ms", timeout]);
        assert!(!ok);
        assert!(
            stderr.contains(&format!("--watchdog-ms {timeout}: a hardware watchdog takes whole seconds, 1000 to 15000 ms")),
            "{stderr}"
        );
    }
}

#[test]
fn a_real_board_without_its_devices_is_refused_by_name() {
    let _machine = crate::machine::shared();
    // This machine has no Pi GPIO and no watchdog: a build with the back-end
    // names the device it could not open; a build without it says how to get it.
    for (backend, built) in [
        ("rpi", cfg!(feature = "rpi")),
        ("linux", cfg!(feature = "linux")),
    ] {
        let (ok, stderr) = supervisor(&[
            "--backend",
            backend,
            "--gpio-chip",
            "/nonexistent/gpiochip0",
            "--watchdog-device",
            "/nonexistent/watchdog",
            "--log",
            "/nonexistent/supervisor.log",
        ]);
        assert!(!ok, "{backend}: {stderr}");
        if built {
            assert!(
                stderr.contains("GPIO")
                    || stderr.contains("gpiochip")
                    || stderr.contains("watchdog"),
                "{backend}: {stderr}"
            );
        } else {
            assert!(
                stderr.contains(&format!(
                    "built without the {backend} back-end: rebuild with --features {backend}"
                )),
                "{backend}: {stderr}"
            );
        }
    }
}

#[test]
fn an_unknown_app_user_is_refused_by_name() {
    let _machine = crate::machine::shared();
    let (ok, stderr) = supervisor(&[
        "--sim-dir",
        "/nonexistent/perfuse-sim",
        "--app-user",
        "no-such-perfuse-user",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--app-user no-such-perfuse-user: no such user on this system"),
        "{stderr}"
    );
}

#[test]
fn the_simulated_board_with_a_real_watchdog_names_the_device_it_cannot_open() {
    let _machine = crate::machine::shared();
    // The emulated-machine boot test runs the supervisor on the simulated
    // carrier with the kernel's /dev/watchdog: the device is opened for
    // real, and a missing one or a timeout it cannot take is refused.
    let dir = tempfile::tempdir_in(perfuse_sim::SimPaths::scratch_parent()).unwrap();
    let _sim = perfuse::stack::SimProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_perfuse-sim")),
        perfuse_sim::SimPaths::in_dir(dir.path()),
        &[],
        true,
    )
    .unwrap();
    let sim_dir = dir.path().to_str().unwrap();
    let with_timeout = |watchdog_ms: &str| {
        supervisor(&[
            "--backend",
            "sim",
            "--sim-dir",
            sim_dir,
            "--watchdog-device",
            "/nonexistent/watchdog",
            "--watchdog-ms",
            watchdog_ms,
        ])
    };
    let (ok, stderr) = with_timeout("2000");
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/watchdog"), "{stderr}");
    let (ok, stderr) = with_timeout("1500");
    assert!(!ok);
    assert!(
        stderr.contains("--watchdog-ms 1500: a hardware watchdog takes whole seconds"),
        "{stderr}"
    );
}
