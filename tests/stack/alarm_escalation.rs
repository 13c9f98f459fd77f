//! Escalation and reminders heard on the real stack (simulator, supervisor,
//! headless app) with a signed profile that tunes them: a program left
//! unstarted gives one quiet reminder pulse per interval; a completed
//! infusion nobody answers sounds medium, then high once the profile's
//! escalation time has passed (and the log says so); acknowledged, it is
//! medium again. The buzzer is listened to on the board, pulse by pulse,
//! so this also checks that the supervisor plays each priority's burst
//! pattern and not a held tone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic,
    clippy::cast_precision_loss
)]

use perfuse_testkit::faults::*;
use perfuse_testkit::library::dev_sign;
use perfuse_testkit::listen::{listen, Pulse};

use std::io::Write as _;
use std::time::{Duration, Instant};

const ESCALATE_S: u64 = 30;
const REMIND_S: u64 = 15;

/// The shipped syringe profile with escalation after 30 s and a reminder
/// every 15 s, signed with the development key.
fn tuned_profile(folder: &std::path::Path) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(
        perfuse_testkit::bins::root().join("assets/platforms/perfuse-s50-syringe.toml"),
    )
    .unwrap();
    let (head, _) = shipped.split_once("[alarms]").unwrap();
    let text =
        format!("{head}[alarms]\nescalate_after_s = {ESCALATE_S}\nreminder_every_s = {REMIND_S}\n");
    let path = folder.join("tuned-profile.toml");
    std::fs::write(&path, &text).unwrap();
    std::fs::write(
        folder.join("tuned-profile.toml.sig"),
        dev_sign(text.as_bytes()),
    )
    .unwrap();
    path
}

fn say(app: &mut std::process::Child, line: &str) {
    writeln!(app.stdin.as_mut().unwrap(), "{line}").unwrap();
}

/// Waits until the app's status lists `condition`; returns when it did.
fn wait_for_alarm(stack: &Stack, app: &mut std::process::Child, condition: &str) -> Instant {
    let started = Instant::now();
    loop {
        let status = app_status(stack, app);
        if status.contains(&format!("\"{condition}\"")) {
            return Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no {condition}: {status}\n{}",
            stack.app_output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn lengths(pulses: &[Pulse]) -> Vec<u64> {
    pulses.iter().map(|pulse| pulse.length_ms).collect()
}

/// Listens for `window`; keeps the pulses heard whole (not cut by the
/// start or the end of listening).
fn whole_pulses(stack: &Stack, window: Duration) -> Vec<Pulse> {
    let window_ms = u64::try_from(window.as_millis()).unwrap();
    listen(&stack.board, window)
        .into_iter()
        .filter(|pulse| pulse.start_ms > 2 && pulse.start_ms + pulse.length_ms + 2 < window_ms)
        .collect()
}

/// Silences between consecutive pulses, ms.
fn gaps(pulses: &[Pulse]) -> Vec<u64> {
    pulses
        .windows(2)
        .map(|pair| pair[1].start_ms - pair[0].start_ms - pair[0].length_ms)
        .collect()
}

/// The medium pattern: bursts of 3 pulses of 200 ms, 200 ms apart, 5 s
/// between (7.5 s of listening holds one whole burst, whatever the phase).
fn assert_medium(pulses: &[Pulse], what: &str) {
    let heard = lengths(pulses);
    let gaps = gaps(pulses);
    assert!(
        heard.iter().all(|ms| (150..=260).contains(ms)),
        "{what}: medium pulses last 200 ms: {heard:?}"
    );
    assert!(
        gaps.iter()
            .all(|gap| (140..=300).contains(gap) || (4_500..=5_500).contains(gap)),
        "{what}: medium pulses are 200 ms apart, bursts 5 s apart: gaps {gaps:?}"
    );
    // Bursts as runs of pulses 200 ms apart: at most 3, and one whole.
    let bursts: Vec<usize> = gaps
        .split(|gap| *gap > 1_000)
        .map(|run| run.len() + 1)
        .collect();
    assert!(
        bursts.iter().all(|count| *count <= 3) && bursts.contains(&3),
        "{what}: medium bursts are 3 pulses: {bursts:?} (lengths {heard:?}, gaps {gaps:?})"
    );
}

/// The high pattern: 10 pulses of 150 ms (3 + 2, 1 s, 3 + 2), then 3 s.
fn assert_high(pulses: &[Pulse], what: &str) {
    let heard = lengths(pulses);
    let gaps = gaps(pulses);
    assert!(
        pulses.len() >= 9,
        "{what}: {} whole pulses in 7.5 s, not the high pattern's 10 in 6.8 s: {heard:?}",
        pulses.len()
    );
    assert!(
        heard.iter().all(|ms| (100..=200).contains(ms)),
        "{what}: high pulses last 150 ms: {heard:?}"
    );
    assert!(
        gaps.iter().all(|gap| *gap <= 3_300),
        "{what}: high bursts come every 3 s: gaps {gaps:?}"
    );
    assert!(
        pulses.iter().all(|pulse| pulse.volume >= 3),
        "{what}: a high alarm sounds at level 3 or louder: {pulses:?}"
    );
}

#[test]
fn an_unstarted_program_reminds_and_an_unanswered_completion_escalates_to_high() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let profile = tuned_profile(stack.dir.path());
    let store = stack.dir.path().join("events.db");
    let mut app = stack.app_with(&store, &profile);
    // Programmed, not started: one quiet pulse every 15 s, nothing else.
    say(&mut app, "load 50 0.1");
    let loaded = Instant::now();
    let pulses = listen(&stack.board, Duration::from_secs(REMIND_S + 2));
    assert_eq!(
        pulses.len(),
        1,
        "one reminder in 17 s: {pulses:?}\n{}\n{}",
        stack.app_output(),
        stack.log()
    );
    let reminder = pulses[0];
    let at = reminder.start_ms;
    assert!(
        (REMIND_S * 1000 - 1_000..=REMIND_S * 1000 + 1_500).contains(&at),
        "the reminder came {at} ms after the program was loaded, not at {REMIND_S} s"
    );
    assert!(
        (100..=220).contains(&reminder.length_ms),
        "a reminder is one 150 ms pulse: {reminder:?}"
    );
    assert_eq!(
        reminder.volume, 2,
        "a reminder sounds two levels below the nurse's (loudest) setting: {reminder:?}"
    );
    // Started, the 0.1 mL run at 50 mL/h ends in 7.2 s: infusion complete, medium.
    say(&mut app, "start");
    let raised = wait_for_alarm(&stack, &mut app, "InfusionComplete");
    assert!(loaded.elapsed() < Duration::from_secs(60));
    let medium = whole_pulses(&stack, Duration::from_millis(7_500));
    assert_medium(
        &medium,
        &format!(
            "infusion complete, just raised; supervisor log:\n{}",
            stack.log()
        ),
    );
    // Still medium just before the profile's 30 s...
    let until = |seconds: u64| {
        let at = raised + Duration::from_secs(seconds);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    };
    until(ESCALATE_S - 9);
    let still = whole_pulses(&stack, Duration::from_millis(7_500));
    assert_medium(
        &still,
        &format!(
            "infusion complete, unanswered for 21 to 28 s; supervisor log:\n{}",
            stack.log()
        ),
    );
    // ...and high once nobody has answered for 30 s.
    until(ESCALATE_S + 1);
    let high = whole_pulses(&stack, Duration::from_millis(7_500));
    assert_high(
        &high,
        &format!(
            "infusion complete, unanswered; supervisor log:\n{}",
            stack.log()
        ),
    );
    // Answered: medium again (the infusion is still complete), no flow.
    say(&mut app, "ack");
    std::thread::sleep(Duration::from_millis(300));
    let answered = whole_pulses(&stack, Duration::from_millis(7_500));
    assert_medium(
        &answered,
        &format!(
            "infusion complete, acknowledged; supervisor log:\n{}",
            stack.log()
        ),
    );
    assert!(!stack.board.memory().motor_enabled());
    say(&mut app, "quit");
    let _ = app.wait();
    // The log has the escalation, 30 s after the alarm, and the answer.
    let log = perfuse::store::EventLog::open_read_only(&store).unwrap();
    let events = log.events(0, i64::MAX, &[]).unwrap();
    let at = |wanted: &perfuse::store::Event| {
        events
            .iter()
            .find(|record| &record.event == wanted)
            .map(|record| record.at_ms)
            .unwrap_or_else(|| panic!("no {wanted:?} in the log: {events:?}"))
    };
    let raised_at = at(&perfuse::store::Event::AlarmRaised {
        condition: "InfusionComplete".to_owned(),
        priority: "Medium".to_owned(),
    });
    let escalated_at = at(&perfuse::store::Event::AlarmEscalated {
        condition: "InfusionComplete".to_owned(),
        priority: "High".to_owned(),
    });
    let seconds = (escalated_at - raised_at) as f64 / 1000.0;
    assert!(
        (ESCALATE_S as f64 - 0.5..ESCALATE_S as f64 + 2.0).contains(&seconds),
        "escalated {seconds} s after the alarm, not the profile's {ESCALATE_S} s"
    );
}
