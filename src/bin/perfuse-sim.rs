//! `perfuse-sim`: the simulated pump board (see perfuse_sim).
fn main() -> std::process::ExitCode {
    perfuse_sim::cli::main()
}
