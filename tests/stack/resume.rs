//! Resume after an interruption, end to end on the simulated board with
//! real processes: the app is killed mid-infusion, started again, and the
//! interrupted program is there for the nurse (never resumed by itself);
//! resumed, it delivers what was left; stopped, it is gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use perfuse_testkit::faults;

use std::io::Write as _;
use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use faults::*;

/// Waits for the app's `ready` line; returns its output up to then.
fn wait_ready(stack: &Stack) -> String {
    let started = Instant::now();
    loop {
        let output = stack.app_output();
        if output.lines().any(|line| line == "ready") {
            return output;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the app never got ready:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn field(json: &serde_json::Value, path: &[&str]) -> serde_json::Value {
    path.iter()
        .fold(json.clone(), |value, key| value[key].clone())
}

fn say(app: &mut Child, line: &str) {
    writeln!(app.stdin.as_mut().unwrap(), "{line}").unwrap();
}

#[test]
fn a_killed_app_offers_the_interrupted_program_and_resumes_only_when_the_nurse_says() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let memory = stack.board.memory();
    let mut app = stack.infusing_app(25);
    std::thread::sleep(Duration::from_millis(1500));
    // What the pump had counted just before the kill (25 mL/h for ~1.5 s).
    let status: serde_json::Value = serde_json::from_str(
        app_status(&stack, &mut app)
            .strip_prefix("status ")
            .unwrap(),
    )
    .unwrap();
    let counted_nl = status["delivered_nl"].as_i64().unwrap();
    app.kill().unwrap();
    app.wait().unwrap();
    assert!(
        counted_nl > 5_000,
        "barely anything was delivered: {counted_nl} nL"
    );

    let mut app = stack.app();
    let output = wait_ready(&stack);
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix("interrupted "))
        .unwrap_or_else(|| panic!("no interrupted program offered:\n{output}"));
    let interrupted: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(field(&interrupted, &["program", "rate_ml_h"]), "25");
    assert_eq!(field(&interrupted, &["program", "vtbi_ml"]), "50");
    let delivered = field(&interrupted, &["program", "delivered_nl"])
        .as_u64()
        .unwrap();
    let remaining = field(&interrupted, &["program", "remaining_nl"])
        .as_u64()
        .unwrap();
    assert_eq!(delivered + remaining, 50_000_000, "{line}");
    // Progress is kept every 100 ms: the record is no older than that when
    // the status was read (and the pump ran on a little until the kill).
    let per_100_ms_nl = 25_000_000 / 36_000;
    assert!(
        delivered as i64 >= counted_nl - 2 * per_100_ms_nl
            && delivered as i64 <= counted_nl + 2 * per_100_ms_nl,
        "kept {delivered} nL, the pump had counted {counted_nl} nL"
    );
    assert!(
        field(&interrupted, &["why"])
            .as_str()
            .unwrap()
            .contains("without shutting down"),
        "{line}"
    );
    // Never resumed by itself.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !memory.motor_enabled(),
        "the motor came back without the nurse"
    );

    // The nurse resumes: the rest of the program is loaded (re-checked) and started.
    let rotor = memory.rotor_actual.load(Ordering::Acquire);
    say(&mut app, "resume-interrupted");
    say(&mut app, "start");
    let started = Instant::now();
    while !(memory.motor_enabled() && memory.rotor_actual.load(Ordering::Acquire) > rotor + 200) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the resumed program did not run:\n{}",
            stack.app_output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    say(&mut app, "status");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = stack
            .app_output()
            .lines()
            .find_map(|line| line.strip_prefix("status "))
        {
            break serde_json::from_str::<serde_json::Value>(status).unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(10));
    };
    // What is left now is what was left then (rounded down to 0.01 mL), less this run.
    let left_now =
        status["remaining_nl"].as_u64().unwrap() + status["delivered_nl"].as_u64().unwrap();
    assert_eq!(left_now, remaining / 10_000 * 10_000, "{status}");

    // Stopped by the nurse, the program is gone: the next start offers nothing.
    say(&mut app, "stop");
    std::thread::sleep(Duration::from_millis(300));
    say(&mut app, "quit");
    app.wait().unwrap();
    let mut app = stack.app();
    let output = wait_ready(&stack);
    assert!(!output.contains("interrupted "), "{output}");
    say(&mut app, "quit");
    app.wait().unwrap();
}

#[test]
fn a_discarded_interrupted_program_is_gone() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let mut app = stack.infusing_app(25);
    std::thread::sleep(Duration::from_millis(300));
    app.kill().unwrap();
    app.wait().unwrap();
    let mut app = stack.app();
    assert!(wait_ready(&stack).contains("interrupted "));
    say(&mut app, "discard");
    say(&mut app, "resume-interrupted");
    say(&mut app, "quit");
    app.wait().unwrap();
    let output = stack.app_output();
    assert!(output.contains("discarded"), "{output}");
    assert!(
        output.contains("error there is no interrupted program to resume"),
        "{output}"
    );
    let mut app = stack.app();
    assert!(!wait_ready(&stack).contains("interrupted "));
    say(&mut app, "quit");
    app.wait().unwrap();
}

#[test]
fn a_corrupt_event_database_is_replaced_and_the_pump_still_infuses() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    std::fs::write(stack.dir.path().join("events.db"), vec![0x5A_u8; 8192]).unwrap();
    let mut app = stack.infusing_app(25);
    say(&mut app, "quit");
    app.wait().unwrap();
    let output = stack.app_output();
    assert!(
        output.contains("ERROR the event database was corrupt: it was moved to"),
        "{output}"
    );
    let moved = std::fs::read_dir(stack.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("events.db.corrupt-")
        });
    assert!(moved, "the corrupt file is not kept for inspection");
    // The fresh log recorded the fault and this run.
    let log = perfuse::store::EventLog::open(&stack.dir.path().join("events.db")).unwrap();
    let kinds: Vec<&str> = log
        .events(0, i64::MAX, &[])
        .unwrap()
        .iter()
        .map(|r| r.event.kind().name())
        .collect();
    assert_eq!(kinds.first(), Some(&"storage_fault"), "{kinds:?}");
    assert!(kinds.contains(&"program_started"), "{kinds:?}");
}

/// The interrupted program the app offers at its start (after `ready`).
fn offered(stack: &Stack) -> serde_json::Value {
    let output = wait_ready(stack);
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix("interrupted "))
        .unwrap_or_else(|| panic!("no interrupted program offered:\n{output}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn after_a_watchdog_reset_the_program_is_offered() {
    let _machine = crate::machine::shared();
    let mut stack = Stack::start();
    // The supervisor dies; nobody feeds the watchdog; the board resets and
    // takes the app down (a fresh supervisor is started afterwards).
    kill_supervisor_trial(&mut stack, 1, 25);
    let mut app = stack.app();
    let interrupted = offered(&stack);
    assert_eq!(field(&interrupted, &["program", "rate_ml_h"]), "25");
    assert!(
        field(&interrupted, &["program", "delivered_nl"])
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(field(&interrupted, &["why"])
        .as_str()
        .unwrap()
        .contains("without shutting down"));
    assert!(!stack.board.memory().motor_enabled());
    say(&mut app, "quit");
    app.wait().unwrap();
}

#[test]
fn after_a_power_loss_the_program_is_offered_on_a_fresh_board() {
    let _machine = crate::machine::shared();
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("events.db");
    let delivered = {
        let mut stack = Stack::start();
        let mut app = stack.app_with_store(&store);
        stack.start_infusing(&mut app, 25);
        std::thread::sleep(Duration::from_millis(500));
        // Power goes: every process dies at once, the board with them.
        app.kill().unwrap();
        stack.supervisor.kill().unwrap();
        app.wait().unwrap();
        stack.supervisor.wait().unwrap();
        stack
            .board
            .memory()
            .truth_delivered_nl
            .load(Ordering::Acquire)
    };
    let stack = Stack::start();
    let mut app = stack.app_with_store(&store);
    let interrupted = offered(&stack);
    assert_eq!(field(&interrupted, &["program", "vtbi_ml"]), "50");
    let kept = field(&interrupted, &["program", "delivered_nl"])
        .as_u64()
        .unwrap();
    assert!(
        kept > 0,
        "nothing kept; the board had delivered {delivered} nL"
    );
    assert!(!stack.board.memory().motor_enabled());
    say(&mut app, "discard");
    say(&mut app, "quit");
    app.wait().unwrap();
}

/// Makes files immutable (`chattr +i`: even root cannot write them, as on a
/// read-only file system) until dropped.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(paths: &[std::path::PathBuf]) -> Immutable {
        for path in paths {
            let done = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .unwrap();
            assert!(done.success(), "chattr +i {} failed", path.display());
        }
        Immutable(paths.to_vec())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(path)
                .status();
        }
    }
}

#[test]
fn a_log_that_becomes_read_only_raises_the_storage_alarm_and_the_pump_runs_on() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    // The board lives in memory (tmpfs, where chattr does nothing); the
    // event log lives on a disk, as on a pump's SD card.
    let disk = tempfile::tempdir().unwrap();
    let store = disk.path().join("events.db");
    let mut app = stack.app_with_store(&store);
    stack.start_infusing(&mut app, 25);
    let files: Vec<_> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", store.display())))
        .filter(|path| path.exists())
        .collect();
    let read_only = Immutable::set(&files);
    // Writes now fail (progress is saved every 100 ms while flow runs).
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(exit)) = app.try_wait() {
            panic!(
                "the app ended ({exit}) with a read-only log:\n{}",
                stack.app_output()
            );
        }
        let status = app_status(&stack, &mut app);
        if status.contains("StorageFault") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no storage alarm with a read-only log: {status}\n{}",
            stack.app_output()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // A medium-priority alarm; the infusion goes on, and stops when told.
    assert!(status.contains("\"mode\":\"Delivering\""), "{status}");
    assert!(stack.board.memory().motor_enabled());
    assert!(
        stack
            .app_output()
            .contains("ERROR the event log cannot be written"),
        "{}",
        stack.app_output()
    );
    say(&mut app, "stop");
    let started = Instant::now();
    while stack.board.memory().motor_enabled() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stop did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Writable again: the log catches up and says what failed.
    drop(read_only);
    std::thread::sleep(Duration::from_millis(300));
    say(&mut app, "quit");
    app.wait().unwrap();
    let log = perfuse::store::EventLog::open(&store).unwrap();
    assert_eq!(log.integrity().unwrap(), "ok");
    let events: Vec<_> = log
        .events(0, i64::MAX, &[])
        .unwrap()
        .into_iter()
        .map(|recorded| recorded.event)
        .collect();
    let kinds: Vec<&str> = events.iter().map(|event| event.kind().name()).collect();
    assert!(
        kinds.contains(&"program_started"),
        "nothing before is lost: {kinds:?}"
    );
    assert!(
        events.iter().any(|event| matches!(
            event,
            perfuse::store::Event::StorageFault { detail } if detail.contains("writes failed")
        )),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"power_off"), "{kinds:?}");
}
