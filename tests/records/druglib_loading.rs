//! Loading, verifying and activating drug libraries: the sample loads; every
//! kind of bad library is refused with its own error; a refused library leaves
//! the last good one active.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use common::{dev_sign, sample_bytes, sample_signature, today, trusted_keys};
use perfuse::druglib::{
    parse_library, verify_library, ActivationError, ActiveLibrary, LibraryError, Problem,
};
use perfuse::signing::{
    generate_signing_key, sign, signing_key_from_pem, KeyConfigError, TrustedKeys,
};

fn verify(
    bytes: &[u8],
    signature: Option<&str>,
) -> Result<perfuse::druglib::VerifiedLibrary, LibraryError> {
    verify_library(bytes, signature, &trusted_keys(), today())
}

/// The sample with one text replaced, re-signed with the development key.
fn edited_and_signed(from: &str, to: &str) -> (Vec<u8>, String) {
    let text = String::from_utf8(sample_bytes()).unwrap();
    assert!(
        text.contains(from),
        "the sample no longer contains {from:?}"
    );
    let bytes = text.replacen(from, to, 1).into_bytes();
    let signature = dev_sign(&bytes);
    (bytes, signature)
}

#[test]
fn the_sample_library_verifies_with_the_development_key() {
    let verified = verify(&sample_bytes(), Some(&sample_signature())).unwrap();
    assert_eq!(verified.signed_by, common::DEV_KEY_ID);
    assert!(
        verified.development_key,
        "the sample must be flagged as signed by a development key"
    );
    assert_eq!(verified.library.identity.name, "Perfuse sample library");
    assert_eq!(verified.library.identity.version, "2026.11.3");
    assert_eq!(verified.library.identity.short_hash().len(), 16);
}

#[test]
fn a_tampered_copy_is_refused_and_says_so() {
    let text = String::from_utf8(sample_bytes()).unwrap();
    // Raise noradrenaline's hard maximum tenfold without re-signing.
    let tampered = text.replacen(
        "soft_max = 0.5, hard_max = 3 }",
        "soft_max = 0.5, hard_max = 30 }",
        1,
    );
    assert_ne!(tampered, text);
    let error = verify(tampered.as_bytes(), Some(&sample_signature())).unwrap_err();
    assert_eq!(
        error,
        LibraryError::SignatureMismatch {
            key_id: common::DEV_KEY_ID.to_owned()
        }
    );
    assert!(
        error.to_string().contains("changed after signing"),
        "{error}"
    );
    // One flipped byte anywhere is enough.
    let mut flipped = sample_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    assert!(matches!(
        verify(&flipped, Some(&sample_signature())),
        Err(LibraryError::SignatureMismatch { .. })
    ));
}

#[test]
fn an_unsigned_library_is_refused() {
    let error = verify(&sample_bytes(), None).unwrap_err();
    assert_eq!(error, LibraryError::Unsigned);
    assert!(error.to_string().contains("not signed"));
}

#[test]
fn a_library_signed_by_an_untrusted_key_is_refused() {
    let (pem, _) = generate_signing_key().unwrap();
    let rogue = signing_key_from_pem(&pem).unwrap();
    let error = verify(
        &sample_bytes(),
        Some(&sign(&sample_bytes(), &rogue, "rogue-pharmacy")),
    )
    .unwrap_err();
    assert_eq!(
        error,
        LibraryError::UntrustedKey {
            key_id: "rogue-pharmacy".to_owned(),
            trusted: vec![common::DEV_KEY_ID.to_owned()]
        }
    );
    // The same rogue key claiming the trusted key's id does not verify either.
    let error = verify(
        &sample_bytes(),
        Some(&sign(&sample_bytes(), &rogue, common::DEV_KEY_ID)),
    )
    .unwrap_err();
    assert!(matches!(error, LibraryError::SignatureMismatch { .. }));
}

#[test]
fn a_library_not_yet_effective_is_refused() {
    let error = verify_library(
        &sample_bytes(),
        Some(&sample_signature()),
        &trusted_keys(),
        time::macros::date!(2026 - 10 - 31),
    )
    .unwrap_err();
    assert!(matches!(error, LibraryError::NotYetEffective { .. }));
    assert_eq!(
        error.to_string(),
        "the drug library takes effect on 2026-11-01; today is 2026-10-31"
    );
}

#[test]
fn a_malformed_library_is_refused_even_when_signed() {
    let garbage = b"this is [not toml".to_vec();
    let error = verify(&garbage, Some(&dev_sign(&garbage))).unwrap_err();
    assert!(matches!(error, LibraryError::Malformed { .. }), "{error}");
    // A misspelt key is an error, not a silently missing limit.
    let (bytes, signature) = edited_and_signed(
        "soft_max = 0.5, hard_max = 3 }",
        "sof_max = 0.5, hard_max = 3 }",
    );
    let error = verify(&bytes, Some(&signature)).unwrap_err();
    assert!(matches!(error, LibraryError::Malformed { .. }), "{error}");
    assert!(error.to_string().contains("sof_max"), "{error}");
}

#[test]
fn a_library_with_a_duplicate_entry_is_refused() {
    let (bytes, signature) = edited_and_signed("id = \"epinephrine\"", "id = \"norepinephrine\"");
    let error = verify(&bytes, Some(&signature)).unwrap_err();
    let LibraryError::Invalid { problems } = &error else {
        panic!("{error}")
    };
    assert!(
        problems.contains(&Problem::DuplicateEntry {
            care_area: "icu".to_owned(),
            id: "norepinephrine".to_owned()
        }),
        "{problems:?}"
    );
    assert!(
        error
            .to_string()
            .contains("entry \"norepinephrine\" appears more than once"),
        "{error}"
    );
}

#[test]
fn limits_out_of_order_are_refused_with_the_entry_named() {
    let (bytes, signature) = edited_and_signed(
        "soft_max = 0.5, hard_max = 3 }",
        "soft_max = 5, hard_max = 3 }",
    );
    let error = verify(&bytes, Some(&signature)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("care area \"icu\", entry \"norepinephrine\""),
        "{message}"
    );
    assert!(
        message.contains("soft_max 5 is above hard_max 3"),
        "{message}"
    );
}

#[test]
fn a_library_of_another_format_is_refused() {
    let (bytes, signature) = edited_and_signed("format = 1", "format = 2");
    assert_eq!(
        verify(&bytes, Some(&signature)),
        Err(LibraryError::UnsupportedFormat {
            found: 2,
            supported: 1
        })
    );
}

#[test]
fn a_malformed_signature_file_is_refused() {
    let error = verify(
        &sample_bytes(),
        Some("key_id = \"x\"\nalgorithm = \"ed25519\"\nsignature = \"abc\"\n"),
    )
    .unwrap_err();
    assert!(
        matches!(error, LibraryError::MalformedSignature { .. }),
        "{error}"
    );
    let error = verify(
        &sample_bytes(),
        Some("key_id = \"x\"\nalgorithm = \"rsa\"\nsignature = \"00\"\n"),
    )
    .unwrap_err();
    assert!(error.to_string().contains("only \"ed25519\""), "{error}");
}

#[test]
fn a_refused_library_leaves_the_last_good_one_active() {
    let keys = trusted_keys();
    let mut active = ActiveLibrary::none();
    assert!(active
        .activate(
            &sample_bytes(),
            Some(&sample_signature()),
            &keys,
            today(),
            false
        )
        .unwrap()
        .is_none());
    let good = active.get().unwrap().library.identity.clone();

    let text = String::from_utf8(sample_bytes()).unwrap();
    let tampered = text.replacen("hard_max = 40", "hard_max = 400", 1);
    let refused = active.activate(
        tampered.as_bytes(),
        Some(&sample_signature()),
        &keys,
        today(),
        false,
    );
    assert!(matches!(
        refused,
        Err(ActivationError::Refused(
            LibraryError::SignatureMismatch { .. }
        ))
    ));
    assert_eq!(active.get().unwrap().library.identity, good);

    let (newer, newer_signature) =
        edited_and_signed("version = \"2026.11.3\"", "version = \"2026.11.4\"");
    let running = active.activate(&newer, Some(&newer_signature), &keys, today(), true);
    assert_eq!(running, Err(ActivationError::InfusionRunning));
    assert_eq!(active.get().unwrap().library.identity, good);

    let replaced = active
        .activate(&newer, Some(&newer_signature), &keys, today(), false)
        .unwrap();
    assert_eq!(replaced.unwrap().library.identity, good);
    assert_eq!(active.get().unwrap().library.identity.version, "2026.11.4");
}

#[test]
fn trusted_key_configuration_errors_are_clear() {
    assert_eq!(TrustedKeys::from_toml(""), Err(KeyConfigError::Empty));
    let error = TrustedKeys::from_toml("[[key]]\nid = \"a\"\npublic_key = \"1234\"\n").unwrap_err();
    assert!(
        matches!(error, KeyConfigError::BadPublicKey { .. }),
        "{error}"
    );
    let (_, public) = generate_signing_key().unwrap();
    let twice = format!("[[key]]\nid = \"a\"\npublic_key = \"{public}\"\n[[key]]\nid = \"a\"\npublic_key = \"{public}\"\n");
    assert_eq!(
        TrustedKeys::from_toml(&twice),
        Err(KeyConfigError::DuplicateId("a".to_owned()))
    );
}

#[test]
fn the_hash_changes_with_any_byte() {
    let a = parse_library(&sample_bytes()).unwrap().identity;
    let mut bytes = sample_bytes();
    bytes.extend_from_slice(b"\n# a comment\n");
    let b = parse_library(&bytes).unwrap().identity;
    assert_ne!(a.sha256, b.sha256);
    assert_eq!((a.name, a.version), (b.name, b.version));
}

mod at_start {
    use super::common::{asset, dev_sign, sample_bytes, sample_signature, today};
    use perfuse::druglib::startup::{last_good_path, start_library, Startup, Unusable};
    use perfuse::druglib::LibraryError;
    use std::path::Path;

    fn install(dir: &Path, bytes: &[u8], signature: &str) -> std::path::PathBuf {
        let path = dir.join("druglib.toml");
        std::fs::write(&path, bytes).unwrap();
        std::fs::write(dir.join("druglib.toml.sig"), signature).unwrap();
        path
    }

    fn keys() -> std::path::PathBuf {
        asset("config/trusted-keys.toml")
    }

    /// The sample with its version changed, signed again: a newer library.
    fn newer() -> (Vec<u8>, String) {
        let text = String::from_utf8(sample_bytes()).unwrap();
        let bytes = text.replacen("2026.11.3", "2026.12.0", 1).into_bytes();
        let signature = dev_sign(&bytes);
        (bytes, signature)
    }

    #[test]
    fn a_verified_library_is_kept_and_stands_in_when_the_next_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let kept = last_good_path(&dir.path().join("data/events.db"));
        assert_eq!(kept, dir.path().join("data/last-good-druglib.toml"));
        let installed = install(dir.path(), &sample_bytes(), &sample_signature());

        // First start: the installed one verifies and is kept, byte for byte.
        let first = start_library(&installed, &keys(), &kept, today());
        let Startup::Installed(library) = &first else {
            panic!("{}", first.describe());
        };
        assert_eq!(library.library.identity.version, "2026.11.3");
        assert_eq!(std::fs::read(&kept).unwrap(), sample_bytes());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("data/last-good-druglib.toml.sig")).unwrap(),
            sample_signature()
        );

        // A newer library verifies and replaces the kept copy.
        let (bytes, signature) = newer();
        install(dir.path(), &bytes, &signature);
        let second = start_library(&installed, &keys(), &kept, today());
        assert!(
            matches!(second, Startup::Installed(_)),
            "{}",
            second.describe()
        );
        assert_eq!(std::fs::read(&kept).unwrap(), bytes);

        // Then a tampered one: refused, and the last good one (the newer) is used.
        let mut tampered = bytes.clone();
        tampered.extend_from_slice(b"\n# edited after signing\n");
        install(dir.path(), &tampered, &signature);
        let third = start_library(&installed, &keys(), &kept, today());
        let Startup::LastGood {
            library,
            installed: why,
        } = &third
        else {
            panic!("{}", third.describe());
        };
        assert_eq!(library.library.identity.version, "2026.12.0");
        assert!(
            matches!(
                why,
                Unusable::Refused(LibraryError::SignatureMismatch { .. })
            ),
            "{why:?}"
        );
        assert!(
            third.describe().contains("using the last good library"),
            "{}",
            third.describe()
        );
        // The refused file never becomes the last good one.
        assert_eq!(std::fs::read(&kept).unwrap(), bytes);

        // A missing library: the last good one again.
        std::fs::remove_file(&installed).unwrap();
        let fourth = start_library(&installed, &keys(), &kept, today());
        assert!(
            matches!(
                &fourth,
                Startup::LastGood {
                    installed: Unusable::Unreadable { .. },
                    ..
                }
            ),
            "{}",
            fourth.describe()
        );

        // A kept copy that no longer verifies is refused too: none, with both reasons.
        std::fs::write(&kept, b"[library]\n").unwrap();
        let fifth = start_library(&installed, &keys(), &kept, today());
        let Startup::None {
            installed: _,
            last_good: Some(Unusable::Refused(_)),
        } = &fifth
        else {
            panic!("{}", fifth.describe());
        };
        assert!(fifth.library().is_none());
        assert!(
            fifth.describe().contains("only basic infusions"),
            "{}",
            fifth.describe()
        );
    }

    #[test]
    fn a_clock_that_went_back_does_not_take_the_last_good_library_away() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("last-good-druglib.toml");
        let installed = install(dir.path(), &sample_bytes(), &sample_signature());
        assert!(matches!(
            start_library(&installed, &keys(), &kept, today()),
            Startup::Installed(_)
        ));
        // No real-time clock, a power cut: the date is 1970.
        let unset = time::macros::date!(1970 - 01 - 01);
        let after_cut = start_library(&installed, &keys(), &kept, unset);
        let Startup::LastGood {
            installed: why,
            library,
        } = &after_cut
        else {
            panic!("{}", after_cut.describe());
        };
        assert!(
            matches!(why, Unusable::Refused(LibraryError::NotYetEffective { .. })),
            "{why:?}"
        );
        assert_eq!(library.library.identity.version, "2026.11.3");
    }

    #[test]
    fn without_keys_or_any_good_library_the_pump_starts_with_none() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("last-good-druglib.toml");
        let installed = install(dir.path(), b"not a library", "not a signature");
        let none = start_library(&installed, &keys(), &kept, today());
        assert!(
            matches!(
                &none,
                Startup::None {
                    last_good: None,
                    ..
                }
            ),
            "{}",
            none.describe()
        );
        assert!(none.describe().contains("no good library was ever kept"));
        assert!(!kept.exists(), "a refused library is never kept");
        let no_keys = start_library(&installed, &dir.path().join("missing.toml"), &kept, today());
        assert!(
            matches!(
                &no_keys,
                Startup::None {
                    installed: Unusable::Keys { .. },
                    ..
                }
            ),
            "{}",
            no_keys.describe()
        );
    }
}
