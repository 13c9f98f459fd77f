//! The system fault matrix on the real processes (docs/system-fault-matrix.md):
//! every fault the simulator can inject, in every delivery state where it
//! applies, checked against the board's ground truth. Idle here; under load
//! (stress-ng, beside a 10-minute infusion with a busy UI thread) in
//! `fault_matrix_and_a_long_infusion_under_load` (`cargo test --test
//! system_fault_matrix -- --ignored`; not in CI, see the matrix's page).
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_arithmetic)]

use perfuse_testkit::matrix;

use matrix::{cells, jobs, parse, run_all, spec, CellResult, Load};

fn report(results: &[CellResult], label: &str) {
    let failed: Vec<&CellResult> = results.iter().filter(|result| result.failed()).collect();
    let inconclusive: Vec<&CellResult> = results
        .iter()
        .filter(|result| result.inconclusive_steal_ms.is_some())
        .collect();
    eprintln!(
        "fault matrix ({label}): {} cells, {} passed, {} failed, {} inconclusive (every attempt failed while the host stole the CPU)",
        results.len(),
        results.len() - failed.len() - inconclusive.len(),
        failed.len(),
        inconclusive.len()
    );
    for cell in &inconclusive {
        eprintln!(
            "--- {} inconclusive: the host stole {} ms of CPU during its last attempt",
            cell.cell,
            cell.inconclusive_steal_ms.unwrap_or(0)
        );
    }
    // Steal may explain a cell, never a tenth of the matrix.
    assert!(
        inconclusive.len() * 10 <= results.len(),
        "{} of {} cells inconclusive: the host took the CPU away too often to judge the pump",
        inconclusive.len(),
        results.len()
    );
    for failure in &failed {
        eprintln!(
            "--- {} FAILED:\n{}",
            failure.cell,
            failure.result.as_ref().err().unwrap()
        );
    }
    assert!(
        failed.is_empty(),
        "{} of {} cells failed",
        failed.len(),
        results.len()
    );
}

/// Only the cells whose name contains `PERFUSE_MATRIX_ONLY`, if set, and in
/// the states `PERFUSE_MATRIX_STATES` lists (comma-separated), else `states`.
fn selected(states: &str) -> Vec<matrix::Cell> {
    let only = std::env::var("PERFUSE_MATRIX_ONLY").unwrap_or_default();
    let states = std::env::var("PERFUSE_MATRIX_STATES").unwrap_or_else(|_| states.to_owned());
    cells(&spec())
        .into_iter()
        .filter(|cell| only.is_empty() || cell.name().contains(&only))
        .filter(|cell| {
            states == "all"
                || states
                    .split(',')
                    .any(|state| state.trim() == cell.state.name())
        })
        .collect()
}

#[test]
fn the_specification_table_reads_and_covers_every_fault_the_simulator_takes() {
    let _machine = crate::machine::alone();
    let rows = spec();
    let all = cells(&rows);
    assert!(all.len() >= 100, "only {} cells", all.len());
    let injected: String = rows
        .iter()
        .flat_map(|row| row.inject.clone())
        .collect::<Vec<_>>()
        .join("\n");
    for fault in [
        "occlude downstream partial",
        "occlude downstream full",
        "occlude upstream partial",
        "occlude upstream full",
        "air ",
        "bubbles ",
        "door open",
        "stall on",
        "encoder frozen",
        "chip overtemperature on",
        "chip short on",
        "chip open-load on",
        "chip stepper-silent on",
        "chip adc-silent on",
        "chip encoder-silent on",
        "chip stepper-hang on",
        "reservoir 1",
        "reservoir 0",
        "syringe removed",
        "set removed",
    ] {
        assert!(injected.contains(fault), "the matrix never injects {fault}");
    }
    // A malformed table is refused with what is wrong.
    let broken = "<!-- matrix -->\n| Row | Platform |\n|---|---|\n| a | moon |\n";
    assert!(parse(broken).is_err());
}

#[test]
fn every_fault_in_every_state_on_the_idle_stack() {
    let _machine = crate::machine::alone();
    let cells = selected("all");
    let results = run_all(&cells, jobs(), false);
    report(&results, "idle");
}

/// Minutes of the long infusion beside the loaded matrix:
/// `PERFUSE_LOAD_MINUTES`, else 10.
fn load_minutes() -> f64 {
    std::env::var("PERFUSE_LOAD_MINUTES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10.0)
}

/// The matrix again under load (stress-ng CPU, I/O and VM workers at normal
/// priority), and beside it a long infusion with a busy UI thread in its app
/// on its own stack with nothing injected: not one supervisor trip, missed
/// heartbeat or alarm may come of the load. Every fault runs under load in
/// the primary and the paused state (`PERFUSE_MATRIX_STATES=all` for every
/// state: on two cores that takes half an hour).
#[test]
#[ignore = "under load (needs stress-ng and a machine that is not shared): cargo test --test stack system_fault_matrix -- --ignored"]
fn fault_matrix_and_a_long_infusion_under_load() {
    let _machine = crate::machine::alone();
    let cells = selected("primary,paused");
    let minutes = load_minutes();
    let _load = Load::start((minutes * 60.0) as u64 + 3600).unwrap();
    let long = std::thread::spawn(move || {
        matrix::long_infusion(std::time::Duration::from_secs_f64(minutes * 60.0), true)
    });
    let results = if std::env::var("PERFUSE_MATRIX_SKIP").is_ok() {
        Vec::new()
    } else {
        run_all(&cells, jobs(), false)
    };
    let long = long.join().unwrap();
    match &long {
        Ok(run) => eprintln!("long infusion under load: {run:?}"),
        Err(error) => eprintln!("long infusion under load FAILED:\n{error}"),
    }
    if let Ok(path) = std::env::var("PERFUSE_SOAK_REPORT") {
        if let Ok(run) = &long {
            matrix::write_soak_report(std::path::Path::new(&path), run);
        }
    }
    report(&results, "under load");
    long.unwrap().check().unwrap();
}
