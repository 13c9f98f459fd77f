//! `perfuse-link-bench`: the hospital link's figures on the running stack
//! against the hl7apy gateway over TLS on loopback (docs/hospital-link.md):
//!
//! - the order round trip: from the gateway writing an RGV^O15 to the
//!   app showing it to the nurse (the headless app's `order` line), p50
//!   and max over `--orders` orders, each declined before the next;
//! - status throughput: statuses delivered and acknowledged per second
//!   when the app changes state as fast as it can (the link keeps one
//!   status in hand, so this is the gateway round trip's rate);
//! - the link's CPU use and memory at rest: connected, the app reporting
//!   every second, the link at its default pace, over `--rest-s` seconds.
//!
//! Writes a Markdown report (`--out`). `scripts/link-bench.sh` runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic,
    clippy::cast_precision_loss
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use perfuse_link::local::{self, Mode, Status, ToLink};
use perfuse_testkit::bins::{binary, root};
use perfuse_testkit::faults::Stack;
use perfuse_testkit::hospital::{certificates, link_settings, start_link, Gateway};
use serde_json::json;

#[derive(Parser)]
struct Cli {
    /// Orders sent for the round trip.
    #[arg(long, default_value_t = 50)]
    orders: usize,
    /// Seconds of status messages as fast as the link takes them.
    #[arg(long, default_value_t = 20)]
    flood_s: u64,
    /// Seconds at rest for the CPU figure.
    #[arg(long, default_value_t = 120)]
    rest_s: u64,
    #[arg(long, default_value = "bench-results/hospital-link.md")]
    out: PathBuf,
}

fn unix_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The app with its stdout read line by line as it comes, each line
/// stamped with the wall clock it was read at.
fn headless(stack: &Stack, socket: &Path) -> (Child, mpsc::Receiver<(f64, String)>) {
    let mut child = Command::new(binary("perfuse-headless"))
        .arg("--sim-dir")
        .arg(stack.dir.path())
        .arg("--store")
        .arg(stack.dir.path().join("events.db"))
        .arg("--profile")
        .arg(root().join("assets/platforms/perfuse-s50-syringe.toml"))
        .arg("--keys")
        .arg(root().join("assets/config/trusted-keys.toml"))
        .arg("--link")
        .arg(socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send((unix_s(), line)).is_err() {
                break;
            }
        }
    });
    (child, received)
}

fn wait_line(
    lines: &mpsc::Receiver<(f64, String)>,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok((at, line)) if wanted(&line) => return at,
            Ok(_) => {}
            Err(_) => panic!("the app never printed {what}"),
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// utime + stime of `pid`, seconds; and its RSS, kB.
fn cpu_and_rss(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat, counted from the state (field 3).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // /proc counts in USER_HZ, 100 on Linux (x86-64 and arm64).
    let hz = 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    (ticks as f64 / hz, rss)
}

fn order(message: &str, order_id: &str) -> serde_json::Value {
    json!({
        "message": message, "order_id": order_id, "pump": "PERFUSE-0001",
        "patient_id": "MRN12345", "family": "Doe", "given": "Jane",
        "drug": "Heparin", "vtbi": "50", "rate": "25",
        "sent": perfuse_link::hl7::timestamp(unix_s() as i64),
    })
}

/// The order round trip, ms, one per order: to the app showing it, and
/// to the gateway logging the link's ACK^O15 (read and validated).
fn round_trips(
    stack: &Stack,
    gateway: &Gateway,
    socket: &Path,
    orders: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (mut app, lines) = headless(stack, socket);
    wait_line(&lines, "ready", |line| line == "ready");
    // Connected: the gateway has the pump's status.
    let started = Instant::now();
    while !gateway
        .entries()
        .iter()
        .any(|entry| entry["kind"] == "ORU^R01^ORU_R01")
    {
        assert!(started.elapsed() < Duration::from_secs(30), "no status");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut found = Vec::new();
    let mut acknowledged = Vec::new();
    for n in 0..orders {
        let id = format!("B{n}");
        gateway.send_order(&id, &order(&format!("M{id}"), &id));
        let shown = wait_line(&lines, "the order", |line| {
            line.starts_with("order {") && line.contains(&format!("\"order_id\":\"{id}\""))
        });
        let sent = gateway
            .entries()
            .iter()
            .find(|entry| entry["kind"] == "RGV^O15^RGV_O15" && entry["order_id"] == id.as_str())
            .and_then(|entry| entry["sending_at"].as_f64())
            .unwrap();
        found.push((shown - sent) * 1000.0);
        writeln!(app.stdin.as_mut().unwrap(), "decline-order").unwrap();
        wait_line(&lines, "the decline", |line| {
            line.starts_with("order-declined")
        });
        let message = format!("M{id}");
        let acked = gateway
            .entries()
            .iter()
            .find(|entry| entry["kind"] == "ACK^O15^ACK" && entry["msa"][1] == message.as_str())
            .and_then(|entry| entry["at"].as_f64());
        if let Some(acked) = acked {
            acknowledged.push((acked - sent) * 1000.0);
        }
    }
    writeln!(app.stdin.as_mut().unwrap(), "quit").unwrap();
    let _ = app.wait();
    (found, acknowledged)
}

/// A status for the link, in `mode`.
fn status(sequence: u64, mode: Mode) -> Status {
    Status {
        sequence,
        at: unix_s() as i64,
        platform: "Perfuse S50 syringe pump".into(),
        mode,
        rate: "25".parse().unwrap(),
        vtbi: None,
        delivered: "0".parse().unwrap(),
        remaining: None,
        drug: None,
        library: None,
        alarms: vec![],
    }
}

/// The app's end of the link, played by this program.
fn fake_app(socket: &Path) -> uds::UnixSeqpacketConn {
    uds::UnixSeqpacketConn::connect(socket).unwrap()
}

fn statuses_logged(gateway: &Gateway) -> usize {
    gateway
        .entries()
        .iter()
        .filter(|entry| entry["kind"] == "ORU^R01^ORU_R01")
        .count()
}

/// What a flood of statuses did: seconds, packets the app sent, statuses
/// the gateway acknowledged, the link's CPU % and RSS kB at the end.
struct Flood {
    seconds: f64,
    sent: u64,
    delivered: u64,
    cpu: f64,
    rss: u64,
}

fn flood(
    settings: &Path,
    socket: &Path,
    log: &Path,
    seconds: u64,
    statuses: impl Fn() -> u64,
) -> Flood {
    let mut link = start_link(settings, socket, log).unwrap();
    let app = fake_app(socket);
    std::thread::sleep(Duration::from_secs(2));
    let before = statuses();
    let (cpu_before, _) = cpu_and_rss(link.id());
    let started = Instant::now();
    let mut sent = 0_u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let mode = if sent.is_multiple_of(2) {
            Mode::Idle
        } else {
            Mode::Ready
        };
        let packet = local::encode(&ToLink::Status {
            status: status(sent, mode),
        })
        .unwrap();
        let _ = app.send(&packet);
        sent += 1;
        // A change every millisecond: ten times what the touchscreen's
        // refresh can produce, and a hundred times the headless loop.
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_after, rss) = cpu_and_rss(link.id());
    let delivered = statuses() - before;
    drop(app);
    let _ = link.kill();
    let _ = link.wait();
    Flood {
        seconds: elapsed,
        sent,
        delivered,
        cpu: (cpu_after - cpu_before) / elapsed * 100.0,
        rss,
    }
}

fn main() {
    let cli = Cli::parse();
    let stack = Stack::start();
    let dir = stack.dir.path().to_owned();
    certificates(&dir).unwrap();
    let gateway = Gateway::start(&dir).unwrap();

    // 1. The order round trip, with the test settings (status every 2 s).
    let settings = link_settings(&dir, gateway.port, "pump");
    let socket = dir.join("link.sock");
    let mut link = start_link(&settings, &socket, &dir.join("link.log")).unwrap();
    let (trips, acks) = round_trips(&stack, &gateway, &socket, cli.orders);
    let _ = link.kill();
    let _ = link.wait();

    // 2. Status throughput: a state change in every packet, sent as fast
    // as the socket takes them; to hl7apy, then to the Rust gateway of
    // the storm test behaving well.
    let _ = std::fs::remove_file(&socket);
    let hl7apy = flood(
        &settings,
        &socket,
        &dir.join("link-2.log"),
        cli.flood_s,
        || statuses_logged(&gateway) as u64,
    );
    let storm = perfuse_testkit::storm::StormGateway::start(&dir, 0).unwrap();
    let storm_settings = link_settings(&dir, storm.port, "pump");
    let _ = std::fs::remove_file(&socket);
    let rust = flood(
        &storm_settings,
        &socket,
        &dir.join("link-2b.log"),
        cli.flood_s,
        || perfuse_testkit::storm::Counts::get(&storm.counts.statuses),
    );
    drop(storm);

    // 3. At rest: the default pace (no [timing]), one status a second
    // from the app, nothing changing.
    let rest_settings = dir.join("link-rest.toml");
    // (The storm gateway's settings took the same file: written again.)
    let settings = link_settings(&dir, gateway.port, "pump");
    let text = std::fs::read_to_string(&settings).unwrap();
    let text = text.split("[timing]").next().unwrap().to_owned();
    std::fs::write(&rest_settings, text).unwrap();
    let _ = std::fs::remove_file(&socket);
    let mut link = start_link(&rest_settings, &socket, &dir.join("link-3.log")).unwrap();
    let app = fake_app(&socket);
    std::thread::sleep(Duration::from_secs(3));
    let (cpu_before, rss_before) = cpu_and_rss(link.id());
    let before = statuses_logged(&gateway);
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(cli.rest_s) {
        let packet = local::encode(&ToLink::Status {
            status: status(n, Mode::Idle),
        })
        .unwrap();
        let _ = app.send(&packet);
        n += 1;
        std::thread::sleep(Duration::from_secs(1));
    }
    let rest = started.elapsed().as_secs_f64();
    let (cpu_after, rss_after) = cpu_and_rss(link.id());
    let rest_statuses = statuses_logged(&gateway) - before;
    assert!(
        rest_statuses > 0,
        "no status reached the gateway at rest:\n{}",
        std::fs::read_to_string(dir.join("link-3.log")).unwrap_or_default()
    );
    let rest_cpu = (cpu_after - cpu_before) / rest * 100.0;
    drop(app);
    let _ = link.kill();
    let _ = link.wait();

    let mut sorted = trips.clone();
    sorted.sort_by(f64::total_cmp);
    let mut acks_sorted = acks.clone();
    acks_sorted.sort_by(f64::total_cmp);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let row = |name: &str, flood: &Flood| {
        format!(
            "| {name} | {:.1} | {} | {} | {:.1} | {:.1} % | {} kB |",
            flood.seconds,
            flood.sent,
            flood.delivered,
            flood.delivered as f64 / flood.seconds,
            flood.cpu,
            flood.rss
        )
    };
    let report = format!(
        "# Hospital link: order round trip, status throughput, CPU at rest\n\n\
         Measured by `scripts/link-bench.sh` (testkit/src/bin/perfuse-link-bench.rs) on the \
         running stack (simulator, supervisor, headless app, perfuse-link, debug build) against \
         the hl7apy gateway (tests/gateway/hl7apy_gateway.py) over mutually authenticated TLS on \
         loopback. Machine: {cpu_model}, {cores} cores.\n\n\
         ## Order round trip (gateway writes RGV^O15 → the app shows it)\n\n\
         | orders | p50 ms | p90 ms | max ms | min ms |\n|---|---|---|---|---|\n\
         | {count} | {p50:.1} | {p90:.1} | {max:.1} | {min:.1} |\n\n\
         Of which to the link's accept acknowledgement (ACK^O15, logged by the gateway once \
         hl7apy read and validated it): p50 {ack_p50:.1} ms, max {ack_max:.1} ms.\n\n\
         The time runs from the gateway's `sendall` to the headless app printing the order \
         for the nurse: TLS, the link's strict reading and screening, the local socket, and \
         the app's loop (it takes the link's packets every 20 ms). The touchscreen takes \
         them at its refresh, every 100 ms, so on the screen add up to 100 ms.\n\n\
         ## Status throughput\n\n\
         | gateway | seconds | packets the app sent | statuses acknowledged | per second | link CPU | link RSS |\n|---|---|---|---|---|---|---|\n\
         {hl7apy_row}\n{rust_row}\n\n\
         A packet from the app every millisecond, each changing the pump's mode. The link keeps only the newest \
         status not yet sent (the rest are counted as dropped), sends one message at a time \
         and waits for its acknowledgement: the rate is the gateway's round trip. hl7apy \
         parses and validates each status at STRICT level in Python before it answers; the \
         Rust gateway (testkit/src/storm.rs, behaving well) answers at once, so its row is \
         the link's own pace.\n\n\
         ## At rest\n\n\
         | seconds | statuses to the gateway | link CPU | link RSS before → after |\n|---|---|---|---|\n\
         | {rest:.0} | {rest_statuses} | {rest_cpu:.3} % | {rss_before} → {rss_after} kB |\n\n\
         Connected, the app reporting every second with nothing changing, the link at its \
         default pace (a status every 10 s). CPU is user + system time of the perfuse-link \
         process over the wall time, as a share of one core.\n",
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        count = trips.len(),
        p50 = percentile(&sorted, 0.5),
        p90 = percentile(&sorted, 0.9),
        max = sorted.last().copied().unwrap_or(0.0),
        min = sorted.first().copied().unwrap_or(0.0),
        ack_p50 = if acks_sorted.is_empty() { 0.0 } else { percentile(&acks_sorted, 0.5) },
        ack_max = acks_sorted.last().copied().unwrap_or(0.0),
        hl7apy_row = row("hl7apy", &hl7apy),
        rust_row = row("Rust (storm gateway, good)", &rust),
    );
    if let Some(folder) = cli.out.parent() {
        std::fs::create_dir_all(folder).unwrap();
    }
    std::fs::write(&cli.out, &report).unwrap();
    print!("{report}");
    println!("written to {}", cli.out.display());
    if std::env::var_os("PERFUSE_BENCH_KEEP").is_some() {
        // The logs, copied out; the processes stop with the run.
        let kept = perfuse_testkit::bins::root().join("target/link-bench");
        let _ = std::fs::create_dir_all(&kept);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if matches!(
                path.extension().and_then(|ext| ext.to_str()),
                Some("log" | "jsonl")
            ) {
                let _ = std::fs::copy(&path, kept.join(entry.file_name()));
            }
        }
        println!("logs kept in {}", kept.display());
    }
    drop(gateway);
    drop(stack);
}
