//! The Rust side of the touchscreen. The pure parts (texts, keypad, the
//! programming workflow) know nothing of Slint and are tested on their own;
//! the page controllers drive the markup in ui/ through its adapters.

pub mod backlight;
pub mod clock;
pub mod history;
pub mod keypad;
pub mod offscreen;
pub mod pump;
pub mod session;
pub mod text;
pub mod window;
pub mod words;
pub mod workflow;
