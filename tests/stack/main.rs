//! The real processes (simulator, supervisor, app) under faults, power loss and load, the launcher and the command lines.
//!
//! One test binary per area (each links the app and Slint once): the
//! modules are the former one-file test binaries.

mod alarm_escalation;
mod alarm_volume;
mod buzzer_pwm;
mod control_thread;
mod hospital_library;
mod hospital_link;
mod hospital_storm;
mod launcher;
mod machine;
mod power_loss;
mod repeated_occlusions;
mod resume;
mod simulator_process;
mod supervisor_cli;
mod supervisor_faults;
mod system_fault_matrix;
