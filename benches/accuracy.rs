//! Flow accuracy by the IEC 60601-2-24 method, on the simulated board with a
//! virtual clock: the real controller (1 ms period) drives the physics; the
//! ground truth is sampled every 30 s; the trumpet curve is computed over
//! 2, 5, 11, 19 and 31 minute windows of the analysis period (the second
//! hour, or the second half of what a syringe holds); the pump's own volume
//! count is compared with the ground truth.
//!
//! Run: `cargo bench --bench accuracy`. Writes bench-results/accuracy.md and
//! a trumpet-curve PNG per platform at 25 mL/h.
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

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use perfuse::control::api::{Command, Mode};
use perfuse::control::state::End;
use perfuse_testkit::rig::{continuous, Platform, Rig};
use plotters::prelude::*;

/// Sample interval of the method, seconds.
const SAMPLE_S: f64 = 30.0;
/// Trumpet observation windows, minutes.
const WINDOWS_MIN: [u32; 5] = [2, 5, 11, 19, 31];

struct Run {
    platform: Platform,
    rate: f64,
    /// Analysis period, minutes from start.
    analysis: (f64, f64),
    /// Flow of each 30 s sample in the analysis period, mL/h.
    flows: Vec<f64>,
    /// Error of the analysis period's total volume against the programmed rate, %.
    overall_error: f64,
    /// Pump's count against the ground truth over the whole run, %.
    count_error: f64,
    /// The same over the analysis period only (start-up excluded), %.
    steady_count_error: f64,
    /// Trumpet: (window, Ep max, Ep min), % (None if the analysis period is shorter).
    trumpet: Vec<(u32, Option<(f64, f64)>)>,
    seconds: f64,
}

fn run(platform: Platform, rate: f64) -> Run {
    let started = Instant::now();
    let mut rig = Rig::new(platform, 1000).unwrap();
    // A syringe holds 50 mL: run two hours, or until 45 mL are given.
    let run_min = match platform {
        Platform::Syringe50 => (45.0 / rate * 60.0).min(120.0),
        Platform::Volumetric => 120.0,
    };
    // Whole samples only: the analysis period is the second half of them.
    let samples = (run_min * 60.0 / SAMPLE_S).floor() as usize;
    let first = samples / 2;
    let minutes = |sample: usize| sample as f64 * SAMPLE_S / 60.0;
    let analysis = (minutes(first), minutes(samples));
    // Prime first, as the method asks (a syringe's backlash is taken up by
    // the purge), then let the line drain; measure from there.
    rig.command(Command::Load(continuous(100.0, 0.1, End::Stop)));
    rig.command(Command::Start);
    rig.run_until(60.0, |snapshot| snapshot.mode == Mode::Completed)
        .unwrap();
    rig.run_for(30.0);
    let primed = rig.truth().delivered_ml;
    rig.command(Command::Load(continuous(rate, 9000.0, End::Stop)));
    rig.command(Command::Start);
    let mut volumes = vec![rig.truth().delivered_ml];
    let mut counts = vec![0.0];
    for _ in 0..samples {
        rig.run_for(SAMPLE_S);
        assert_eq!(
            rig.mode(),
            Mode::Delivering,
            "{} at {rate} mL/h stopped: {:?}",
            platform.name(),
            rig.last.alarms
        );
        volumes.push(rig.truth().delivered_ml);
        counts.push(rig.last.delivered.0 as f64 / 1.0e6);
        if platform == Platform::Volumetric && rig.truth().reservoir_ml < 200.0 {
            // A new bag is hung; a volumetric pump's flow does not notice.
            let left = rig.truth().reservoir_ml;
            rig.simulator.physics_mut().set_reservoir(left + 1000.0);
        }
    }
    let pump_count = rig.last.delivered.0 as f64 / 1.0e6;
    rig.command(Command::Pause);
    rig.run_for(30.0);
    let truth_total = rig.truth().delivered_ml - primed;
    let count_error = (pump_count - truth_total) / truth_total * 100.0;

    let flows: Vec<f64> = volumes
        .windows(2)
        .skip(first)
        .map(|pair| (pair[1] - pair[0]) * 3600.0 / SAMPLE_S)
        .collect();
    let analysed_volume = volumes[samples] - volumes[first];
    let expected = rate * (analysis.1 - analysis.0) / 60.0;
    let overall_error = (analysed_volume - expected) / expected * 100.0;
    let counted = counts[samples] - counts[first];
    let steady_count_error = (counted - analysed_volume) / analysed_volume * 100.0;
    let trumpet = WINDOWS_MIN
        .iter()
        .map(|&window| {
            let width = (f64::from(window) * 60.0 / SAMPLE_S) as usize;
            if width > flows.len() {
                return (window, None);
            }
            let errors: Vec<f64> = flows
                .windows(width)
                .map(|slice| {
                    slice.iter().map(|flow| (flow - rate) / rate).sum::<f64>() * 100.0
                        / width as f64
                })
                .collect();
            let max = errors.iter().copied().fold(f64::MIN, f64::max);
            let min = errors.iter().copied().fold(f64::MAX, f64::min);
            (window, Some((max, min)))
        })
        .collect();
    Run {
        platform,
        rate,
        analysis,
        flows,
        overall_error,
        count_error,
        steady_count_error,
        trumpet,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn plot(run: &Run, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        include_bytes!("../assets/fonts/DejaVuSans.ttf"),
    )
    .map_err(|_| "cannot load the font")?;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, lower) = root.split_vertically(280);
    let points: Vec<(f64, f64, f64)> = run
        .trumpet
        .iter()
        .filter_map(|(window, values)| values.map(|(max, min)| (f64::from(*window), max, min)))
        .collect();
    let extent = points.iter().fold(0.5_f64, |extent, (_, max, min)| {
        extent.max(max.abs()).max(min.abs())
    }) * 1.2;
    let mut chart = ChartBuilder::on(&upper)
        .caption(
            format!(
                "Trumpet curve: {} at {} mL/h",
                run.platform.name(),
                run.rate
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0_f64..32.0, -extent..extent)?;
    chart
        .configure_mesh()
        .x_desc("observation window (min)")
        .y_desc("flow error (%)")
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|(window, max, _)| (*window, *max)),
        RED.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|(window, _, min)| (*window, *min)),
        BLUE.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, run.overall_error), (32.0, run.overall_error)],
        BLACK.stroke_width(1),
    ))?;
    let flow_max = run.flows.iter().copied().fold(run.rate, f64::max) * 1.05;
    let flow_min = run.flows.iter().copied().fold(run.rate, f64::min) * 0.95;
    let mut flows = ChartBuilder::on(&lower)
        .caption("Flow every 30 s in the analysis period", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(run.analysis.0..run.analysis.1, flow_min..flow_max)?;
    flows
        .configure_mesh()
        .x_desc("time (min)")
        .y_desc("flow (mL/h)")
        .draw()?;
    flows.draw_series(LineSeries::new(
        run.flows.iter().enumerate().map(|(index, flow)| {
            (
                run.analysis.0 + (index as f64 + 1.0) * SAMPLE_S / 60.0,
                *flow,
            )
        }),
        GREEN.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

fn main() {
    let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&output).unwrap();
    let mut report = String::from(
        "# Flow accuracy (IEC 60601-2-24 method, simulated board)\n\n\
         Command: `cargo bench --bench accuracy`. The real controller at a 1 ms period drives the physics on a\n\
         virtual clock; ground truth sampled every 30 s, after priming 0.1 mL. Analysis period: the second hour\n\
         (volumetric), or the second half of the time a 50 mL syringe holds 45 mL. Errors in %.\n\n\
         | Platform | Rate mL/h | Analysis (min) | Overall error | Count vs truth, whole run | Count vs truth, analysis | 2 min | 5 min | 11 min | 19 min | 31 min |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut images = String::new();
    let cases = [
        (Platform::Syringe50, 1.0),
        (Platform::Syringe50, 25.0),
        (Platform::Syringe50, 999.0),
        (Platform::Volumetric, 1.0),
        (Platform::Volumetric, 25.0),
        (Platform::Volumetric, 999.0),
    ];
    for (platform, rate) in cases {
        let result = run(platform, rate);
        let windows: Vec<String> = result
            .trumpet
            .iter()
            .map(|(_, values)| {
                values.map_or_else(
                    || "n/a".to_owned(),
                    |(max, min)| format!("{max:+.2} / {min:+.2}"),
                )
            })
            .collect();
        let line = format!(
            "| {} | {} | {:.1}-{:.1} | {:+.3} | {:+.4} | {:+.4} | {} |\n",
            platform.name(),
            rate,
            result.analysis.0,
            result.analysis.1,
            result.overall_error,
            result.count_error,
            result.steady_count_error,
            windows.join(" | ")
        );
        print!("{line}");
        eprintln!("  ({:.1} s of computing)", result.seconds);
        report.push_str(&line);
        if (rate - 25.0).abs() < f64::EPSILON {
            let name = match platform {
                Platform::Syringe50 => "trumpet-s50-25ml-h.png",
                Platform::Volumetric => "trumpet-v1-25ml-h.png",
            };
            plot(&result, &output.join(name)).unwrap();
            let _ = writeln!(
                images,
                "Trumpet curve, {} at 25 mL/h: `bench-results/{name}`",
                platform.name()
            );
        }
    }
    report.push('\n');
    report.push_str(&images);
    report.push_str(
        "\nTrumpet cells are Ep(max) / Ep(min) over every window of that length in the analysis period.\n\
         \"Count vs truth\" is the pump's own volume (from its steps) against the volume the physics delivered\n\
         (target: within 0.5 %), over the whole run after priming and over the analysis period alone.\n\
         The volumetric mechanism loses 0.02 % of its stroke per mmHg of back-pressure (the set's tubing\n\
         yields); the controller compensates from the downstream pressure with the loss calibrated in the\n\
         signed profile. At low rates the volumetric trumpet widens at short windows: one camshaft turn\n\
         (0.2 mL, 30 % flow ripple) takes 12 minutes at 1 mL/h.\n",
    );
    std::fs::write(output.join("accuracy.md"), report).unwrap();
    println!("wrote {}", output.join("accuracy.md").display());
}
