//! The Perfuse touchscreen markup (ui/*.slint), compiled to Rust.
//!
//! Only generated code lives here: the pages, widgets and adapters as Slint
//! defines them. Everything that decides anything (dose maths, limits, the
//! workflow, texts) is in the perfuse library, which drives these adapters.
#![allow(clippy::all, clippy::pedantic, unsafe_code)]

slint::include_modules!();
