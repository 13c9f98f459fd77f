//! Touches per reference task (issue 14), walked through the window on
//! Slint's testing back-end and counted by the usability metrics that
//! `perfuse-log --metrics` prints. Writes bench-results/touch-counts.md.
//!
//! `cargo bench --bench touches`
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

use perfuse::ui::text::Language;
use perfuse_testkit::touches::reference_tasks;

fn main() {
    let mut report = String::from(
        "# Touches per reference task\n\n\
         Walked through the window as a nurse would, on a pump just started\n\
         (no care area chosen yet), and counted by the usability metrics\n\
         (`perfuse-log --metrics`): every touch from New infusion to Start.\n\
         Rerun with `cargo bench --bench touches`.\n\n\
         | Task | Platform | Touches | Target | Refused | The touches |\n\
         |---|---|---|---|---|---|\n",
    );
    for task in reference_tasks() {
        let counted = task.walk(Language::English);
        let target = task.target.map_or_else(
            || "counted".to_owned(),
            |target| format!("at most {target}"),
        );
        println!(
            "{}: {} touches ({target}), {:?}",
            task.name, counted.touches, counted.outcome
        );
        let _ = writeln!(
            report,
            "| {} | {} | {} | {target} | {} | {} |",
            task.name,
            task.platform.name(),
            counted.touches,
            counted.refusals,
            counted.presses.join(" · ")
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/touch-counts.md");
    std::fs::write(&path, report).unwrap();
    println!("written to {}", path.display());
}
