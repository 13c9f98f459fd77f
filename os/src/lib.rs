//! What Perfuse asks of the operating system, in one place: the monotonic
//! clock and absolute sleeps, real-time treatment (locked memory, a pinned
//! CPU, SCHED_FIFO), the hardware watchdog's ioctls, and children that end
//! with their parent.
//!
//! This crate and the simulated board's shared memory are the only places
//! with `unsafe` code; every other crate forbids it. Each unsafe block says
//! why it is sound.

pub mod clock;
pub mod process;
pub mod realtime;
pub mod watchdog;
