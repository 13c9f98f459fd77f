//! Perfuse: software for a bedside infusion pump prototype.
//!
//! This library holds everything that is not a thin binary: the therapy core
//! (units, dose maths, programs) and the drug library with its dose-error
//! reduction. See DESIGN.md in the shared folder for the whole picture.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub use perfuse_core::{exact, platform, signing, therapy};

pub mod alarms;
pub mod app;
pub mod assets;
pub mod control;
pub mod druglib;
pub mod services;
pub mod stack;
pub mod store;
pub mod ui;
