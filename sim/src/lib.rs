//! The simulated board (DESIGN.md, "The simulated board").
//!
//! - `memory`: the virtual board, a block of atomics shared between
//!   processes through /dev/shm (or held in memory for tests);
//! - `chips`: the TMC5160, MCP3008 and LS7366R emulated at the bus;
//! - `backend`: embedded-hal pins and SPI devices over the board, and the
//!   virtual watchdog;
//! - `hardware`: the board configuration's pins and devices on the board:
//!   the `sim` back-end the app and supervisor use;
//! - `physics`: mechanisms, line pressure, occlusions, air, reservoir: the
//!   ground truth for volume delivered;
//! - `simulator`: couples physics and board, runs the virtual watchdog;
//! - `command`, `service`, `cli`: the `perfuse-sim` process, its command
//!   socket and command line.

pub mod backend;
pub mod chips;
pub mod cli;
pub mod command;
pub mod hardware;
pub mod memory;
pub mod physics;
pub mod service;
pub mod simulator;
pub mod sound;

pub use backend::{SimBusError, SimChip, SimPin, SimSpi, SimTone, SimWatchdog};
pub use memory::{
    board_clock_ms, board_clock_us, chip_fault, Board, BoardError, BoardMemory, BuzzerOutput,
};
pub use physics::{DemandButton, Faults, LineModel, Mechanism, Occlusion, Physics, Syringe, Truth};
pub use service::{in_memory_file_system, SimClient, SimOptions, SimPaths};
pub use simulator::{adc_channel, SensorModel, SimWiring, Simulator, ENCODER_COUNTS_PER_TURN};
