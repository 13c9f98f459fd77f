//! `perfuse-log`: export the event log as CSV or JSON.
fn main() -> std::process::ExitCode {
    perfuse::store::export::main()
}
