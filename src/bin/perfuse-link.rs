//! `perfuse-link`: the pump's network link to the hospital's gateway (the
//! perfuse-link crate: link/). It never touches the board or the supervisor.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    perfuse_link::daemon::main()
}
