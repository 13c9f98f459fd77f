//! `perfuse-supervisor`: the independent safety supervisor (the perfuse-supervisor crate: supervisor/).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    perfuse_supervisor::cli::main()
}
