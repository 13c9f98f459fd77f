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
    let drawn = perfuse::ui::offscreen::Offscreen::install(800, 480).and_then(|mut offscreen| {
        perfuse_testkit::gallery::draw_all(&mut offscreen, &out, &library)
    });
    match drawn {
        Ok(gallery) => {
            println!("{} pages drawn into {}", gallery.pages.len(), out.display());
            for (page, misfit) in &gallery.misfits {
                println!("{}: {misfit}", page.display());
            }
            if gallery.misfits.is_empty() {
                println!("every text fits");
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "perfuse-gallery: {} texts do not fit (above)",
                    gallery.misfits.len()
                );
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("perfuse-gallery: {error}");
            ExitCode::FAILURE
        }
    }
}
