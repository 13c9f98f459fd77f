//! The heartbeat: what the app's control thread and the `perfuse-supervisor`
//! process share, and nothing else.
//!
//! - `protocol`: the 64-byte message, its checksum and strict decoding;
//! - `link`: the local seqpacket socket that carries it, never blocking the
//!   sender.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

pub mod link;
pub mod protocol;

/// Where the supervisor listens on a device (the systemd unit's runtime
/// folder); on the simulated board the socket sits in the board's folder.
pub const DEVICE_SOCKET: &str = "/run/perfuse/supervisor.sock";
