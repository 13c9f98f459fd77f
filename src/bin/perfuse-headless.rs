//! `perfuse-headless`: the app without a screen (see perfuse::app::headless).
fn main() -> std::process::ExitCode {
    perfuse::app::headless::main()
}
