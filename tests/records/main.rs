//! What is kept and read back: the event log and its export, the drug library and its tool, the platform identity.
//!
//! One test binary per area (each links the app and Slint once): the
//! modules are the former one-file test binaries.

mod druglib_loading;
mod druglib_staging;
mod druglib_tool;
mod hat_eeprom;
mod log_export;
mod packaging;
mod platform_identity;
mod store;
