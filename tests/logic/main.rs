//! In-process logic: the therapy core and the pump state machine as properties, the heartbeat protocol and link, the supervisor's watch, and the controller on the simulated board.
//!
//! One test binary per area (each links the app and Slint once): the
//! modules are the former one-file test binaries.

mod alarm_sound;
mod control_on_simulated_board;
mod heartbeat_link;
mod heartbeat_protocol;
mod pca_on_simulated_board;
mod pump_state_machine;
mod supervision_watch;
mod therapy_properties;
