//! The system fault matrix on the real processes (docs/system-fault-matrix.md):
//! every fault the simulator can inject, in every delivery state where it
//! applies, checked against the board's ground truth. Idle here; under load
//! (stress-ng, a busy UI thread in each app) in `fault_matrix_under_load`,
//! which CI runs on its own (`cargo test --test system_fault_matrix -- --ignored`).
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_arithmetic)]

#[path = "support/matrix.rs"]
mod matrix;

use matrix::{cells, jobs, parse, run_all, spec, CellResult, Load};

fn report(results: &[CellResult], label: &str) {
    let failed: Vec<&CellResult> = results.iter().filter(|result| result.result.is_err()).collect();
    eprintln!(
        "fault matrix ({label}): {} cells, {} passed, {} failed",
        results.len(),
        results.len() - failed.len(),
        failed.len()
    );
    for failure in &failed {
        eprintln!(
            "--- {} FAILED:\n{}",
            failure.cell,
            failure.result.as_ref().err().unwrap()
        );
    }
    assert!(failed.is_empty(), "{} of {} cells failed", failed.len(), results.len());
}

/// Only the cells whose name contains `PERFUSE_MATRIX_ONLY`, if set.
fn selected() -> Vec<matrix::Cell> {
    let only = std::env::var("PERFUSE_MATRIX_ONLY").unwrap_or_default();
    cells(&spec())
        .into_iter()
        .filter(|cell| only.is_empty() || cell.name().contains(&only))
        .collect()
}

#[test]
fn the_specification_table_reads_and_covers_every_fault_the_simulator_takes() {
    let rows = spec();
    let all = cells(&rows);
    assert!(all.len() >= 100, "only {} cells", all.len());
    let injected: String = rows.iter().flat_map(|row| row.inject.clone()).collect::<Vec<_>>().join("\n");
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
    let cells = selected();
    let results = run_all(&cells, jobs(), false);
    report(&results, "idle");
}

#[test]
#[ignore = "under load: CI runs it on its own (needs stress-ng)"]
fn fault_matrix_under_load() {
    let cells = selected();
    let _load = Load::start(3600).unwrap();
    let results = run_all(&cells, jobs(), true);
    report(&results, "under load");
}
