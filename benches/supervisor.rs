//! The supervisor under fault injection, with real processes on the
//! simulated board (simulator, supervisor and app each their own process):
//! 100 trials per fault kind, at 25 mL/h and at the platform maximum (the
//! Perfuse S50 syringe pump, 999 mL/h). For each: ms from the last heartbeat
//! the supervisor accepted to ENABLE off (the board's own stamp of DRV_ENN),
//! ms from the fault itself, and the volume the motor moved after the fault
//! (from the rotor's ground truth); p50, p99 and max.
//!
//! Run (as root, so the supervisor gets SCHED_FIFO and the figures mean
//! something): `cargo bench --bench supervisor`. Writes
//! bench-results/supervisor.md. `PERFUSE_BENCH_TRIALS=10` for a quick look.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use perfuse_testkit::faults;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;

use faults::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use perfuse_sim::chip_fault;

/// The S50's maximum rate with its 50 mL syringe (its signed profile).
const PLATFORM_MAX_ML_H: u32 = 999;

fn trials() -> usize {
    std::env::var("PERFUSE_BENCH_TRIALS")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|count| *count > 0)
        .unwrap_or(100)
}

/// p50, p99 and max of `values`.
fn percentiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |fraction: f64| {
        let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
        sorted[index.min(sorted.len() - 1)]
    };
    (at(0.5), at(0.99), sorted[sorted.len() - 1])
}

fn cell(values: &[f64], decimals: usize) -> String {
    if values.is_empty() {
        return "n/a".to_owned();
    }
    let (p50, p99, max) = percentiles(values);
    format!("{p50:.decimals$} / {p99:.decimals$} / {max:.decimals$}")
}

struct Row {
    fault: String,
    rate: String,
    trials: usize,
    from_last_good_ms: Vec<f64>,
    from_fault_ms: Vec<f64>,
    moved_ul: Vec<f64>,
    note: String,
}

impl Row {
    fn markdown(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            self.fault,
            self.rate,
            self.trials,
            cell(&self.from_last_good_ms, 1),
            cell(&self.from_fault_ms, 1),
            cell(&self.moved_ul, 3),
            self.note
        )
    }
}

/// Faults injected into a real app infusing at `rate_ml_h`.
fn app_faults(stack: &Stack, rate_ml_h: u32, trials: usize) -> Vec<Row> {
    let memory = stack.board.memory();
    let kinds: [(&str, Fault); 3] = [
        ("kill -9 the app", Fault::Signal(Signal::SIGKILL)),
        ("SIGSTOP the app", Fault::Signal(Signal::SIGSTOP)),
        ("stall only the control thread", Fault::StallControlThread),
    ];
    kinds
        .into_iter()
        .map(|(name, fault)| {
            let mut cuts = Vec::new();
            for _ in 0..trials {
                // A full syringe each time, so the fastest rate never runs it dry.
                stack.sim.send("reservoir 50").unwrap();
                let mut app = stack.infusing_app(rate_ml_h);
                cuts.push(stack.measure(&mut app, fault));
                memory
                    .chip_faults
                    .fetch_and(!chip_fault::STEPPER_BUS_HANG, Ordering::AcqRel);
                let pid = Pid::from_raw(i32::try_from(app.id()).unwrap());
                let _ = kill(pid, Signal::SIGCONT);
                let _ = app.kill();
                app.wait().unwrap();
            }
            eprintln!("{name} at {rate_ml_h} mL/h: {trials} trials done");
            Row {
                fault: name.to_owned(),
                rate: format!("{rate_ml_h} mL/h"),
                trials,
                from_last_good_ms: cuts.iter().map(|cut| cut.from_last_good_ms).collect(),
                from_fault_ms: cuts.iter().map(|cut| cut.from_fault_ms).collect(),
                moved_ul: cuts.iter().map(|cut| cut.moved_ml * 1000.0).collect(),
                note: format!(
                    "buzzer sounded {} of {trials}",
                    cuts.iter().filter(|cut| cut.sounded).count()
                ),
            }
        })
        .collect()
}

fn main() {
    let trials = trials();
    let mut rows = Vec::new();
    for rate in [25, PLATFORM_MAX_ML_H] {
        let stack = Stack::start();
        rows.extend(app_faults(&stack, rate, trials));
        let mut stack = stack;
        let (mut released, mut moved) = (Vec::new(), Vec::new());
        for trial in 0..trials {
            stack.sim.send("reservoir 50").unwrap();
            let (ms, ml) = kill_supervisor_trial(&mut stack, trial + 1, rate);
            released.push(ms);
            moved.push(ml * 1000.0);
        }
        eprintln!("kill -9 the supervisor at {rate} mL/h: {trials} trials done");
        rows.push(Row {
            fault: "kill -9 the supervisor".to_owned(),
            rate: format!("{rate} mL/h"),
            trials,
            from_last_good_ms: Vec::new(),
            from_fault_ms: released,
            moved_ul: moved,
            note: format!(
                "board reset by the watchdog {} of {trials}",
                stack
                    .board
                    .memory()
                    .watchdog_expiries
                    .load(Ordering::Acquire)
            ),
        });
    }
    // Protocol faults come from a test app speaking the protocol itself, so
    // no motor runs: the cut is timed, the volume is what that time allows.
    let stack = Stack::start();
    for (name, fault, offset) in [
        ("garbage heartbeats", ProtocolFault::Garbage, 0),
        ("replayed heartbeats", ProtocolFault::Replayed, 1),
        ("flooding heartbeats", ProtocolFault::Flooding, 2),
    ] {
        let times: Vec<f64> = (0..trials as u64)
            .map(|trial| protocol_trial(&stack, 1000 + trial * 3 + offset, fault))
            .collect();
        eprintln!("{name}: {trials} trials done");
        let (_, _, worst) = percentiles(&times);
        rows.push(Row {
            fault: name.to_owned(),
            rate: "test app".to_owned(),
            trials,
            from_last_good_ms: times,
            from_fault_ms: Vec::new(),
            moved_ul: Vec::new(),
            note: format!(
                "at most {:.3} uL at 25 mL/h, {:.2} uL at {PLATFORM_MAX_ML_H} mL/h in that time",
                25.0 / 3.6 * worst / 1000.0,
                f64::from(PLATFORM_MAX_ML_H) / 3.6 * worst / 1000.0
            ),
        });
    }
    let mut motor = TestMotor::new(&stack);
    let caught: Vec<f64> = (0..trials as u64)
        .map(|trial| runaway_trial(&stack, &mut motor, 5000 + trial))
        .collect();
    eprintln!("runaway: {trials} trials done");
    rows.push(Row {
        fault: "heartbeats claim no motion, motor at 2000 microsteps/s".to_owned(),
        rate: "test app".to_owned(),
        trials,
        from_last_good_ms: Vec::new(),
        from_fault_ms: caught,
        moved_ul: Vec::new(),
        note: "runaway check: from the first unreported step".to_owned(),
    });

    let mut report = String::new();
    writeln!(report, "# Supervisor fault injection\n").unwrap();
    writeln!(
        report,
        "Real processes on the simulated board (perfuse-sim, perfuse-supervisor at SCHED_FIFO 90, \
         perfuse-headless with its control thread at SCHED_FIFO 80), Perfuse S50 syringe pump, \
         50 mL syringe. Heartbeats every 10 ms, deadline 50 ms, supervisor period 2 ms. \
         ENABLE off is the board's own stamp of DRV_ENN going high; the last good heartbeat is \
         the send time of the last message the supervisor accepted (its trip record); motion is \
         the rotor's ground truth after the fault. Each cell: p50 / p99 / max.\n"
    )
    .unwrap();
    writeln!(report, "Run: `cargo bench --bench supervisor` (as root for SCHED_FIFO); {trials} trials per row.\n").unwrap();
    writeln!(
        report,
        "| Fault | Rate | Trials | Last good heartbeat to ENABLE off, ms | Fault to ENABLE off, ms | Motion after the fault, uL | Notes |"
    )
    .unwrap();
    writeln!(report, "|---|---|---|---|---|---|---|").unwrap();
    for row in &rows {
        report.push_str(&row.markdown());
    }
    writeln!(
        report,
        "\nOne deadline's worth (50 ms) is {:.3} uL at 25 mL/h and {:.2} uL at {PLATFORM_MAX_ML_H} mL/h.",
        25.0 / 3.6 * 0.05,
        f64::from(PLATFORM_MAX_ML_H) / 3.6 * 0.05
    )
    .unwrap();
    println!("{report}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/supervisor.md");
    std::fs::write(&path, report).unwrap();
    eprintln!("written to {}", path.display());
}
