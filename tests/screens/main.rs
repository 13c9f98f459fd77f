//! The touchscreen: the window driven as a nurse would, the workflow, the locales, use errors and dose-error reduction.
//!
//! One test binary per area (each links the app and Slint once): the
//! modules are the former one-file test binaries.

mod alarm_signals;
mod dose_error_reduction;
mod end_and_time;
mod home_and_programming;
mod hospital_library;
mod hospital_orders;
mod multi_step;
mod pca;
mod start_later;
mod syringe;
mod touch_counts;
mod ui_locales;
mod ui_window;
mod ui_workflow;
mod use_errors;
