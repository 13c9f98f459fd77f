//! `perfuse`: the pump. Today it verifies and activates the drug library the
//! pump would start with, and reports what it found; the UI, control thread,
//! supervisor and simulated board join it as they are built.
use std::process::ExitCode;

use perfuse::assets;
use perfuse::druglib::{tool::today_utc, ActiveLibrary};
use perfuse::signing::{signature_path, TrustedKeys};

fn main() -> ExitCode {
    println!("Perfuse {} (GPL-3.0-or-later)", env!("CARGO_PKG_VERSION"));
    let keys_path = assets::trusted_keys();
    let keys = match std::fs::read_to_string(&keys_path)
        .map_err(|error| error.to_string())
        .and_then(|text| TrustedKeys::from_toml(&text).map_err(|error| error.to_string()))
    {
        Ok(keys) => keys,
        Err(message) => {
            eprintln!("perfuse: trusted keys {}: {message}", keys_path.display());
            return ExitCode::FAILURE;
        }
    };
    let library_path = assets::default_library();
    let bytes = match std::fs::read(&library_path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!(
                "perfuse: cannot read the drug library {}: {error}",
                library_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let signature = std::fs::read_to_string(signature_path(&library_path)).ok();
    let mut active = ActiveLibrary::none();
    if let Err(error) = active.activate(&bytes, signature.as_deref(), &keys, today_utc(), false) {
        eprintln!(
            "perfuse: drug library {} refused: {error}",
            library_path.display()
        );
        eprintln!("perfuse: only basic infusions (mL/h, outside the library) could be programmed");
        return ExitCode::FAILURE;
    }
    if let Some(verified) = active.get() {
        println!("Drug library: {verified}");
        for area in &verified.library.file.care_areas {
            println!("  {:<20} {:>3} entries", area.name, area.entries.len());
        }
    }
    println!("Not built yet: the touchscreen UI, control thread, supervisor and simulated board.");
    println!("Run `perfuse-druglib --help` (cargo run --bin perfuse-druglib -- --help) to work with libraries.");
    ExitCode::SUCCESS
}
