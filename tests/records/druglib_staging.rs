//! Libraries from the hospital (F3): staged only when they verify,
//! activated whole, used at every start while the installed file is the
//! one they were activated over, and never mixed from two.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use perfuse::druglib::staging::{activate, stage, staged, LibraryFiles};
use perfuse::druglib::startup::{last_good_path, start_library, Startup};
use perfuse_testkit::library::{asset, dev_sign, sample_bytes, sample_signature, today};

/// The sample as another version, signed with the development key.
fn version(version: &str) -> (Vec<u8>, String) {
    let text = String::from_utf8(sample_bytes()).unwrap();
    let bytes = text
        .replacen(
            "version = \"2026.11.3\"",
            &format!("version = \"{version}\""),
            1,
        )
        .into_bytes();
    assert_ne!(bytes, sample_bytes());
    let signature = dev_sign(&bytes);
    (bytes, signature)
}

/// A pump with the sample installed, its event log in `dir`.
fn pump(dir: &Path) -> LibraryFiles {
    let installed = dir.join("etc/druglib.toml");
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::write(&installed, sample_bytes()).unwrap();
    std::fs::write(dir.join("etc/druglib.toml.sig"), sample_signature()).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    LibraryFiles::beside(
        &dir.join("data/events.db"),
        &installed,
        &asset("config/trusted-keys.toml"),
    )
}

fn start(files: &LibraryFiles) -> Startup {
    start_library(
        &files.installed,
        &files.keys,
        &last_good_path(&files.folder.join("events.db")),
        today(),
    )
}

fn version_in_use(startup: &Startup) -> String {
    startup.library().unwrap().library.identity.version.clone()
}

#[test]
fn a_library_is_staged_activated_and_kept_for_every_start() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let (bytes, signature) = version("2026.12.1");
    let verified = stage(&files, &bytes, signature.as_bytes(), today()).unwrap();
    assert_eq!(verified.library.identity.version, "2026.12.1");
    // Staged: nothing in use changed.
    assert!(matches!(start(&files), Startup::Installed(_)));
    assert_eq!(
        staged(&files, today())
            .unwrap()
            .unwrap()
            .library
            .identity
            .version,
        "2026.12.1"
    );
    let activated = activate(&files, today()).unwrap();
    assert_eq!(activated.library.identity.version, "2026.12.1");
    assert!(
        staged(&files, today()).is_none(),
        "activated, so no longer staged"
    );
    for _ in 0..2 {
        let startup = start(&files);
        assert!(
            matches!(startup, Startup::Activated(_)),
            "{}",
            startup.describe()
        );
        assert_eq!(version_in_use(&startup), "2026.12.1");
        assert!(startup.describe().contains("from the hospital"));
    }
    // A clock gone back does not take the activated library away.
    let startup = start_library(
        &files.installed,
        &files.keys,
        &last_good_path(&files.folder.join("events.db")),
        time::macros::date!(2020 - 01 - 01),
    );
    assert_eq!(version_in_use(&startup), "2026.12.1");
}

#[test]
fn a_library_that_does_not_verify_is_refused_and_the_staged_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let (good, good_signature) = version("2026.12.1");
    stage(&files, &good, good_signature.as_bytes(), today()).unwrap();

    let (bytes, signature) = version("2026.12.2");
    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
        (
            tampered,
            signature.clone().into_bytes(),
            "changed after signing",
        ),
        (
            bytes.clone(),
            good_signature.clone().into_bytes(),
            "changed after signing",
        ),
        (bytes.clone(), vec![0xff, 0xfe], "not text"),
        (
            bytes.clone(),
            b"garbage".to_vec(),
            "signature file is not valid",
        ),
    ];
    for (bytes, signature, named) in cases {
        let error = stage(&files, &bytes, &signature, today()).unwrap_err();
        assert!(error.contains(named), "{named}: {error}");
    }
    // Not in effect yet.
    let error = stage(
        &files,
        &bytes,
        signature.as_bytes(),
        time::macros::date!(2026 - 01 - 01),
    )
    .unwrap_err();
    assert!(error.contains("takes effect"), "{error}");
    // The first stays staged, whole.
    assert_eq!(std::fs::read(files.staged()).unwrap(), good);
    assert_eq!(
        staged(&files, today())
            .unwrap()
            .unwrap()
            .library
            .identity
            .version,
        "2026.12.1"
    );
}

#[test]
fn nothing_staged_nothing_activated() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let error = activate(&files, today()).unwrap_err();
    assert!(error.contains("no library is staged"), "{error}");
    assert!(matches!(start(&files), Startup::Installed(_)));
}

#[test]
fn a_staged_library_changed_on_the_pump_is_not_activated() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let (bytes, signature) = version("2026.12.1");
    stage(&files, &bytes, signature.as_bytes(), today()).unwrap();
    let mut changed = bytes.clone();
    changed[10] ^= 0x01;
    std::fs::write(files.staged(), &changed).unwrap();
    let error = activate(&files, today()).unwrap_err();
    assert!(error.contains("changed after signing"), "{error}");
    assert!(!files.activated().exists());
    assert!(matches!(start(&files), Startup::Installed(_)));
}

#[test]
fn a_new_installed_library_wins_over_the_activated_one() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let (bytes, signature) = version("2026.12.1");
    stage(&files, &bytes, signature.as_bytes(), today()).unwrap();
    activate(&files, today()).unwrap();
    // The site installs another library (a new image or package).
    let (site, site_signature) = version("2026.12.9");
    std::fs::write(&files.installed, &site).unwrap();
    std::fs::write(dir.path().join("etc/druglib.toml.sig"), site_signature).unwrap();
    let startup = start(&files);
    assert!(matches!(startup, Startup::Installed(_)));
    assert_eq!(version_in_use(&startup), "2026.12.9");
    assert!(
        !files.activated().exists(),
        "the superseded download is removed"
    );
    // Putting the old file back does not bring the download back.
    std::fs::write(&files.installed, sample_bytes()).unwrap();
    std::fs::write(dir.path().join("etc/druglib.toml.sig"), sample_signature()).unwrap();
    assert_eq!(version_in_use(&start(&files)), "2026.11.3");
}

#[test]
fn an_activated_library_damaged_on_the_pump_is_refused_never_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let files = pump(dir.path());
    let (bytes, signature) = version("2026.12.1");
    stage(&files, &bytes, signature.as_bytes(), today()).unwrap();
    activate(&files, today()).unwrap();
    // A power cut between the renames of a second activation: the new
    // signature beside the old library.
    let (_, other_signature) = version("2026.12.2");
    let mut signature_path = files.activated().into_os_string();
    signature_path.push(".sig");
    std::fs::write(&signature_path, other_signature).unwrap();
    let startup = start(&files);
    assert!(
        matches!(startup, Startup::Installed(_)),
        "{}",
        startup.describe()
    );
    assert_eq!(version_in_use(&startup), "2026.11.3");
}
