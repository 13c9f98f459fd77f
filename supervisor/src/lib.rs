//! The safety supervisor, an independent process (DESIGN.md, "Processes").
//!
//! - `watch`: the heartbeat watch, pure: what each message or silence means;
//! - `supervisor`: the loop that applies it to the motor enable line, the
//!   buzzer and the encoder, and its trip log;
//! - `cli`: the `perfuse-supervisor` command line.
//!
//! The protocol it shares with the control thread is `perfuse-heartbeat`;
//! the clock, real-time set-up and watchdog device are `perfuse-os`.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod cli;
pub mod sounder;
pub mod supervisor;
pub mod watch;
