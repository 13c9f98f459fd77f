//! Where the shipped assets (drug library, trusted keys, later fonts and
//! locales) are found: `$PERFUSE_ASSETS`, else `./assets`, else the assets
//! folder of the source tree this binary was built from.

use std::path::PathBuf;

/// The assets folder in use.
pub fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PERFUSE_ASSETS") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("assets");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}

/// The drug library activated at start-up.
pub fn default_library() -> PathBuf {
    assets_dir().join("druglib").join("sample-library.toml")
}

/// The trusted-keys configuration.
pub fn trusted_keys() -> PathBuf {
    assets_dir().join("config").join("trusted-keys.toml")
}
