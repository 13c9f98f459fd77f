//! `perfuse-platform`: list platforms; validate, sign and cross-check mechanism profiles.
fn main() -> std::process::ExitCode {
    perfuse::platform::tool::main()
}
