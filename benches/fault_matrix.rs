//! The fault matrix on the real stack, measured: per fault, the time from
//! the injection to the right alarm and the volume after the fault (p50 and
//! max), idle and under load; and supervisor trips per hour over a long
//! infusion with nothing injected, idle and under load. Writes
//! bench-results/fault-matrix.md. `PERFUSE_BENCH_MINUTES` sets the long
//! infusions (default 10); `PERFUSE_MATRIX_JOBS` the cells run at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_arithmetic
)]

use perfuse_testkit::matrix;

use std::time::Duration;

fn main() {
    let minutes: f64 = std::env::var("PERFUSE_BENCH_MINUTES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10.0);
    let long = Duration::from_secs_f64(minutes * 60.0);
    let cells = matrix::cells(&matrix::spec());
    let jobs = matrix::jobs();
    eprintln!(
        "fault matrix bench: {} cells, {jobs} at once, long infusions of {minutes} min",
        cells.len()
    );
    let idle_long = std::thread::spawn(move || matrix::long_infusion(long, false));
    let idle: Vec<_> = cells
        .iter()
        .cloned()
        .zip(matrix::run_all(&cells, jobs, false))
        .collect();
    let idle_long = idle_long
        .join()
        .unwrap()
        .unwrap_or_else(|error| panic!("idle long infusion: {error}"));
    let load = matrix::Load::start(long.as_secs() + 3600).unwrap();
    let loaded_long = std::thread::spawn(move || matrix::long_infusion(long, true));
    let loaded: Vec<_> = cells
        .iter()
        .cloned()
        .zip(matrix::run_all(&cells, jobs, false))
        .collect();
    let loaded_long = loaded_long
        .join()
        .unwrap()
        .unwrap_or_else(|error| panic!("loaded long infusion: {error}"));
    drop(load);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/fault-matrix.md");
    matrix::write_bench_report(&path, &idle, &loaded, &idle_long, &loaded_long);
    eprintln!("wrote {}", path.display());
}
