//! The hardware watchdog device (/dev/watchdog; on the Pi the BCM2835's):
//! two ioctls, the only unsafe code on the supervisor's path.
//!
//! Opening the device starts it; writing any byte other than 'V' feeds it.
//! It is never closed with the magic 'V', so if the supervisor dies the
//! board resets and the motor driver's enable falls back to disabled. The
//! BCM2835 takes whole seconds from 1 to 15, and one opener.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::path::Path;

// WDIOC_SETTIMEOUT = _IOWR('W', 6, int) and WDIOC_GETTIMEOUT = _IOR('W', 7, int)
// from linux/watchdog.h.
nix::ioctl_readwrite!(watchdog_set_timeout, b'W', 6, nix::libc::c_int);
nix::ioctl_read!(watchdog_get_timeout, b'W', 7, nix::libc::c_int);

/// The opened watchdog device.
pub struct DeviceWatchdog {
    file: File,
    /// The timeout the driver granted, seconds.
    pub timeout_s: u32,
}

impl DeviceWatchdog {
    /// Opens `path`, asks for `timeout_s` (1 to 15 on the Pi) and reads back
    /// what the driver granted.
    pub fn open(path: &Path, timeout_s: u32) -> Result<Self, String> {
        if !(1..=15).contains(&timeout_s) {
            return Err(format!(
                "watchdog timeout {timeout_s} s: the BCM2835 takes whole seconds from 1 to 15"
            ));
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|error| format!("cannot open the watchdog {}: {error}", path.display()))?;
        let mut requested =
            nix::libc::c_int::try_from(timeout_s).map_err(|_| "timeout out of range".to_owned())?;
        let mut granted: nix::libc::c_int = 0;
        #[allow(unsafe_code)]
        // SAFETY: the descriptor is the open watchdog device, and both ioctls
        // take a pointer to one c_int that lives on this stack frame for the
        // whole call (linux/watchdog.h: WDIOC_SETTIMEOUT reads and writes it,
        // WDIOC_GETTIMEOUT writes it).
        let result = unsafe {
            watchdog_set_timeout(file.as_raw_fd(), &mut requested)
                .and_then(|_| watchdog_get_timeout(file.as_raw_fd(), &mut granted))
        };
        result.map_err(|error| {
            format!(
                "the watchdog {} refused a {timeout_s} s timeout: {error}",
                path.display()
            )
        })?;
        let timeout_s = u32::try_from(granted)
            .map_err(|_| "the watchdog reported a negative timeout".to_owned())?;
        Ok(Self { file, timeout_s })
    }
}

impl DeviceWatchdog {
    /// Feeds the watchdog: any byte but 'V' is a keep-alive ('V' would arm
    /// the magic close, which this never sends).
    pub fn feed(&mut self) -> Result<(), String> {
        self.file
            .write_all(b"\0")
            .map_err(|error| format!("cannot feed the watchdog: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_the_bcm2835_cannot_take_are_refused_before_opening() {
        let error = DeviceWatchdog::open(Path::new("/dev/null"), 0)
            .err()
            .unwrap_or_default();
        assert!(error.contains("whole seconds from 1 to 15"), "{error}");
        assert!(DeviceWatchdog::open(Path::new("/dev/null"), 16).is_err());
        let missing = DeviceWatchdog::open(Path::new("/nonexistent/watchdog"), 2)
            .err()
            .unwrap_or_default();
        assert!(missing.contains("cannot open the watchdog"), "{missing}");
    }
}
