//! `perfuse-sim`: the simulated pump board (see perfuse_drivers::sim).
fn main() -> std::process::ExitCode {
    perfuse_drivers::sim::cli::main()
}
