//! The display's backlight on a device: Linux's backlight class
//! (/sys/class/backlight/<panel>/brightness, scaled to max_brightness). In
//! simulation there is none and the window dims itself instead.

use std::path::{Path, PathBuf};

/// A backlight folder in the sysfs layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlight {
    pub folder: PathBuf,
}

impl Backlight {
    /// The first backlight under `class` (normally /sys/class/backlight).
    pub fn find(class: &Path) -> Option<Backlight> {
        let mut folders: Vec<PathBuf> = std::fs::read_dir(class)
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.join("max_brightness").is_file())
            .collect();
        folders.sort();
        folders
            .into_iter()
            .next()
            .map(|folder| Backlight { folder })
    }

    /// Sets the brightness to `tenths` of its maximum (1 to 10).
    pub fn set(&self, tenths: u8) -> Result<(), String> {
        let max_path = self.folder.join("max_brightness");
        let max: u32 = std::fs::read_to_string(&max_path)
            .map_err(|error| format!("{}: {error}", max_path.display()))?
            .trim()
            .parse()
            .map_err(|error| format!("{}: not a number ({error})", max_path.display()))?;
        let level = max.saturating_mul(u32::from(tenths.clamp(1, 10))) / 10;
        let path = self.folder.join("brightness");
        std::fs::write(&path, level.to_string())
            .map_err(|error| format!("{}: {error}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brightness_is_scaled_to_the_panels_maximum() {
        let class = tempfile::tempdir().unwrap();
        let panel = class.path().join("10-0045");
        std::fs::create_dir(&panel).unwrap();
        std::fs::write(panel.join("max_brightness"), "255\n").unwrap();
        std::fs::write(panel.join("brightness"), "255\n").unwrap();
        let backlight = Backlight::find(class.path()).unwrap();
        backlight.set(5).unwrap();
        assert_eq!(
            std::fs::read_to_string(panel.join("brightness")).unwrap(),
            "127"
        );
        backlight.set(0).unwrap();
        assert_eq!(
            std::fs::read_to_string(panel.join("brightness")).unwrap(),
            "25",
            "never dark"
        );
        assert!(Backlight::find(&class.path().join("none")).is_none());
    }
}
