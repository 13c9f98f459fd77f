//! Child processes that cannot outlive the process that started them.

use std::process::Command;

/// Has the child sent SIGTERM when the process that started it ends,
/// however it ends (even SIGKILL): no simulated board or supervisor
/// outlives the launcher or test that started it.
pub fn ends_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec the closure only calls prctl(2) and
    // getppid(2), which are async-signal-safe, and allocates nothing.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)?;
            // The parent may have gone before the line above took effect.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the launcher is gone"));
            }
            Ok(())
        });
    }
}
