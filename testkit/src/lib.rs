//! Perfuse's test and gallery tooling, kept out of the pump's library:
//!
//! - `rig`: the real controller against the simulated mechanism in one
//!   process, on a virtual clock (hours of infusion in seconds);
//! - `pump`: that rig behind the UI's `Pump`, for UI tests;
//! - `scene`: a pump and its window driven as a nurse's presses would;
//! - `gallery`: every touchscreen page drawn to PNG (`perfuse-gallery`);
//! - `host`: the machine's own stops (CPU steal), for timing tests;
//! - `bins`: the project folder and the built programs;
//! - `library`: the shipped sample library, keys and programs from entries;
//! - `cases`: property-test case counts and kept failures;
//! - `window`: the touchscreen driven by presses, for UI tests and the
//!   touch counts;
//! - `listen`: the simulated buzzer heard from outside, pulse by pulse;
//! - `sound`: buzzer sound to WAV and back, its pulses and spectrum (FFT);
//! - `faults`, `matrix`, `crash`, `motor`: the real processes under faults
//!   (the system fault matrix), power loss and the motor check, shared by
//!   the integration tests and the benchmarks.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod bins;
pub mod cases;
pub mod crash;
pub mod faults;
pub mod fit;
pub mod gallery;
pub mod hospital;
pub mod host;
pub mod library;
pub mod listen;
pub mod matrix;
pub mod motor;
pub mod panel;
pub mod pump;
pub mod rig;
pub mod scene;
pub mod sound;
pub mod storm;
pub mod touches;
pub mod window;
pub mod yocto;
