//! The store: schema and migrations, events and their filters, retention,
//! the persisted program, the writer's bounded queue, and crash consistency
//! (the writer SIGKILLed at random points, 200 times).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::crash;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crash::{check_round, program, write_steps, Program, Reported};
use perfuse::store::writer::{StoreWriter, QUEUE_CAPACITY};
use perfuse::store::{Action, Event, EventLog, Page, StoreError, RETAINED_EVENTS};

/// `count` interaction events, stamped 0, 1, 2... ms.
fn key_presses(count: i64) -> Vec<(i64, Event)> {
    (0..count)
        .map(|index| {
            (
                index,
                Event::Interaction {
                    screen: Page::Program,
                    action: Action::Touch,
                    element: format!("key {index}"),
                    monotonic_ms: 0,
                },
            )
        })
        .collect()
}

fn alarm(condition: &str) -> Event {
    Event::AlarmRaised {
        condition: condition.to_owned(),
        priority: "high".to_owned(),
    }
}

#[test]
fn a_new_database_is_migrated_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let log = EventLog::open(&path).unwrap();
    assert_eq!(log.schema_version().unwrap(), 1);
    assert_eq!(log.integrity().unwrap(), "ok");
    drop(log);
    // Reopening runs nothing twice.
    assert_eq!(EventLog::open(&path).unwrap().schema_version().unwrap(), 1);
    // A file from a later Perfuse is not misread.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.pragma_update(None, "user_version", 7).unwrap();
    drop(connection);
    let error = EventLog::open(&path).err().unwrap();
    assert!(matches!(
        error,
        StoreError::TooNew {
            found: 7,
            known: 1,
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .contains("schema version 7; this Perfuse knows up to 1"),
        "{error}"
    );
}

#[test]
fn events_come_back_in_order_filtered_by_time_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(&dir.path().join("events.db")).unwrap();
    let events = [
        (1_000, Event::PowerOn),
        (2_000, alarm("DownstreamOcclusion")),
        (
            3_000,
            Event::SoftLimitOverride {
                drug: "DOPamine".to_owned(),
                value: "22 mcg/kg/min".to_owned(),
                limit: "20 mcg/kg/min".to_owned(),
            },
        ),
        (
            4_000,
            Event::AlarmAcknowledged {
                condition: "DownstreamOcclusion".to_owned(),
            },
        ),
        (5_000, Event::ProgramStopped),
    ];
    log.append_all(&events).unwrap();
    let all = log.events(0, i64::MAX, &[]).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(all[2].event, events[2].1);
    assert_eq!(all[2].at_ms, 3_000);
    let window = log.events(2_000, 4_000, &[]).unwrap();
    assert_eq!(window.len(), 3);
    let alarms = log
        .events(
            0,
            i64::MAX,
            &[
                perfuse::store::EventKind::AlarmRaised,
                perfuse::store::EventKind::AlarmAcknowledged,
            ],
        )
        .unwrap();
    assert_eq!(
        alarms
            .iter()
            .map(|recorded| recorded.at_ms)
            .collect::<Vec<_>>(),
        [2_000, 4_000]
    );
}

#[test]
fn only_the_newest_events_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(&dir.path().join("events.db")).unwrap();
    let extra = 250;
    let total = RETAINED_EVENTS + extra;
    log.append_all(&key_presses(total)).unwrap();
    assert_eq!(log.count().unwrap(), RETAINED_EVENTS);
    // The oldest went first.
    let kept = log.events(0, i64::MAX, &[]).unwrap();
    assert_eq!(kept.first().unwrap().at_ms, extra);
    assert_eq!(kept.last().unwrap().at_ms, total - 1);
}

#[test]
fn the_program_is_saved_whole_and_can_be_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    assert!(log.load_program::<Program>().unwrap().is_none());
    assert_eq!(log.save_program(&program(1)).unwrap(), 1);
    assert_eq!(log.save_program(&program(2)).unwrap(), 2);
    drop(log);
    let mut log = EventLog::open(&path).unwrap();
    let saved = log.load_program::<Program>().unwrap().unwrap();
    assert_eq!(saved.generation, 2);
    assert_eq!(saved.program, program(2));
    log.clear_program().unwrap();
    assert!(log.load_program::<Program>().unwrap().is_none());
}

#[test]
fn a_full_queue_drops_events_counts_them_and_says_so_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let writer = StoreWriter::spawn(EventLog::open(&path).unwrap()).unwrap();
    let store = writer.handle();
    let offered = 20 * QUEUE_CAPACITY;
    let accepted = (0..offered)
        .filter(|index| {
            store.record(Event::Interaction {
                screen: Page::Program,
                action: Action::Touch,
                element: format!("key {index}"),
                monotonic_ms: 0,
            })
        })
        .count();
    store.save_program(serde_json::to_string(&program(7)).unwrap());
    drop(writer); // drains the queue
    let stats = store.stats();
    assert!(
        stats.dropped > 0,
        "a burst 20 times the queue was all taken?"
    );
    assert_eq!(stats.dropped as usize, offered - accepted);
    assert_eq!(stats.failures, 0);
    let log = EventLog::open(&path).unwrap();
    let events = log.events(0, i64::MAX, &[]).unwrap();
    let interactions = events
        .iter()
        .filter(|recorded| matches!(recorded.event, Event::Interaction { .. }))
        .count();
    assert_eq!(interactions, accepted, "an accepted event was lost");
    let reported: u64 = events
        .iter()
        .filter_map(|recorded| match recorded.event {
            Event::EventsDropped { count } => Some(count),
            _ => None,
        })
        .sum();
    assert_eq!(reported, stats.dropped, "every drop is recorded");
    assert_eq!(
        log.load_program::<Program>().unwrap().unwrap().program,
        program(7)
    );
}

/// The child side of the crash test (this test binary, run again with
/// PERFUSE_CRASH_DB set): writes until it is killed.
fn write_until_killed(path: &str) -> ! {
    let round: u64 = std::env::var("PERFUSE_CRASH_ROUND")
        .unwrap()
        .parse()
        .unwrap();
    let mut log = EventLog::open(std::path::Path::new(path)).unwrap();
    write_steps(&mut log, round, u64::MAX);
    unreachable!("the writer loops until it is killed")
}

fn iterations() -> u64 {
    std::env::var("PERFUSE_CRASH_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200)
}

#[test]
fn crash_consistency_the_writer_killed_at_random_points() {
    if let Ok(path) = std::env::var("PERFUSE_CRASH_DB") {
        write_until_killed(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let rounds = iterations();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut total_events = 0;
    let this_test = perfuse_testkit::crash::test_name(
        module_path!(),
        "crash_consistency_the_writer_killed_at_random_points",
    );
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                this_test.as_str(),
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("PERFUSE_CRASH_DB", &path)
            .env("PERFUSE_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it somewhere in its first few dozen commits (xorshift delay, 0-40 ms
        // after its first commit).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % 40_000);
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let started = Instant::now();
        while !line.starts_with("event ") {
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the writer never committed"
            );
        }
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        // Everything it said was committed, read after its death.
        let mut reported = Reported::default();
        for text in std::iter::once(line.clone()).chain(reader.lines().map_while(Result::ok)) {
            Reported::read(&text, &mut reported);
        }
        assert!(
            reported.last_event.is_some(),
            "round {round}: nothing committed"
        );
        total_events += check_round(&path, round, "killed", reported);
    }
    eprintln!("crash consistency: {rounds} kills, {total_events} committed events all present, the program whole every time");
}

#[test]
fn a_corrupt_database_is_moved_aside_and_a_fresh_one_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    // Not a database at all.
    std::fs::write(&path, vec![0x5A_u8; 16_384]).unwrap();
    let (mut log, aside) = EventLog::open_or_recover(&path).unwrap();
    let aside = aside.expect("the corrupt file was not moved aside");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        vec![0x5A_u8; 16_384],
        "the evidence was altered"
    );
    let events = log.events(0, i64::MAX, &[]).unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0].event, Event::StorageFault { detail } if detail.contains("was corrupt") && detail.contains("moved to")),
        "{events:?}"
    );
    log.append(&Event::PowerOn).unwrap();
    drop(log);

    // A database damaged in the middle: its pages overwritten.
    let mut log = EventLog::open(&path).unwrap();
    log.append_all(&key_presses(5000)).unwrap();
    drop(log);
    // Fold the WAL in, then damage the main file.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .ok();
    drop(connection);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024);
    for byte in &mut bytes[8 * 4096..12 * 4096] {
        *byte = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (log, aside) = EventLog::open_or_recover(&path).unwrap();
    assert!(aside.is_some(), "the damage went unnoticed");
    assert_eq!(
        log.count().unwrap(),
        1,
        "the fresh log holds the fault record only"
    );

    // A healthy database is left alone.
    drop(log);
    let (_, aside) = EventLog::open_or_recover(&path).unwrap();
    assert!(aside.is_none());
}

#[test]
fn a_full_disk_is_reported_by_the_writer_and_nothing_accepted_before_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    log.append(&Event::PowerOn).unwrap();
    let used = log.pages_used().unwrap();
    // No room beyond what is used now.
    assert_eq!(log.limit_pages(u32::try_from(used).unwrap()).unwrap(), used);
    let writer = StoreWriter::spawn(log).unwrap();
    let store = writer.handle();
    for index in 0..500 {
        store.record(Event::Interaction {
            screen: Page::Program,
            action: Action::Value,
            element: format!("{index:0>200}"),
            monotonic_ms: 0,
        });
    }
    drop(writer);
    let stats = store.stats();
    assert!(stats.failures > 0, "a full disk went unnoticed: {stats:?}");
    let error = store.last_error().unwrap();
    assert!(error.contains("full"), "{error}");
    // What was committed before is intact.
    let log = EventLog::open(&path).unwrap();
    assert_eq!(log.integrity().unwrap(), "ok");
    assert_eq!(
        log.events(0, i64::MAX, &[perfuse::store::EventKind::PowerOn])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn once_writes_work_again_the_log_says_what_failed_and_what_was_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    log.append(&Event::PowerOn).unwrap();
    let used = log.pages_used().unwrap();
    // Room for small records (16 KiB), not for a 100 kB one.
    log.limit_pages(u32::try_from(used + 4).unwrap()).unwrap();
    let writer = StoreWriter::spawn(log).unwrap();
    let store = writer.handle();
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(5), "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    assert!(store.record(Event::Interaction {
        screen: Page::Program,
        action: Action::Value,
        element: "x".repeat(100_000),
        monotonic_ms: 0,
    }));
    wait_until("the oversized write never failed", &|| {
        store.stats().failures == 1
    });
    assert!(store.record(Event::PowerOff));
    wait_until("nothing was written after the failure", &|| {
        store.stats().written > 0
    });
    drop(writer);
    let log = EventLog::open(&path).unwrap();
    let events: Vec<Event> = log
        .events(0, i64::MAX, &[])
        .unwrap()
        .into_iter()
        .map(|recorded| recorded.event)
        .collect();
    assert!(events.contains(&Event::PowerOff), "{events:?}");
    assert!(
        events.contains(&Event::EventsDropped { count: 1 }),
        "{events:?}"
    );
    assert!(
        events.iter().any(|event| matches!(event, Event::StorageFault { detail }
            if detail.starts_with("1 writes failed") && detail.contains("full") && detail.ends_with("writing again"))),
        "{events:?}"
    );
    assert!(!events
        .iter()
        .any(|event| matches!(event, Event::Interaction { .. })));
}

#[test]
fn while_the_writer_runs_the_log_is_its_alone_and_the_history_is_read_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let writer = StoreWriter::spawn(EventLog::open(&path).unwrap()).unwrap();
    let store = writer.handle();
    store.record(Event::PowerOn);
    store.record(alarm("DownstreamOcclusion"));
    let started = Instant::now();
    let rows = loop {
        let rows = store
            .latest(&[perfuse::store::EventKind::AlarmRaised], 10)
            .unwrap();
        if !rows.is_empty() {
            break rows;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never written");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].event, alarm("DownstreamOcclusion"));
    assert_eq!(store.latest(&[], 10).unwrap().len(), 2);
    // No -shm file is mapped (the WAL index is in the writer's heap), and
    // nobody else may read meanwhile: the error says why and what to do.
    assert!(!dir.path().join("events.db-shm").exists());
    let error = EventLog::open_read_only(&path).err().unwrap();
    assert!(matches!(error, StoreError::InUse { .. }), "{error}");
    drop(writer);
    assert!(store.latest(&[], 10).is_err(), "the writer has stopped");
    assert_eq!(
        EventLog::open_read_only(&path)
            .unwrap()
            .events(0, i64::MAX, &[])
            .unwrap()
            .len(),
        2
    );
}
