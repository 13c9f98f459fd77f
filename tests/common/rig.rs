//! The simulated pump rig lives in the library (`perfuse::harness`) so the
//! benchmarks use it too.
#![allow(unused_imports)]

pub use perfuse::harness::{continuous, Platform, Rig};
