//! Supervision: the heartbeat protocol shared by the app's control thread
//! and the `perfuse-supervisor` process, and the link that carries it.

pub mod cli;
pub mod link;
pub mod protocol;
pub mod supervisor;
pub mod watch;
pub mod watchdog;
