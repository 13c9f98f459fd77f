//! Perfuse's test and gallery tooling, kept out of the pump's library:
//!
//! - `rig`: the real controller against the simulated mechanism in one
//!   process, on a virtual clock (hours of infusion in seconds);
//! - `pump`: that rig behind the UI's `Pump`, for UI tests;
//! - `scene`: a pump and its window driven as a nurse's presses would;
//! - `gallery`: every touchscreen page drawn to PNG (`perfuse-gallery`);
//! - `host`: the machine's own stops (CPU steal), for timing tests.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod gallery;
pub mod host;
pub mod pump;
pub mod rig;
pub mod scene;
