//! Wake-up latency of the control loop (p50, p99, p99.9, max, overruns) over
//! 60 s, side by side with `cyclictest` (Debian rt-tests) at the same
//! priority, interval and CPU in the same run, and the ratio.
//!
//! The control thread runs the real controller on the simulated board with a
//! program delivering, and the physics in a thread beside it. Both runs hold
//! /dev/cpu_dma_latency at 0 (cyclictest does so itself).
//!
//! Run: `cargo bench --bench timing` (as root for SCHED_FIFO; cyclictest from
//! `apt-get install rt-tests`). `PERFUSE_TIMING_SECONDS` shortens the runs.
//! Writes bench-results/timing.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::io::Write as _;
use std::path::Path;
use std::process::Command as Process;
use std::sync::atomic::Ordering;
use std::time::Duration;

use perfuse::control::api::Command;
use perfuse::control::state::End;
use perfuse::control::thread::{spawn, ThreadConfig};
use perfuse_testkit::rig::{continuous, controller_on_board, PhysicsThread, Platform, Rig};

const PRIORITY: u8 = 80;
const PERIOD_US: u64 = 1000;

#[derive(Debug, Clone, Copy)]
struct Latency {
    samples: u64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
    overruns: u64,
}

/// Percentiles from a histogram of whole microseconds (index = us).
fn from_histogram(counts: &[u64], max: f64, overruns: u64) -> Latency {
    let total: u64 = counts.iter().sum();
    let percentile = |fraction: f64| {
        let target = (total as f64 * fraction).ceil() as u64;
        let mut seen = 0;
        for (us, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= target {
                return us as f64;
            }
        }
        max
    };
    Latency {
        samples: total,
        p50: percentile(0.5),
        p99: percentile(0.99),
        p999: percentile(0.999),
        max,
        overruns,
    }
}

fn control_loop(seconds: u64, cpu: usize) -> (Latency, String) {
    let (controller, simulator, _board) =
        controller_on_board(Platform::Volumetric, PERIOD_US).unwrap();
    let physics = PhysicsThread::start(simulator);
    let config = ThreadConfig {
        period_us: PERIOD_US,
        fifo_priority: Some(PRIORITY),
        cpu: Some(cpu),
        lock_memory: true,
        record_latencies: (seconds * 1_000_000 / PERIOD_US) as usize + 1000,
        heartbeat_every: 10,
    };
    let mut handle = spawn(controller, config, None).unwrap();
    let realtime = format!("{:?}", handle.realtime);
    handle
        .send(Command::Load(continuous(25.0, 100.0, End::Stop)))
        .unwrap();
    handle.send(Command::Start).unwrap();
    std::thread::sleep(Duration::from_secs(seconds));
    let overruns = handle.stats.overruns.load(Ordering::Relaxed);
    let report = handle.stop();
    physics.stop().unwrap();
    let mut counts = vec![0_u64; 100_001];
    let mut max = 0_u32;
    for latency in &report.latencies_us {
        counts[(*latency as usize).min(100_000)] += 1;
        max = max.max(*latency);
    }
    (from_histogram(&counts, f64::from(max), overruns), realtime)
}

fn cyclictest(seconds: u64, cpu: usize, histogram: &Path) -> Result<Latency, String> {
    let output = Process::new("cyclictest")
        .args([
            "-m",
            "-q",
            "-p",
            &PRIORITY.to_string(),
            "-i",
            &PERIOD_US.to_string(),
        ])
        .args([
            "-D",
            &seconds.to_string(),
            "-a",
            &cpu.to_string(),
            "-h",
            "20000",
        ])
        .arg(format!("--histfile={}", histogram.display()))
        .output()
        .map_err(|error| {
            format!(
                "cyclictest could not run ({error}): install it with `apt-get install rt-tests`"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "cyclictest failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = std::fs::read_to_string(histogram).map_err(|error| error.to_string())?;
    let mut counts = vec![0_u64; 20_001];
    let mut max = 0.0;
    let mut overflows = 0;
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("# Max Latencies: ") {
            max = value.trim().parse::<f64>().unwrap_or(0.0);
        } else if let Some(value) = line.strip_prefix("# Histogram Overflows: ") {
            overflows = value.trim().parse::<u64>().unwrap_or(0);
        } else if !line.starts_with('#') {
            let mut fields = line.split_whitespace();
            if let (Some(us), Some(count)) = (fields.next(), fields.next()) {
                if let (Ok(us), Ok(count)) = (us.parse::<usize>(), count.parse::<u64>()) {
                    if let Some(slot) = counts.get_mut(us) {
                        *slot += count;
                    }
                }
            }
        }
    }
    // cyclictest has no deadline of its own: "overruns" counts wake-ups a full period late.
    let late = counts.iter().skip(PERIOD_US as usize).sum::<u64>() + overflows;
    Ok(from_histogram(&counts, max, late))
}

/// Step timing error on the virtual clock: when each microstep is emitted
/// against when it is due (uniformly spaced at the average rate, aligned on
/// the first step). Returns (steps, p50, p99, max) in microseconds.
fn step_timing(platform: Platform, rate: f64, seconds: f64) -> (usize, f64, f64, f64) {
    let mut rig = Rig::new(platform, PERIOD_US).unwrap();
    rig.command(Command::Load(continuous(rate, 100.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(30.0); // past the start transient (line pressure settles)
    let mut emitted: Vec<f64> = Vec::new();
    let mut last = rig.last.steps;
    let periods = (seconds * 1.0e6 / PERIOD_US as f64) as usize;
    for _ in 0..periods {
        let snapshot = *rig.period(Vec::new());
        for _ in last..snapshot.steps {
            emitted.push(snapshot.now_us as f64);
        }
        last = snapshot.steps;
    }
    if emitted.len() < 2 {
        return (emitted.len(), 0.0, 0.0, 0.0);
    }
    let first = emitted[0];
    let interval = (emitted[emitted.len() - 1] - first) / (emitted.len() - 1) as f64;
    let mut errors: Vec<f64> = emitted
        .iter()
        .enumerate()
        .map(|(index, time)| (time - (first + index as f64 * interval)).abs())
        .collect();
    errors.sort_by(f64::total_cmp);
    let at = |fraction: f64| errors[((errors.len() - 1) as f64 * fraction) as usize];
    (emitted.len(), at(0.5), at(0.99), errors[errors.len() - 1])
}

fn row(name: &str, latency: &Latency) -> String {
    format!(
        "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n",
        latency.samples, latency.p50, latency.p99, latency.p999, latency.max, latency.overruns
    )
}

fn main() {
    let seconds = std::env::var("PERFUSE_TIMING_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(60);
    let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
    let cpu = cpus.saturating_sub(1);
    let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&output).unwrap();
    // Hold the CPU's wake-up latency at its minimum for our run, as cyclictest does.
    let dma_latency = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/cpu_dma_latency")
        .and_then(|mut file| {
            file.write_all(&0_i32.to_ne_bytes())?;
            Ok(file)
        });
    let (ours, realtime) = control_loop(seconds, cpu);
    drop(dma_latency);
    let reference = cyclictest(
        seconds,
        cpu,
        &std::env::temp_dir().join("perfuse-cyclictest.hist"),
    );
    let mut report = format!(
        "# Control loop wake-up latency\n\n\
         Command: `cargo bench --bench timing`. {seconds} s each, period {PERIOD_US} us, SCHED_FIFO {PRIORITY}, CPU {cpu} of {cpus},\n\
         memory locked; the control thread runs the real controller on the simulated board delivering 25 mL/h,\n\
         with the physics in a thread beside it. Real-time status of the control thread: `{realtime}`.\n\n\
         | Loop | Wake-ups | p50 us | p99 us | p99.9 us | max us | overruns |\n\
         |---|---|---|---|---|---|---|\n"
    );
    report.push_str(&row("Perfuse control thread", &ours));
    match &reference {
        Ok(cyclic) => {
            report.push_str(&row("cyclictest (same priority, interval, CPU)", cyclic));
            let ratio = |a: f64, b: f64| {
                if b > 0.0 {
                    format!("{:.2}", a / b)
                } else {
                    "n/a".to_owned()
                }
            };
            report.push_str(&format!(
                "| ratio, Perfuse / cyclictest | | {} | {} | {} | {} | |\n",
                ratio(ours.p50, cyclic.p50),
                ratio(ours.p99, cyclic.p99),
                ratio(ours.p999, cyclic.p999),
                ratio(ours.max, cyclic.max)
            ));
        }
        Err(message) => report.push_str(&format!("\ncyclictest: {message}\n")),
    }
    report.push_str(
        "\n## Step timing error (virtual clock)\n\n\
         Microsteps are emitted at period boundaries: each step's emission against its uniform ideal time at\n\
         the average rate, over 60 s of steady delivery. On hardware the wake-up lateness above adds to it.\n\n\
         | Platform | Rate mL/h | Steps | p50 us | p99 us | max us |\n|---|---|---|---|---|---|\n",
    );
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        for rate in [1.0, 25.0, 999.0] {
            let (steps, p50, p99, max) = step_timing(platform, rate, 60.0);
            report.push_str(&format!(
                "| {} | {rate} | {steps} | {p50:.0} | {p99:.0} | {max:.0} |\n",
                platform.name()
            ));
        }
    }
    report.push_str(
        "\nOverruns: periods that started more than one period late (the loop then starts afresh rather than\n\
         catching up). This machine is a shared 2-core virtual machine without a PREEMPT_RT kernel: the\n\
         figures show the loop's own cost against the platform's floor (cyclictest), not the Pi's.\n",
    );
    print!("{report}");
    std::fs::write(output.join("timing.md"), report).unwrap();
    println!("wrote {}", output.join("timing.md").display());
}
