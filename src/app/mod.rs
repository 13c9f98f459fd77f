//! The app process: the control thread on a board, with its front-ends:
//! the touchscreen window, and the headless line-command front-end for
//! fault-injection tests and scripted sessions.

pub mod boot;
pub mod device;
pub mod display;
pub mod headless;
pub mod touchscreen;
