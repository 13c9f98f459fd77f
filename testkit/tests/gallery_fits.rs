//! Every page of the gallery (both platforms, both languages, 800×480 and
//! 1280×720), drawn by the software renderer with the pump's font: no text
//! is cut off, and no word is broken in the middle (`perfuse_testkit::fit`).
//! One test, since Slint's platform is set once per process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use perfuse::ui::offscreen::Offscreen;
use perfuse::ui::text::Language;
use perfuse_testkit::fit::{misfits, Misfit};
use perfuse_testkit::gallery::draw_all;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::scene::Scene;

#[test]
fn every_gallery_page_fits_its_text_in_both_languages_and_sizes() {
    let library = Arc::new(perfuse_testkit::library::sample_library());
    let mut offscreen = Offscreen::install(800, 480).unwrap();

    // The check finds what does not fit: on a screen far smaller than any
    // the pump has, the home page's layout runs beyond the screen's edge.
    {
        offscreen.resize(360, 240);
        let scene = Scene::new(Platform::Syringe50, Language::German, &library, false).unwrap();
        scene
            .refresh_until(|mode| mode == perfuse::control::api::Mode::Idle)
            .unwrap();
        offscreen.draw();
        let found = misfits(offscreen.window());
        assert!(
            found
                .iter()
                .any(|misfit| misfit.misfit == Misfit::OffScreen),
            "{found:?}"
        );
        assert!(
            found.iter().any(|misfit| misfit.text == "Software 0.1.0"),
            "the bar's right-hand side is beyond 360 px: {found:?}"
        );
    }

    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gallery");
    let _ = std::fs::remove_dir_all(&out);
    let gallery = draw_all(&mut offscreen, &out, &library).unwrap();
    // 38 pages for each platform, language and size, and the syringe's.
    assert!(gallery.pages.len() >= 348, "{} pages", gallery.pages.len());
    let listed: Vec<String> = gallery
        .misfits
        .iter()
        .map(|(page, misfit)| format!("{}: {misfit}", page.display()))
        .collect();
    assert!(
        listed.is_empty(),
        "texts that do not fit:\n{}",
        listed.join("\n")
    );
}
