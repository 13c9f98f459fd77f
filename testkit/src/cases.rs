//! How many cases a property test runs, and where its failures are kept.
#![allow(dead_code)]

use proptest::test_runner::{FailurePersistence, FileFailurePersistence};

/// Cases per property: as many as `PROPTEST_CASES` says (for a long run
/// once), else the default of the calling file.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Failures found are written beside the test, to tests/<file>.regressions,
/// and replayed first on every run, so a case found once is tested for ever.
pub fn kept() -> Option<Box<dyn FailurePersistence>> {
    Some(Box::new(FileFailurePersistence::WithSource("regressions")))
}
