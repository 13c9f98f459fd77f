//! The safety supervisor, an independent process (DESIGN.md, "Processes").
//!
//! - `watch`: the heartbeat watch, pure: what each message or silence means;
//! - `supervisor`: the loop that applies it to the motor enable line, the
//!   buzzer and the encoder, and its trip log;
//! - `watchdog`: the hardware watchdog device;
//! - `cli`: the `perfuse-supervisor` command line.
//!
//! The protocol it shares with the control thread is `perfuse-heartbeat`.

pub mod cli;
pub mod supervisor;
pub mod watch;
pub mod watchdog;
