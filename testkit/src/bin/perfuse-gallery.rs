//! `perfuse-gallery [folder]`: draws every page of the touchscreen, in every
//! language, on both platforms and both screen sizes, to PNG (default
//! folder: gallery/).
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("gallery"), PathBuf::from);
    let library = match std::fs::read(perfuse::assets::default_library())
        .map_err(|error| error.to_string())
        .and_then(|bytes| {
            perfuse::druglib::parse_library(&bytes).map_err(|error| error.to_string())
        }) {
        Ok(library) => Arc::new(library),
        Err(error) => {
            eprintln!("perfuse-gallery: the sample drug library: {error}");
            return ExitCode::FAILURE;
        }
    };
    match perfuse_testkit::gallery::draw_all(&out, &library) {
        Ok(files) => {
            println!("{} pages drawn into {}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("perfuse-gallery: {error}");
            ExitCode::FAILURE
        }
    }
}
