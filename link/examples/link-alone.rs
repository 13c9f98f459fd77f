//! The link process built from this crate alone (the pump's binary is
//! `perfuse-link` in the perfuse package): for trying the link against a
//! gateway without building the app. Same options as perfuse-link.
fn main() -> std::process::ExitCode {
    perfuse_link::daemon::main()
}
