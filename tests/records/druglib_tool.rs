//! The pharmacist's workflow with `perfuse-druglib`, end to end through the
//! built binary: make a key, edit a library, validate, sign, verify as the
//! pump would, show, and diff two versions. No code is touched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use std::path::Path;
use std::process::Command;

fn druglib(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_perfuse-druglib"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_pharmacist_writes_signs_and_verifies_a_library_without_code() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("pharmacy.pem");
    let (ok, out, err) = druglib(&["keygen", "--out", path(&key)]);
    assert!(ok, "{err}");
    let public = out
        .lines()
        .find_map(|line| line.strip_prefix("public_key = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    // keygen refuses to overwrite a key.
    assert!(!druglib(&["keygen", "--out", path(&key)]).0);

    let keys = dir.path().join("trusted-keys.toml");
    std::fs::write(
        &keys,
        format!("[[key]]\nid = \"st-elsewhere-pharmacy\"\npublic_key = \"{public}\"\n"),
    )
    .unwrap();

    let old = dir.path().join("library-v1.toml");
    std::fs::copy(common::asset("druglib/sample-library.toml"), &old).unwrap();
    let new = dir.path().join("library-v2.toml");
    let edited = std::fs::read_to_string(&old)
        .unwrap()
        .replacen("version = \"2026.11.3\"", "version = \"2026.12.1\"", 1)
        .replacen(
            "soft_max = 0.5, hard_max = 3 }",
            "soft_max = 0.4, hard_max = 3 }",
            1,
        );
    std::fs::write(&new, edited).unwrap();

    let (ok, out, err) = druglib(&["validate", path(&new)]);
    assert!(ok, "{err}");
    assert!(
        out.contains("valid: Perfuse sample library version 2026.12.1"),
        "{out}"
    );
    assert!(out.contains("5 care areas, 39 entries"), "{out}");

    // Before signing, the pump would refuse it.
    let (ok, _, err) = druglib(&[
        "validate",
        path(&new),
        "--keys",
        path(&keys),
        "--today",
        "2026-12-01",
    ]);
    assert!(!ok);
    assert!(err.contains("not signed"), "{err}");

    let (ok, out, err) = druglib(&[
        "sign",
        path(&new),
        "--key",
        path(&key),
        "--key-id",
        "st-elsewhere-pharmacy",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("library-v2.toml.sig"), "{out}");

    let (ok, out, err) = druglib(&[
        "validate",
        path(&new),
        "--keys",
        path(&keys),
        "--today",
        "2026-12-01",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("signature: good, by trusted key \"st-elsewhere-pharmacy\""),
        "{out}"
    );
    assert!(!out.contains("development-only"), "{out}");

    // A change after signing is caught.
    let tampered =
        std::fs::read_to_string(&new)
            .unwrap()
            .replacen("hard_max = 40 }", "hard_max = 400 }", 1);
    std::fs::write(&new, tampered).unwrap();
    let (ok, _, err) = druglib(&[
        "validate",
        path(&new),
        "--keys",
        path(&keys),
        "--today",
        "2026-12-01",
    ]);
    assert!(!ok);
    assert!(err.contains("changed after signing"), "{err}");

    let (ok, out, _) = druglib(&["diff", path(&old), path(&new)]);
    assert!(ok);
    assert!(
        out.contains("~ icu/norepinephrine dose.soft_max: 0.5 -> 0.4"),
        "{out}"
    );
    assert!(
        out.contains("~ icu/dobutamine dose.hard_max: 40 -> 400"),
        "{out}"
    );
    assert!(out.contains("2 change(s)"), "{out}");
}

#[test]
fn signing_refuses_an_invalid_library() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(common::asset("druglib/sample-library.toml")).unwrap();
    std::fs::write(
        &library,
        text.replacen(
            "soft_max = 0.5, hard_max = 3 }",
            "soft_max = 5, hard_max = 3 }",
            1,
        ),
    )
    .unwrap();
    let key = common::asset("keys/DEVELOPMENT-ONLY-druglib-signing-key.pem");
    let (ok, _, err) = druglib(&[
        "sign",
        path(&library),
        "--key",
        path(&key),
        "--key-id",
        common::DEV_KEY_ID,
    ]);
    assert!(!ok);
    assert!(err.contains("refusing to sign"), "{err}");
    assert!(!dir.path().join("bad.toml.sig").exists());
}

#[test]
fn show_lists_entries_with_tall_man_names_and_limits() {
    let (ok, out, err) = druglib(&[
        "show",
        path(&common::asset("druglib/sample-library.toml")),
        "--care-area",
        "icu",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("ICU (icu): 15 entries"), "{out}");
    assert!(
        out.contains("DOPamine") && out.contains("DOBUTamine"),
        "{out}"
    );
    assert!(
        out.contains("mcg/kg/min default 5 | hard min - | soft min 2 | soft max 20 | hard max 30"),
        "{out}"
    );
    assert!(!out.contains("Pediatrics"), "{out}");
}

#[test]
fn the_shipped_sample_and_its_signature_agree() {
    let (ok, out, err) = druglib(&[
        "validate",
        path(&common::asset("druglib/sample-library.toml")),
        "--keys",
        path(&common::asset("config/trusted-keys.toml")),
        "--today",
        "2026-11-21",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("development-only"), "{out}");
    assert!(
        !out.contains("warning:"),
        "the sample library should raise no 10x-slip warnings: {out}"
    );
}
