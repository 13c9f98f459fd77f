//! The app process: the control thread on a board, with its front-ends:
//! the touchscreen window, and the headless line-command front-end for
//! fault-injection tests and scripted sessions.

pub mod device;
pub mod headless;
pub mod persist;
pub mod touchscreen;
