//! The event log: append latency (one event per durable transaction, WAL,
//! synchronous=FULL, as the writer does when events trickle in) and in
//! batches (as it does under a burst), over one million events, with the
//! process's resident memory and the database size along the way.
//!
//! Run: `cargo bench --bench store`. Writes bench-results/store.md.
//! `PERFUSE_BENCH_EVENTS=100000` for a quicker look.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use perfuse::store::{now_ms, Action, Event, EventLog, Page};

fn events_wanted() -> usize {
    std::env::var("PERFUSE_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|count| *count > 0)
        .unwrap_or(1_000_000)
}

/// Resident memory of this process, MiB (from /proc).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentiles(values: &mut [f64]) -> (f64, f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |fraction: f64| values[((values.len() as f64 - 1.0) * fraction).round() as usize];
    (at(0.5), at(0.99), at(0.999), values[values.len() - 1])
}

fn event(index: usize) -> Event {
    match index % 4 {
        0 => Event::Interaction {
            screen: Page::Program,
            action: Action::Touch,
            element: format!("key {}", index % 10),
            monotonic_ms: index as u64,
        },
        1 => Event::AlarmRaised {
            condition: "DownstreamOcclusion".to_owned(),
            priority: "high".to_owned(),
        },
        2 => Event::AlarmAcknowledged {
            condition: "DownstreamOcclusion".to_owned(),
        },
        _ => Event::ProgramChanged {
            program: format!("Heparin 25,000 units/250 mL at {}.0 mL/h", index % 90 + 10),
        },
    }
}

fn main() {
    let total = events_wanted();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("events.db");
    let mut log = EventLog::open(&path).unwrap();
    let rss_start = resident_mib();
    // One event per transaction: the latency a single record sees.
    let single = (total / 20).max(1000);
    let mut latencies_us = Vec::with_capacity(single);
    for index in 0..single {
        let started = Instant::now();
        log.append(&event(index)).unwrap();
        latencies_us.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let (p50, p99, p999, max) = percentiles(&mut latencies_us);
    // The rest in batches of 256, as the writer drains a burst.
    let mut batch_ms = Vec::new();
    let mut written = single;
    let mut peak_rss = resident_mib();
    let started_all = Instant::now();
    while written < total {
        let count = 256.min(total - written);
        let batch: Vec<(i64, Event)> = (written..written + count)
            .map(|index| (now_ms(), event(index)))
            .collect();
        let started = Instant::now();
        log.append_all(&batch).unwrap();
        batch_ms.push(started.elapsed().as_secs_f64() * 1e3);
        written += count;
        if written % 65_536 < 256 {
            peak_rss = peak_rss.max(resident_mib());
        }
    }
    let batched_s = started_all.elapsed().as_secs_f64();
    peak_rss = peak_rss.max(resident_mib());
    let (b50, b99, b999, bmax) = percentiles(&mut batch_ms);
    let kept = log.count().unwrap();
    let database_mib = std::fs::metadata(&path).map_or(0, |meta| meta.len()) as f64 / 1048576.0;

    let mut report = String::new();
    writeln!(report, "# Event log\n").unwrap();
    writeln!(
        report,
        "SQLite (rusqlite, bundled), WAL, synchronous=FULL, exclusive locking (WAL index in the heap), on this machine's disk (`{}`). \
         {total} events appended in all; the log keeps the newest 100,000.\n",
        env!("CARGO_TARGET_TMPDIR")
    )
    .unwrap();
    writeln!(report, "Run: `cargo bench --bench store`.\n").unwrap();
    writeln!(report, "| Measure | p50 | p99 | p99.9 | max |").unwrap();
    writeln!(report, "|---|---|---|---|---|").unwrap();
    writeln!(
        report,
        "| one event per durable transaction ({single} appends), us | {p50:.0} | {p99:.0} | {p999:.0} | {max:.0} |"
    )
    .unwrap();
    writeln!(
        report,
        "| a batch of 256 in one transaction ({} batches), ms | {b50:.2} | {b99:.2} | {b999:.2} | {bmax:.2} |",
        batch_ms.len()
    )
    .unwrap();
    writeln!(
        report,
        "\nBatched throughput: {:.0} events/s. Events kept at the end: {kept}. \
         Resident memory: {rss_start:.1} MiB after opening, at most {peak_rss:.1} MiB over the run. \
         Database file: {database_mib:.1} MiB.",
        (total - single) as f64 / batched_s.max(1e-9)
    )
    .unwrap();
    println!("{report}");
    let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&output).unwrap();
    std::fs::write(output.join("store.md"), report).unwrap();
}
