//! The control side of the pump: integer control units, step generation,
//! and (as they land) the pump state machine, detectors and the real-time
//! control thread. Nothing here allocates, blocks or panics on the control
//! path.

pub mod api;
pub mod controller;
pub mod detectors;
pub mod program;
pub mod settings;
pub mod state;
pub mod steps;
pub mod thread;
pub mod units;
