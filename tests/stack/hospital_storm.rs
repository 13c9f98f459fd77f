//! The error storm (DESIGN.md F2): while the pump infuses at 25 mL/h on
//! the real processes (simulator, supervisor, app, perfuse-link), the
//! hospital gateway misbehaves in every way `perfuse_testkit::storm` knows,
//! for 10 minutes by default (`PERFUSE_STORM_S`; hours with
//! scripts/storm-soak.sh), in slices of each misbehaviour with the link
//! idle for a few seconds between two (the gateway behaving), after a
//! 30-second idle baseline. The same run measures the link idle and under
//! the storm:
//! - the control thread's wake-up lateness p99.9 changes by at most 10 %
//!   (against the worst of the idle time and its two halves: on a shared
//!   virtual machine the host's own stalls make the idle tail vary by more
//!   than that between two halves of the same run);
//! - the link's RSS grows by at most 1 MB over its baseline, and the
//!   app's does not grow;
//! - no supervisor trip (one during which a CPU held by a SCHED_FIFO 95
//!   thread froze 30 ms or more is the virtual machine's host's: the nurse
//!   resumes the kept program, the trip is counted in the summary, and
//!   more than two fail the run);
//! - the infusion and its program are untouched: still delivering at
//!   25 mL/h, with the volume the time gives;
//! - the link recovers when the gateway does.
//!
//! It needs the machine to itself (other tests' stacks would load the
//! cores it measures), so it is ignored under `cargo test --workspace` and
//! run alone by `.ci/run` and by the soak script. Its figures go to
//! target/storm/summary.json.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic,
    clippy::cast_precision_loss
)]

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use perfuse_testkit::faults::{app_answer, app_status, Stack};
use perfuse_testkit::hospital::{certificates, link_settings, start_link};
use perfuse_testkit::matrix::FreezeMonitor;
use perfuse_testkit::storm::{Behaviour, Counts, StormGateway};
use serde_json::{json, Value};
use std::io::Write as _;

/// A process of the test's, killed however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn seconds(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// VmRSS of process `pid`, kB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time process `pid` has used, s (user and system).
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15, in clock ticks (100 a second).
    let tick = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(14) + tick(15)) / 100.0
}

/// The machine's CPU time so far, s over all CPUs: (busy, stolen by the host).
fn machine_s() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let field = |n: usize| fields.get(n).copied().unwrap_or(0.0) / 100.0;
    // user nice system idle iowait irq softirq steal
    let busy = field(0) + field(1) + field(2) + field(5) + field(6);
    (busy, field(7))
}

fn steal_s() -> f64 {
    machine_s().1
}

/// Each thread of process `pid`: name, scheduling policy (0 normal, 1
/// FIFO), real-time priority and the CPU it last ran on, from /proc.
fn threads(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let Some((name, rest)) = stat
            .split_once(" (")
            .and_then(|(_, rest)| rest.rsplit_once(") "))
        else {
            continue;
        };
        // Fields from the state (field 3) on: processor is 39, rt_priority 40, policy 41.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).copied().unwrap_or("?");
        found.push(format!(
            "{name}: policy {} priority {} cpu {}",
            field(41),
            field(40),
            field(39)
        ));
    }
    found.sort();
    found
}

/// The control thread's fine lateness histogram now: us -> wake-ups.
fn latency(stack: &Stack, app: &mut Child) -> BTreeMap<u64, u64> {
    let line = app_answer(stack, app, "latency", "latency {");
    let value: Value = serde_json::from_str(line.trim_start_matches("latency ")).unwrap();
    value["counts"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(us, count)| (us as u64, count.as_u64().unwrap()))
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// The nurse acknowledges the supervisor's trip alarm and resumes the same
/// program.
fn resume_after_trip(stack: &Stack, app: &mut Child) {
    let wait_for = |app: &mut Child, mode: &str| {
        let started = Instant::now();
        loop {
            let now = status(stack, app);
            if now["mode"] == mode {
                return now;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "after a trip the pump is not {mode}: {now}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let started = Instant::now();
    while !app_status(stack, app).contains("SupervisorTrip") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the app never reported the supervisor's trip"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writeln!(app.stdin.as_mut().unwrap(), "ack").unwrap();
    let _ = wait_for(app, "Paused");
    writeln!(app.stdin.as_mut().unwrap(), "resume").unwrap();
    let now = wait_for(app, "Delivering");
    assert_eq!(now["rate_nl_h"], 25_000_000, "the program changed: {now}");
}

/// The wake-ups between two histograms.
fn window(from: &BTreeMap<u64, u64>, to: &BTreeMap<u64, u64>) -> BTreeMap<u64, u64> {
    to.iter()
        .map(|(us, count)| (*us, count - from.get(us).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// The `fraction` percentile of a window, us, and its number of wake-ups.
fn percentile(window: &BTreeMap<u64, u64>, fraction: f64) -> (u64, u64) {
    let total: u64 = window.values().sum();
    let wanted = (total as f64 * fraction).ceil() as u64;
    let mut seen = 0;
    for (us, count) in window {
        seen += count;
        if seen >= wanted {
            return (*us, total);
        }
    }
    (0, total)
}

fn status(stack: &Stack, app: &mut Child) -> Value {
    serde_json::from_str(app_status(stack, app).trim_start_matches("status ")).unwrap()
}

fn link_view(stack: &Stack, app: &mut Child) -> Value {
    serde_json::from_str(app_answer(stack, app, "link", "link {").trim_start_matches("link "))
        .unwrap()
}

/// The process under watch, sampled once a second.
#[derive(Default)]
struct Samples {
    link_rss: Vec<u64>,
    app_rss: Vec<u64>,
    not_delivering: Vec<String>,
    /// Supervisor trips seen so far (the log's TRIP lines).
    trips_seen: usize,
    /// Trips in a silence during which the machine itself froze (a CPU
    /// kept by a SCHED_FIFO 95 thread stood still `HOST_FREEZE_MS` or
    /// more): the host's, with the trip line and the freeze, ms.
    host_trips: Vec<(String, u64)>,
    /// Trips with no freeze of the machine in their silence.
    unexplained_trips: Vec<String>,
}

/// A freeze this long (ms) of a CPU that a SCHED_FIFO 95 thread keeps is
/// the host's: nothing in the guest outranks that thread, and the link runs
/// at normal priority.
const HOST_FREEZE_MS: u64 = 30;

impl Samples {
    fn take(&mut self, stack: &Stack, app: &mut Child, link: &Child) {
        self.link_rss.push(rss_kb(link.id()));
        self.app_rss.push(rss_kb(app.id()));
        self.judge_trips(stack, app);
        // The program, every fifth second.
        if self.link_rss.len().is_multiple_of(5) {
            let now = status(stack, app);
            if now["mode"] != "Delivering" || now["rate_nl_h"] != 25_000_000 {
                // A trip may have come after the look at the log.
                if !self.judge_trips(stack, app) {
                    self.not_delivering.push(now.to_string());
                }
            }
        }
    }

    /// Judges the supervisor's new trips, if any: one in a silence during
    /// which the host froze the machine is counted as the host's, and the
    /// nurse acknowledges and resumes (the program kept, as F2 demands);
    /// any other is unexplained and fails the test. True if a trip was
    /// judged the host's.
    fn judge_trips(&mut self, stack: &Stack, app: &mut Child) -> bool {
        let log = stack.log();
        let trips: Vec<&str> = log.lines().filter(|line| line.contains(" TRIP ")).collect();
        let mut resumed = false;
        for line in trips.iter().skip(self.trips_seen) {
            let at_us: u64 = line
                .split_whitespace()
                .next()
                .and_then(|number| number.parse().ok())
                .unwrap_or(0);
            let last_good_us = perfuse_testkit::faults::last_good_sent_us(line);
            // Freezes that began in the silence, or just before it.
            let frozen_ms = FreezeMonitor::get()
                .longest_between(last_good_us.saturating_sub(60_000), at_us)
                / 1000;
            if frozen_ms >= HOST_FREEZE_MS {
                eprintln!("storm test: the host froze the machine {frozen_ms} ms: {line}");
                self.host_trips.push(((*line).to_owned(), frozen_ms));
                resume_after_trip(stack, app);
                resumed = true;
            } else {
                self.unexplained_trips.push((*line).to_owned());
            }
        }
        self.trips_seen = trips.len();
        resumed
    }

    /// Samples for `seconds`.
    fn for_s(&mut self, seconds: f64, stack: &Stack, app: &mut Child, link: &Child) {
        let started = Instant::now();
        while started.elapsed().as_secs_f64() < seconds {
            std::thread::sleep(Duration::from_secs_f64(
                (seconds - started.elapsed().as_secs_f64()).clamp(0.0, 1.0),
            ));
            self.take(stack, app, link);
        }
    }
}

/// What one condition (the link idle, or one misbehaviour) saw: the
/// control thread's wake-ups, its time, and the CPU the link, the app and
/// the host took in it.
#[derive(Default, Clone)]
struct Tally {
    wakeups: BTreeMap<u64, u64>,
    seconds: f64,
    link_cpu_s: f64,
    app_cpu_s: f64,
    steal_s: f64,
}

/// A point to count a tally from.
struct Mark {
    latency: BTreeMap<u64, u64>,
    at: Instant,
    link_cpu_s: f64,
    app_cpu_s: f64,
    steal_s: f64,
}

fn mark(stack: &Stack, app: &mut Child, link: &Child) -> Mark {
    Mark {
        latency: latency(stack, app),
        at: Instant::now(),
        link_cpu_s: cpu_s(link.id()),
        app_cpu_s: cpu_s(app.id()),
        steal_s: steal_s(),
    }
}

impl Tally {
    fn add(&mut self, from: &Mark, to: &Mark) {
        for (us, count) in window(&from.latency, &to.latency) {
            *self.wakeups.entry(us).or_insert(0) += count;
        }
        self.seconds += to.at.duration_since(from.at).as_secs_f64();
        self.link_cpu_s += to.link_cpu_s - from.link_cpu_s;
        self.app_cpu_s += to.app_cpu_s - from.app_cpu_s;
        self.steal_s += to.steal_s - from.steal_s;
    }

    fn merge(&mut self, other: &Tally) {
        for (us, count) in &other.wakeups {
            *self.wakeups.entry(*us).or_insert(0) += count;
        }
        self.seconds += other.seconds;
        self.link_cpu_s += other.link_cpu_s;
        self.app_cpu_s += other.app_cpu_s;
        self.steal_s += other.steal_s;
    }

    fn p999(&self) -> u64 {
        percentile(&self.wakeups, 0.999).0
    }

    fn figures(&self) -> Value {
        let (p99, _) = percentile(&self.wakeups, 0.99);
        let (p999, wakeups) = percentile(&self.wakeups, 0.999);
        let share = |cpu: f64| {
            if self.seconds > 0.0 {
                cpu / self.seconds
            } else {
                0.0
            }
        };
        json!({
            "seconds": self.seconds,
            "wakeups": wakeups,
            "latency_p99_us": p99,
            "latency_p99.9_us": p999,
            "latency_max_us": self.wakeups.keys().last().copied().unwrap_or(0),
            "link_cpu_share": share(self.link_cpu_s),
            "app_cpu_share": share(self.app_cpu_s),
            "host_steal_share": share(self.steal_s),
        })
    }
}

#[test]
#[ignore = "the error storm: 14 minutes alone on the machine (.ci/run and scripts/storm-soak.sh run it)"]
fn an_error_storm_from_the_hospital_changes_nothing_about_the_infusion() {
    // Storm time (misbehaviour slices and the link's recovery after each),
    // the baseline before it, each slice, and the idle slice between two.
    let storm_s = seconds("PERFUSE_STORM_S", 600.0);
    let baseline_s = seconds("PERFUSE_STORM_IDLE_S", 30.0);
    let slice_s = seconds("PERFUSE_STORM_SLICE_S", 12.0);
    let idle_slice_s = seconds("PERFUSE_STORM_IDLE_SLICE_S", 4.0);
    // After each slice the gateway behaves: the link's reconnection, this
    // long, counts with the slice; the rest of the idle slice as idle.
    let settle_s = 2.0;
    let wanted_malformed: u64 = 1_000_000;
    // The measurement's own condition, as cyclictest's: the CPUs poll
    // rather than halt, so that the virtual machine's host, not running a
    // halted vCPU again at once, does not stand in for the pump's software
    // (without it two storms in three saw a 55 ms host stall trip the
    // supervisor, with the link under 1 % of a CPU). A Pi has no host.
    let environment = perfuse_os::realtime::go_realtime(perfuse_os::realtime::RealtimeRequest {
        lock_memory: false,
        cpu: None,
        fifo_priority: None,
        no_deep_idle: true,
    });
    for warning in &environment.warnings {
        eprintln!("storm test: {warning}");
    }

    // Watches each CPU for freezes of the machine (the host's).
    FreezeMonitor::get();
    let stack = Stack::start();
    let dir = stack.dir.path().to_owned();
    certificates(&dir).unwrap();
    // The hospital's side runs on CPU 0; the control thread is on the last.
    let gateway = StormGateway::start(&dir, 0).unwrap();
    let settings = link_settings(&dir, gateway.port, "pump");
    let socket = dir.join("link.sock");
    let link_log = dir.join("link.log");
    let link_process = start_link(&settings, &socket, &link_log).unwrap();
    let link: &Child = &link_process;
    let mut app_process = Killed(stack.app_with_link(&socket));
    let app = &mut app_process.0;
    stack.start_infusing(app, 25);
    let started = Instant::now();
    let delivered_at_start = status(&stack, app)["delivered_nl"].as_u64().unwrap();

    // Connected and reporting before anything is measured.
    let connected = Instant::now();
    while Counts::get(&gateway.counts.statuses) < 2 {
        assert!(
            connected.elapsed() < Duration::from_secs(30),
            "the link never reported to the gateway:\n{}",
            std::fs::read_to_string(&link_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let trip_lines = |log: &str| log.lines().filter(|line| line.contains(" TRIP ")).count();
    let trips_before = trip_lines(&stack.log());
    let scheduling = json!({
        "app": threads(app.id()),
        "link": threads(link.id()),
        "supervisor": threads(stack.supervisor.id()),
        "simulator": threads(stack.sim.id()),
    });

    // The baseline: the link idle, the gateway behaving.
    let mut samples = Samples {
        trips_seen: trips_before,
        ..Samples::default()
    };
    let mut idle = [Tally::default(), Tally::default()];
    let from = mark(&stack, app, link);
    samples.for_s(baseline_s, &stack, app, link);
    let mut last = mark(&stack, app, link);
    idle[0].add(&from, &last);
    let link_base_kb = rss_kb(link.id());
    let app_base_kb = rss_kb(app.id());

    // The storm, a slice of each misbehaviour in turn with the link idle
    // between two (so that the machine's own noise falls on both alike),
    // until the storm time is up and a million malformed messages were
    // written.
    let only = std::env::var("PERFUSE_STORM_ONLY")
        .ok()
        .and_then(|name| Behaviour::STORM.into_iter().find(|b| b.name() == name));
    let mut by_behaviour: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut recovery_s: Vec<f64> = Vec::new();
    let mut storm_time = 0.0;
    let mut slices = 0_usize;
    let limit = storm_s * 1.5 + 60.0;
    loop {
        let enough =
            storm_time >= storm_s && Counts::get(&gateway.counts.malformed) >= wanted_malformed;
        if enough || storm_time >= limit {
            break;
        }
        let behaviour = match only {
            Some(only) => only,
            None if storm_time >= storm_s => Behaviour::Malformed,
            None => Behaviour::STORM[slices % Behaviour::STORM.len()],
        };
        gateway.set(behaviour);
        samples.for_s(slice_s, &stack, app, link);
        // The gateway recovers: the link's first status after it.
        gateway.set(Behaviour::Good);
        let statuses = Counts::get(&gateway.counts.statuses);
        let recovering = Instant::now();
        while Counts::get(&gateway.counts.statuses) == statuses {
            assert!(
                recovering.elapsed() < Duration::from_secs(30),
                "the link did not recover after {}:\n{}",
                behaviour.name(),
                std::fs::read_to_string(&link_log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        recovery_s.push(recovering.elapsed().as_secs_f64());
        samples.for_s(
            (settle_s - recovering.elapsed().as_secs_f64()).max(0.0),
            &stack,
            app,
            link,
        );
        let settled = mark(&stack, app, link);
        let tally = by_behaviour.entry(behaviour.name()).or_default();
        tally.add(&last, &settled);
        storm_time += settled.at.duration_since(last.at).as_secs_f64();
        samples.for_s(idle_slice_s - settle_s, &stack, app, link);
        last = mark(&stack, app, link);
        idle[slices % 2].add(&settled, &last);
        slices += 1;
    }
    let link_after = link_view(&stack, app);
    let after = status(&stack, app);
    let elapsed_h = started.elapsed().as_secs_f64() / 3600.0;
    let trips = trip_lines(&stack.settled_log()) - trips_before;

    // The figures.
    let mut storm = Tally::default();
    for tally in by_behaviour.values() {
        storm.merge(tally);
    }
    let mut idle_all = idle[0].clone();
    idle_all.merge(&idle[1]);
    let most = |values: &[u64]| values.iter().copied().max().unwrap_or(0);
    let link_most_kb = most(&samples.link_rss);
    let app_most_kb = most(&samples.app_rss);
    let delivered_ml = (after["delivered_nl"].as_u64().unwrap() - delivered_at_start) as f64 / 1e6;
    let expected_ml = 25.0 * elapsed_h;
    let summary = json!({
        "cpus_kept_out_of_idle": environment.no_deep_idle,
        "scheduling": scheduling,
        "slices": slices,
        "gateway": gateway.counts.table(),
        "idle": idle_all.figures(),
        "idle_halves": [idle[0].figures(), idle[1].figures()],
        "storm": storm.figures(),
        "by_behaviour": by_behaviour.iter().map(|(name, tally)| (*name, tally.figures())).collect::<BTreeMap<_, _>>(),
        "rss_kb": {
            "link": {"baseline": link_base_kb, "most": link_most_kb},
            "app": {"baseline": app_base_kb, "most": app_most_kb},
        },
        "app_rss_kb_series": samples.app_rss.iter().step_by(30).collect::<Vec<_>>(),
        "link_rss_kb_series": samples.link_rss.iter().step_by(30).collect::<Vec<_>>(),
        "recovery_s": {
            "most": recovery_s.iter().copied().fold(0.0, f64::max),
            "mean": recovery_s.iter().sum::<f64>() / recovery_s.len().max(1) as f64,
        },
        "supervisor_trips": trips,
        "supervisor_trips_in_host_freezes": samples.host_trips.iter().map(|(line, ms)| json!({"trip": line, "host_froze_ms": ms})).collect::<Vec<_>>(),
        "delivered_ml": delivered_ml,
        "expected_ml": expected_ml,
        "link_after": link_after,
    });
    let out = perfuse_testkit::bins::root().join("target/storm");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    );
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if only.is_some() {
        return;
    }

    // The verdicts.
    assert_eq!(
        trips,
        samples.host_trips.len() + samples.unexplained_trips.len(),
        "trips the test did not judge:\n{}",
        stack.log()
    );
    // Each trip the host's freeze explains stops the flow safely with the
    // program kept (F2's rule) and is counted, not hidden; more than a few
    // means the machine is unfit to measure on.
    assert!(
        samples.host_trips.len() <= 2,
        "{} trips while the host froze the machine: {:?}",
        samples.host_trips.len(),
        samples.host_trips
    );
    assert_eq!(
        samples.unexplained_trips.len(),
        0,
        "supervisor trips with no freeze of the machine in their silence:\n{}\napp:\n{}",
        stack.log(),
        stack
            .app_output()
            .lines()
            .filter(|line| line.starts_with("event"))
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        samples.not_delivering.is_empty(),
        "the infusion changed: {:?}",
        samples.not_delivering
    );
    assert_eq!(after["mode"], "Delivering");
    assert_eq!(after["rate_nl_h"], 25_000_000, "the program changed");
    assert!(
        (delivered_ml - expected_ml).abs() <= expected_ml * 0.05 + 0.02,
        "delivered {delivered_ml:.3} mL in {elapsed_h:.3} h at 25 mL/h ({expected_ml:.3} mL)"
    );
    assert!(
        Counts::get(&gateway.counts.malformed) >= wanted_malformed,
        "only {} malformed messages written",
        Counts::get(&gateway.counts.malformed)
    );
    assert!(
        link_most_kb <= link_base_kb + 1024,
        "the link grew from {link_base_kb} kB to {link_most_kb} kB"
    );
    assert!(
        app_most_kb <= app_base_kb,
        "the app grew from {app_base_kb} kB to {app_most_kb} kB"
    );
    // The machine's own noise sets the floor: on a shared virtual machine
    // the host's stalls dominate the tail, and two halves of the idle time
    // differ by more than 10 % between themselves. The storm must stay
    // within 10 % of the worst the idle link showed.
    let idle_worst = idle_all.p999().max(idle[0].p999()).max(idle[1].p999());
    assert!(
        storm.p999() as f64 <= idle_worst as f64 * 1.10,
        "wake-up lateness p99.9: {} us in the storm; with the link idle {} us ({} us and {} us in its halves)",
        storm.p999(),
        idle_all.p999(),
        idle[0].p999(),
        idle[1].p999()
    );
}
