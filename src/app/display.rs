//! Where the touchscreen draws. On the pump it draws straight on the panel
//! through DRM/KMS, with touch from libinput (Slint's linuxkms back-end,
//! software renderer, no compositor and no seat daemon); on a laptop, under
//! Xvfb or in a desktop session, in a window (winit). Both draw the same
//! screens with the same software renderer, so what a usability study sees
//! in a window is what the pump shows.

use std::path::Path;
use std::time::{Duration, Instant};

/// The display the touchscreen opens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Display {
    /// Straight on the panel through DRM/KMS, touch through libinput: the
    /// pump itself (needs a build with `--features kms`).
    Kms,
    /// A window in a desktop session (X11 or Wayland): a laptop, or Xvfb.
    Window,
}

/// What to say when a window is asked for and there is no desktop session.
pub const NO_DISPLAY: &str =
    "no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the pump window cannot open. \
     Run it in a desktop session (or under Xvfb); on the pump, `perfuse-app --display kms` \
     draws straight on the panel; or use `perfuse --headless` for the line-command app";

/// Where the kernel puts DRM devices.
pub const DRI: &str = "/dev/dri";

impl Display {
    /// The option's value, as typed.
    pub fn name(self) -> &'static str {
        match self {
            Display::Kms => "kms",
            Display::Window => "window",
        }
    }

    /// Can it open here? Says what is missing if not. Checked before the
    /// control thread starts, so a pump without its panel never runs one.
    pub fn check(self) -> Result<(), String> {
        self.wait(Duration::ZERO)
    }

    /// As `check`, but the panel is given up to `patience` to appear: at
    /// boot the display's driver (vc4 on a Pi, virtio_gpu in QEMU) is a
    /// module that udev may load after systemd has started the app.
    pub fn wait(self, patience: Duration) -> Result<(), String> {
        match self {
            Display::Window => {
                if desktop_session() {
                    Ok(())
                } else {
                    Err(NO_DISPLAY.to_owned())
                }
            }
            Display::Kms => wait_for_kms(Path::new(DRI), patience),
        }
    }

    /// Makes Slint draw on this display; call once, before any window.
    pub fn select(self) -> Result<(), String> {
        self.check()?;
        let backend = match self {
            Display::Kms => "linuxkms",
            Display::Window => "winit",
        };
        slint::BackendSelector::new()
            .backend_name(backend.to_owned())
            .renderer_name("software".to_owned())
            .select()
            .map_err(|error| format!("the {} display did not open: {error}", self.name()))
    }
}

/// Is there a desktop session to open a window in?
pub fn desktop_session() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// The DRM devices (`card0`, `card1`, …) in `dri`, by name.
pub fn drm_cards(dri: &Path) -> Vec<String> {
    let mut cards: Vec<String> = std::fs::read_dir(dri)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().into_string().ok())
                .filter(|name| name.starts_with("card"))
                .collect()
        })
        .unwrap_or_default();
    cards.sort();
    cards
}

/// The KMS display can open: the back-end is built in and the kernel has a
/// DRM device. Slint then tries each card for a connected panel.
pub fn check_kms(dri: &Path) -> Result<(), String> {
    if !cfg!(feature = "kms") {
        return Err(
            "this perfuse-app was built without the kms display: rebuild with \
                    --features kms (it needs libinput-dev, libxkbcommon-dev and libudev-dev), \
                    or use --display window in a desktop session"
                .to_owned(),
        );
    }
    if drm_cards(dri).is_empty() {
        return Err(format!(
            "no DRM/KMS display: {} has no card device. Is the panel's driver loaded \
             (vc4-kms-v3d on a Raspberry Pi, virtio_gpu in QEMU)? In a desktop session use \
             --display window",
            dri.display()
        ));
    }
    Ok(())
}

/// `check_kms` until it passes or `patience` is over, every 100 ms; says
/// how long it waited if the panel never came.
pub fn wait_for_kms(dri: &Path, patience: Duration) -> Result<(), String> {
    let started = Instant::now();
    let mut said = false;
    loop {
        match check_kms(dri) {
            Ok(()) => return Ok(()),
            Err(error) if !cfg!(feature = "kms") || started.elapsed() >= patience => {
                return Err(if patience.is_zero() {
                    error
                } else {
                    format!("{error} (waited {} s for it)", patience.as_secs())
                });
            }
            Err(_) => {
                if !said {
                    tracing::info!(
                        "waiting up to {} s for the panel's DRM device in {}",
                        patience.as_secs(),
                        dri.display()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cards_are_found_by_name_and_other_nodes_ignored() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["renderD128", "card1", "card0", "by-path"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(drm_cards(dir.path()), ["card0", "card1"]);
        assert!(drm_cards(&dir.path().join("absent")).is_empty());
    }

    #[test]
    fn kms_without_a_card_or_without_the_back_end_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let error = check_kms(dir.path()).unwrap_err();
        if cfg!(feature = "kms") {
            assert!(error.contains("no DRM/KMS display"), "{error}");
            assert!(error.contains("vc4-kms-v3d"), "{error}");
            std::fs::write(dir.path().join("card0"), b"").unwrap();
            assert_eq!(check_kms(dir.path()), Ok(()));
        } else {
            assert!(error.contains("--features kms"), "{error}");
        }
    }

    #[test]
    fn the_panel_is_waited_for_until_its_card_appears_or_the_patience_ends() {
        let dir = tempfile::tempdir().unwrap();
        if !cfg!(feature = "kms") {
            // Without the back-end there is nothing to wait for.
            let started = Instant::now();
            assert!(wait_for_kms(dir.path(), Duration::from_secs(5)).is_err());
            assert!(started.elapsed() < Duration::from_secs(1));
            return;
        }
        let started = Instant::now();
        let error = wait_for_kms(dir.path(), Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(
            error.contains("no DRM/KMS display") && error.contains("(waited 0 s for it)"),
            "{error}"
        );
        // The driver loads while the app waits: the card appears.
        let card = dir.path().join("card1");
        let maker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(card, b"").unwrap();
        });
        assert_eq!(wait_for_kms(dir.path(), Duration::from_secs(20)), Ok(()));
        assert!(started.elapsed() < Duration::from_secs(10));
        maker.join().unwrap();
    }
}
