//! `perfuse-druglib`: validate, sign, show and diff drug libraries.
fn main() -> std::process::ExitCode {
    perfuse::druglib::tool::main()
}
