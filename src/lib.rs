//! Perfuse: software for a bedside infusion pump prototype.
//!
//! This library holds everything that is not a thin binary: the therapy core
//! (units, dose maths, programs) and the drug library with its dose-error
//! reduction. See DESIGN.md in the shared folder for the whole picture.

pub mod alarms;
pub mod app;
pub mod assets;
pub mod control;
pub mod druglib;
pub mod exact;
pub mod harness;
pub mod platform;
pub mod signing;
pub mod stack;
pub mod store;
pub mod supervision;
pub mod therapy;
pub mod ui;
