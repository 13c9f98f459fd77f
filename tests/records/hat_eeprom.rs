//! The carriers' HAT identity EEPROM settings (deploy/hat/, eepmake
//! format) give exactly the identity the signed mechanism profiles expect:
//! each file, as the firmware would publish it under /proc/device-tree/hat
//! (with the UUID the writing script gives the board), passes the boot
//! cross-check against its own platform's shipped profile and is refused
//! by the other's; it says what the simulated board says, UUID aside; its
//! boot pin settings leave every carrier line an input without pulls (an
//! output would start low, and DRV_ENN low enables the motor driver); and
//! the carrier's device-tree overlay compiles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::Path;

use perfuse::platform::{read_installed_profile, verify_platform, PlatformRejection};
use perfuse_drivers::config::BoardConfig;
use perfuse_drivers::hat::HatIdentity;
use perfuse_testkit::bins::root;
use perfuse_testkit::library::trusted_keys;

/// An eepmake settings file: its single-valued fields (quotes removed) and
/// its `setgpio` lines as (gpio, function, pull).
struct Settings {
    fields: BTreeMap<String, String>,
    gpios: Vec<(u8, String, String)>,
}

fn settings(name: &str) -> Settings {
    let text = std::fs::read_to_string(root().join("deploy/hat").join(name)).unwrap();
    let mut fields = BTreeMap::new();
    let mut gpios = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(char::is_whitespace).unwrap();
        let value = value.trim();
        if key == "setgpio" {
            let words: Vec<&str> = value.split_whitespace().collect();
            assert_eq!(words.len(), 3, "{name}: setgpio {value}");
            gpios.push((
                words[0].parse().unwrap(),
                words[1].to_owned(),
                words[2].to_owned(),
            ));
        } else {
            let value = value.trim_matches('"').to_owned();
            assert!(
                fields.insert(key.to_owned(), value).is_none(),
                "{name}: {key} twice"
            );
        }
    }
    Settings { fields, gpios }
}

/// The folder the firmware would publish, for a board given `uuid`.
fn published(folder: &Path, settings: &Settings, uuid: &str) {
    std::fs::create_dir_all(folder).unwrap();
    for (field, key) in [
        ("vendor", "vendor"),
        ("product", "product"),
        ("product_id", "product_id"),
        ("product_ver", "product_ver"),
    ] {
        std::fs::write(folder.join(field), format!("{}\0", settings.fields[key])).unwrap();
    }
    std::fs::write(folder.join("uuid"), format!("{uuid}\0")).unwrap();
}

/// (settings file, its platform's profile, platform id, simulated mechanism).
fn carriers() -> [(
    &'static str,
    &'static str,
    &'static str,
    perfuse_sim::Mechanism,
); 2] {
    [
        (
            "perfuse-s50-carrier.eeprom.txt",
            "perfuse-s50-syringe.toml",
            "perfuse-s50",
            perfuse_sim::Mechanism::reference_syringe(perfuse_sim::Syringe::ALL[3]),
        ),
        (
            "perfuse-v1-carrier.eeprom.txt",
            "perfuse-v1-volumetric.toml",
            "perfuse-v1",
            perfuse_sim::Mechanism::reference_peristaltic(),
        ),
    ]
}

#[test]
fn each_carriers_eeprom_gives_the_identity_its_signed_profile_expects_and_no_other() {
    let keys = trusted_keys();
    let folder = tempfile::tempdir().unwrap();
    for (index, (file, profile, platform, mechanism)) in carriers().into_iter().enumerate() {
        let settings = settings(file);
        for key in [
            "product_uuid",
            "product_id",
            "product_ver",
            "vendor",
            "product",
        ] {
            assert!(settings.fields.contains_key(key), "{file}: no {key}");
        }
        // Zero: each board gets its own when written (write-hat-eeprom.sh).
        assert_eq!(
            settings.fields["product_uuid"],
            "00000000-0000-0000-0000-000000000000"
        );
        let hat = folder.path().join(format!("hat-{index}"));
        published(&hat, &settings, "3f6c1d2e-8a4b-4c7d-9e0f-1a2b3c4d5e6f");
        let identity = HatIdentity::read_from(&hat).unwrap();
        let verified = verify_platform(
            Ok(identity.clone()),
            read_installed_profile(&root().join("assets/platforms").join(profile)),
            &keys,
        )
        .unwrap_or_else(|rejection| panic!("{file} against {profile}: {rejection}"));
        assert_eq!(verified.platform.id, platform, "{file}");
        // The other carrier's profile refuses this board.
        let (_, other, _, _) = carriers()[1 - index];
        let refused = verify_platform(
            Ok(identity.clone()),
            read_installed_profile(&root().join("assets/platforms").join(other)),
            &keys,
        );
        assert!(
            matches!(
                refused,
                Err(PlatformRejection::ProfileForAnotherPlatform { .. })
            ),
            "{file} against {other}: {refused:?}"
        );
        // The simulated board is this carrier, UUID aside.
        let simulated = folder.path().join(format!("sim-{index}"));
        perfuse_sim::service::write_identity(
            &simulated,
            &mechanism,
            perfuse_sim::service::SimIdentity::Matching,
        )
        .unwrap();
        let simulated = HatIdentity::read_from(&simulated).unwrap();
        assert_eq!(
            (
                &identity.vendor,
                &identity.product,
                identity.product_id,
                identity.product_version
            ),
            (
                &simulated.vendor,
                &simulated.product,
                simulated.product_id,
                simulated.product_version
            ),
            "{file} and the simulated board"
        );
    }
}

#[test]
fn at_boot_every_carrier_line_is_an_input_left_to_the_carriers_pulls() {
    let config = BoardConfig::load(&root().join("assets/config/board.toml")).unwrap();
    let lines: Vec<u8> = {
        let mut lines: Vec<u8> = config.pins.all().iter().map(|(_, gpio)| *gpio).collect();
        lines.sort_unstable();
        lines
    };
    for (file, _, _, _) in carriers() {
        let settings = settings(file);
        let mut set: Vec<u8> = settings.gpios.iter().map(|(gpio, _, _)| *gpio).collect();
        set.sort_unstable();
        assert_eq!(
            set, lines,
            "{file}: setgpio must list every carrier line once"
        );
        for (gpio, function, pull) in &settings.gpios {
            assert_eq!(
                (function.as_str(), pull.as_str()),
                ("INPUT", "NONE"),
                "{file}: GPIO {gpio} at boot"
            );
        }
        assert_eq!(settings.fields["back_power"], "0", "{file}");
    }
}

#[test]
fn the_carriers_device_tree_overlay_compiles() {
    let dtc = std::process::Command::new("dtc").arg("--version").output();
    if dtc.is_err() {
        // CI installs device-tree-compiler; a developer's machine may not have it.
        assert!(
            std::env::var_os("CI").is_none(),
            "dtc is missing: apt install device-tree-compiler"
        );
        eprintln!("skipped: no dtc (apt install device-tree-compiler)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let dtbo = out.path().join("perfuse-carrier.dtbo");
    let compiled = std::process::Command::new("dtc")
        .args(["-@", "-q", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&dtbo)
        .arg(root().join("deploy/hat/perfuse-carrier-overlay.dts"))
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    // Back to source: the buzzer's pin in PWM0's function; PWM, SPI0 and
    // I2C1 with the DS3231 real-time clock on.
    let source = std::process::Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts"])
        .arg(&dtbo)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&source.stdout);
    assert!(text.contains("brcm,pins = <0x0c>"), "{text}");
    assert!(text.contains("brcm,function = <0x04>"), "{text}");
    assert_eq!(text.matches("status = \"okay\"").count(), 3, "{text}");
    assert!(text.contains("compatible = \"maxim,ds3231\""), "{text}");
    assert!(text.contains("reg = <0x68>"), "{text}");
    for bus in ["pwm", "spi0", "i2c1"] {
        assert!(
            text.contains(&format!("{bus} = \"/fragment@")),
            "{bus}: {text}"
        );
    }
    assert!(text.contains("__fixups__"), "{text}");
}
