//! `perfuse-supervisor`: the independent safety supervisor (see perfuse::supervision).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    perfuse::supervision::cli::main()
}
