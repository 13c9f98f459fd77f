//! The simulated pump rig lives in perfuse-testkit (`perfuse_testkit::rig`) so the
//! benchmarks use it too.
#![allow(unused_imports)]

pub use perfuse_testkit::rig::{continuous, Platform, Rig};
