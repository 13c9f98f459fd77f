//! Bus-level tests of the hat driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use perfuse_drivers::hat::*;
use perfuse_drivers::Error;
use std::path::Path;

fn write_hat(folder: &Path, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        std::fs::write(folder.join(name), format!("{value}\0")).unwrap();
    }
}

const SYRINGE: [(&str, &str); 5] = [
    ("vendor", "Perfuse Project"),
    ("product", "Perfuse syringe carrier"),
    ("product_id", "0x5301"),
    ("product_ver", "0x0002"),
    ("uuid", "6f1c2a9e-3b7d-4e58-9a61-0c2d4b8e7f13"),
];

#[test]
fn reads_the_device_tree_fields() {
    let folder = tempfile::tempdir().unwrap();
    write_hat(folder.path(), &SYRINGE);
    let identity = HatIdentity::read_from(folder.path()).unwrap();
    assert_eq!(identity.product, "Perfuse syringe carrier");
    assert_eq!((identity.product_id, identity.product_version), (0x5301, 2));
    assert_eq!(identity.uuid_text(), "6f1c2a9e-3b7d-4e58-9a61-0c2d4b8e7f13");
}

#[test]
fn a_missing_eeprom_says_so() {
    let folder = tempfile::tempdir().unwrap();
    let error = HatIdentity::read_from(&folder.path().join("hat")).unwrap_err();
    assert!(matches!(
        error,
        HatError::Missing {
            field: "vendor",
            ..
        }
    ));
    assert!(error
        .to_string()
        .contains("is the pump carrier board fitted?"));
}

#[test]
fn malformed_fields_are_named() {
    let folder = tempfile::tempdir().unwrap();
    write_hat(folder.path(), &SYRINGE);
    write_hat(folder.path(), &[("product_id", "5301")]);
    assert!(matches!(
        HatIdentity::read_from(folder.path()),
        Err(HatError::Invalid {
            field: "product_id",
            ..
        })
    ));
    write_hat(
        folder.path(),
        &[
            ("product_id", "0x5301"),
            ("uuid", "00000000-0000-0000-0000-000000000000"),
        ],
    );
    assert!(matches!(
        HatIdentity::read_from(folder.path()),
        Err(HatError::Invalid { field: "uuid", .. })
    ));
    write_hat(
        folder.path(),
        &[("uuid", "6f1c2a9e3b7d4e589a610c2d4b8e7f13")],
    );
    assert!(matches!(
        HatIdentity::read_from(folder.path()),
        Err(HatError::Invalid { field: "uuid", .. })
    ));
    write_hat(
        folder.path(),
        &[
            ("uuid", "6f1c2a9e-3b7d-4e58-9a61-0c2d4b8e7f13"),
            ("vendor", ""),
        ],
    );
    assert!(matches!(
        HatIdentity::read_from(folder.path()),
        Err(HatError::Invalid {
            field: "vendor",
            ..
        })
    ));
}
