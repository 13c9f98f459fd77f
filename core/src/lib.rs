//! The Perfuse core: what the app and the safety supervisor both rely on,
//! with no UI, storage or board code.
//!
//! - `therapy`: units, dose maths, infusion programs, validation (pure);
//! - `platform`: platform identity and signed mechanism profiles (F1);
//! - `signing`: Ed25519 signatures over profiles and drug libraries;
//! - `exact`: exact decimals read from TOML and JSON.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod exact;
pub mod platform;
pub mod signing;
pub mod therapy;
