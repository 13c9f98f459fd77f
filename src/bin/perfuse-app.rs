//! `perfuse-app`: the pump app on a device (see src/app/device.rs).
fn main() -> std::process::ExitCode {
    perfuse::app::device::main()
}
