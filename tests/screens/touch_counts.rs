//! The reference tasks walked through the window, counted by the
//! project's own usability metrics: each starts its infusion with no
//! refusal, within its target (issue 14: heparin at most 14 touches, a
//! basic infusion at most 8). `cargo bench --bench touches` writes the
//! counts to bench-results/.
#![allow(clippy::unwrap_used, clippy::panic)]

use perfuse::store::metrics::Outcome;
use perfuse::ui::text::Language;
use perfuse_testkit::touches::reference_tasks;

#[test]
fn every_reference_task_starts_within_its_touch_target() {
    for task in reference_tasks() {
        let counted = task.walk(Language::English);
        assert_eq!(
            counted.outcome,
            Outcome::Started,
            "{}: {counted:?}",
            task.name
        );
        assert_eq!(counted.refusals, 0, "{}: {counted:?}", task.name);
        // Every press the walk made is one touch the metrics counted.
        assert_eq!(
            counted.touches, counted.pressed,
            "{}: {:?}",
            task.name, counted.presses
        );
        assert_eq!(
            usize::try_from(counted.touches).unwrap(),
            counted.presses.len(),
            "{}",
            task.name
        );
        if let Some(target) = task.target {
            assert!(
                counted.touches <= target,
                "{}: {} touches, target {target}: {:?}",
                task.name,
                counted.touches,
                counted.presses
            );
        }
    }
}
