//! The touchscreen's cost: time to first frame, the time to draw a whole
//! frame at 800×480 on the software renderer (as on the Pi, without a GPU)
//! for the busiest pages, and the process's resident memory.
//!
//! Run: `cargo bench --bench ui`. Writes bench-results/ui.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfuse::control::api::Mode;
use perfuse::ui::keypad::Key;
use perfuse::ui::offscreen::Offscreen;
use perfuse::ui::session::Session;
use perfuse::ui::text::Language;
use perfuse_sim::Occlusion;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::scene::Scene;

/// Frames drawn per page for the distribution.
const FRAMES: usize = 300;

fn resident_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn frames(offscreen: &mut Offscreen, pump: &Scene, refresh: bool) -> Vec<Duration> {
    let mut times = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        if refresh {
            pump.act(Session::refresh);
        }
        let start = Instant::now();
        offscreen.draw();
        times.push(start.elapsed());
    }
    times.sort();
    times
}

fn main() {
    let mut report = String::new();
    let started = Instant::now();
    let mut offscreen = Offscreen::install(800, 480).unwrap();
    let rss_before = resident_mib("VmRSS:");
    let library = Arc::new(
        perfuse::druglib::parse_library(
            &std::fs::read(perfuse::assets::default_library()).unwrap(),
        )
        .unwrap(),
    );
    let pump = Scene::new(Platform::Volumetric, Language::English, &library, false).unwrap();
    offscreen.draw();
    let first_frame = started.elapsed();

    let mut rows = Vec::new();
    pump.refresh_until(|mode| mode == Mode::Idle).unwrap();
    rows.push(("home", frames(&mut offscreen, &pump, false)));
    pump.act(Session::new_program);
    pump.act(|session| session.choose("icu"));
    rows.push((
        "drug list (ICU, 14 entries)",
        frames(&mut offscreen, &pump, false),
    ));
    pump.act(|session| session.choose("norepinephrine"));
    pump.act(|session| session.choose("0"));
    pump.act(|session| session.key(Key::Digit(4)));
    rows.push((
        "dose entry with keypad",
        frames(&mut offscreen, &pump, false),
    ));
    pump.enter("0.6");
    pump.enter("70");
    pump.enter("250");
    rows.push(("review", frames(&mut offscreen, &pump, false)));
    pump.act(|session| session.confirm_override(0));
    pump.act(Session::start);
    pump.refresh_until(|mode| mode == Mode::Delivering).unwrap();
    rows.push((
        "running, refreshed every frame",
        frames(&mut offscreen, &pump, true),
    ));
    pump.rig.borrow_mut().occlude_downstream(Occlusion::Full);
    pump.refresh_until(|mode| mode == Mode::AlarmStopped)
        .unwrap();
    rows.push((
        "running with a high-priority alarm",
        frames(&mut offscreen, &pump, true),
    ));

    writeln!(report, "# Touchscreen benchmark\n").unwrap();
    writeln!(
        report,
        "`cargo bench --bench ui` (release build), Slint 1.18.1 software renderer into memory, 800×480 RGB, on this machine ({} CPUs). \
         Each page is drawn whole {FRAMES} times (no partial repaint): the worst case of a frame.\n",
        std::thread::available_parallelism().map_or(1, |count| count.get())
    )
    .unwrap();
    writeln!(report, "Time to first frame (from the start of `main` to the first whole frame drawn: renderer, drug library, controller and simulated mechanism, window and session set up): **{:.1} ms**\n", ms(first_frame)).unwrap();
    writeln!(report, "| Page | p50 ms | p99 ms | max ms |").unwrap();
    writeln!(report, "|---|---:|---:|---:|").unwrap();
    for (page, times) in &rows {
        writeln!(
            report,
            "| {page} | {:.2} | {:.2} | {:.2} |",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.99)),
            ms(*times.last().unwrap())
        )
        .unwrap();
    }
    writeln!(
        report,
        "\nResident memory: {:.1} MiB before the window, {:.1} MiB after all pages (peak {:.1} MiB). \
         This includes the simulated mechanism and controller that run in this process.",
        rss_before,
        resident_mib("VmRSS:"),
        resident_mib("VmHWM:")
    )
    .unwrap();
    print!("{report}");
    std::fs::create_dir_all("bench-results").unwrap();
    std::fs::write("bench-results/ui.md", report).unwrap();
}
