//! The app process: the control thread on a board, with its front-ends. For
//! now the headless front-end (line commands on stdin); the touchscreen UI
//! joins it.

pub mod headless;
pub mod persist;
