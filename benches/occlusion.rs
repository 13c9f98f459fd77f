//! Downstream occlusion: time to alarm and the bolus released when the line
//! is cleared, at 1 and 25 mL/h on both platforms, for Perfuse's detector
//! (threshold, and rise above the settled baseline, with back-off) side by
//! side with a plain threshold-only detector without back-off, in the same
//! run, on the simulated board (virtual clock, 1 ms control period).
//!
//! Run: `cargo bench --bench occlusion`. Writes bench-results/occlusion.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use std::path::Path;

use perfuse::control::api::{Command, ControllerSettings, Mode};
use perfuse::control::state::End;
use perfuse::control::units::Nanolitres;
use perfuse_sim::{Faults, Occlusion};
use perfuse_testkit::rig::{continuous, platform_settings, Platform, Rig};

/// Longest wait for an alarm, seconds of simulated time.
const LIMIT_S: f64 = 3.0 * 3600.0;

#[derive(Clone, Copy)]
enum Detector {
    Perfuse,
    ThresholdOnly,
}

impl Detector {
    fn name(self) -> &'static str {
        match self {
            Detector::Perfuse => "Perfuse (threshold + rise, back-off)",
            Detector::ThresholdOnly => "threshold only, no back-off",
        }
    }

    fn settings(self, platform: Platform) -> ControllerSettings {
        let mut settings = platform_settings(platform, 1000).unwrap();
        if let Detector::ThresholdOnly = self {
            settings.detectors.downstream_rise = i32::MAX;
            settings.backoff_limit = Nanolitres(0);
        }
        settings
    }
}

struct Outcome {
    time_to_alarm_s: Option<f64>,
    peak_mmhg: f64,
    bolus_ml: f64,
}

fn trial(platform: Platform, rate: f64, detector: Detector) -> Outcome {
    let mut rig = Rig::with_settings(platform, detector.settings(platform)).unwrap();
    rig.command(Command::Load(continuous(rate, 40.0, End::Stop)));
    rig.command(Command::Start);
    rig.run_for(120.0);
    rig.simulator.physics_mut().set_faults(Faults {
        downstream: Occlusion::Full,
        ..Faults::NONE
    });
    let time_to_alarm_s = rig.run_until(LIMIT_S, |snapshot| snapshot.mode == Mode::AlarmStopped);
    let mut peak_mmhg = rig.truth().downstream_pressure_mmhg;
    // A minute for the nurse to arrive (back-off runs meanwhile), then the clamp is opened.
    for _ in 0..60 {
        rig.run_for(1.0);
        peak_mmhg = peak_mmhg.max(rig.truth().downstream_pressure_mmhg);
    }
    let before = rig.truth().delivered_ml;
    rig.simulator.physics_mut().set_faults(Faults::NONE);
    rig.run_for(120.0);
    assert_ne!(
        rig.mode(),
        Mode::Delivering,
        "the pump stays stopped until the nurse resumes"
    );
    Outcome {
        time_to_alarm_s,
        peak_mmhg,
        bolus_ml: rig.truth().delivered_ml - before,
    }
}

fn main() {
    let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&output).unwrap();
    let mut report = String::from(
        "# Downstream occlusion: time to alarm and bolus after release\n\n\
         Command: `cargo bench --bench occlusion`. Simulated board, virtual clock, 1 ms control period; a full\n\
         occlusion after 2 minutes of steady flow at the 300 mmHg level; the clamp is opened one minute after\n\
         the alarm; the bolus is the volume that reaches the patient in the next two minutes (the pump stays\n\
         stopped). Both detectors in the same run.\n\n\
         | Platform | Rate mL/h | Detector | Time to alarm | Peak pressure mmHg | Bolus after release mL |\n\
         |---|---|---|---|---|---|\n",
    );
    for platform in [Platform::Syringe50, Platform::Volumetric] {
        for rate in [1.0, 25.0] {
            for detector in [Detector::Perfuse, Detector::ThresholdOnly] {
                let outcome = trial(platform, rate, detector);
                let alarm = outcome.time_to_alarm_s.map_or_else(
                    || format!("none in {:.0} h", LIMIT_S / 3600.0),
                    |seconds| format!("{:.0} s ({:.1} min)", seconds, seconds / 60.0),
                );
                let line = format!(
                    "| {} | {} | {} | {} | {:.0} | {:.3} |\n",
                    platform.name(),
                    rate,
                    detector.name(),
                    alarm,
                    outcome.peak_mmhg,
                    outcome.bolus_ml
                );
                print!("{line}");
                report.push_str(&line);
            }
        }
    }
    report.push_str("\nECRI criterion for the bolus after an occlusion is cleared: at most 0.5 mL (DESIGN.md).\n");
    std::fs::write(output.join("occlusion.md"), report).unwrap();
    println!("wrote {}", output.join("occlusion.md").display());
}
