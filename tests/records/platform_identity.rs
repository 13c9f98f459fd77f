//! The boot cross-check over every combination of board identity and
//! installed profile (DESIGN.md, F1): only a supported board with the signed
//! profile made for it may infuse; every other combination is refused with
//! its own reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::library as common;

use std::path::{Path, PathBuf};

use perfuse::platform::{
    read_installed_profile, verify_platform, MechanismKind, PlatformRejection,
};
use perfuse::signing::{generate_signing_key, sign, signing_key_from_pem};
use perfuse_drivers::hat::HatIdentity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Board {
    Syringe(u16),
    Volumetric(u16),
    UnknownProduct,
    OtherVendor,
    NoEeprom,
    GarbledEeprom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    SyringeSigned,
    VolumetricSigned,
    SyringeUnsigned,
    SyringeTampered,
    SyringeUntrustedKey,
    GarbageSigned,
    InvalidSigned,
    Missing,
    SyringeRevisionOneOnly,
    SyringeIdWithVolumetricMechanism,
}

const BOARDS: [Board; 10] = [
    Board::Syringe(1),
    Board::Syringe(2),
    Board::Syringe(3),
    Board::Volumetric(1),
    Board::Volumetric(2),
    Board::UnknownProduct,
    Board::OtherVendor,
    Board::NoEeprom,
    Board::GarbledEeprom,
    Board::Volumetric(0),
];

const PROFILES: [Profile; 10] = [
    Profile::SyringeSigned,
    Profile::VolumetricSigned,
    Profile::SyringeUnsigned,
    Profile::SyringeTampered,
    Profile::SyringeUntrustedKey,
    Profile::GarbageSigned,
    Profile::InvalidSigned,
    Profile::Missing,
    Profile::SyringeRevisionOneOnly,
    Profile::SyringeIdWithVolumetricMechanism,
];

/// The outcome a combination must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Verified,
    NoIdentity,
    UnknownHardware,
    UnsupportedRevision,
    ProfileMissing,
    ProfileSignature,
    ProfileInvalid,
    ForAnotherPlatform,
    ForAnotherRevision,
}

fn expected(board: Board, profile: Profile) -> Outcome {
    let (kind, revision) = match board {
        Board::NoEeprom | Board::GarbledEeprom => return Outcome::NoIdentity,
        Board::UnknownProduct | Board::OtherVendor => return Outcome::UnknownHardware,
        Board::Syringe(revision) if (1..=2).contains(&revision) => {
            (MechanismKind::Syringe, revision)
        }
        Board::Volumetric(1) => (MechanismKind::Volumetric, 1),
        Board::Syringe(_) | Board::Volumetric(_) => return Outcome::UnsupportedRevision,
    };
    let made_for = |wanted: MechanismKind| {
        if kind == wanted {
            Outcome::Verified
        } else {
            Outcome::ForAnotherPlatform
        }
    };
    match profile {
        Profile::Missing => Outcome::ProfileMissing,
        Profile::SyringeUnsigned | Profile::SyringeTampered | Profile::SyringeUntrustedKey => {
            Outcome::ProfileSignature
        }
        Profile::GarbageSigned | Profile::InvalidSigned => Outcome::ProfileInvalid,
        Profile::SyringeSigned => made_for(MechanismKind::Syringe),
        Profile::VolumetricSigned => made_for(MechanismKind::Volumetric),
        Profile::SyringeRevisionOneOnly => match (made_for(MechanismKind::Syringe), revision) {
            (Outcome::Verified, 1) => Outcome::Verified,
            (Outcome::Verified, _) => Outcome::ForAnotherRevision,
            (other, _) => other,
        },
        Profile::SyringeIdWithVolumetricMechanism => Outcome::ForAnotherPlatform,
    }
}

fn outcome(result: &Result<perfuse::platform::VerifiedPlatform, PlatformRejection>) -> Outcome {
    match result {
        Ok(_) => Outcome::Verified,
        Err(PlatformRejection::NoIdentity(_)) => Outcome::NoIdentity,
        Err(PlatformRejection::UnknownHardware { .. }) => Outcome::UnknownHardware,
        Err(PlatformRejection::UnsupportedRevision { .. }) => Outcome::UnsupportedRevision,
        Err(PlatformRejection::ProfileMissing { .. }) => Outcome::ProfileMissing,
        Err(PlatformRejection::ProfileSignature(_)) => Outcome::ProfileSignature,
        Err(PlatformRejection::ProfileInvalid(_)) => Outcome::ProfileInvalid,
        Err(PlatformRejection::ProfileForAnotherPlatform { .. }) => Outcome::ForAnotherPlatform,
        Err(PlatformRejection::ProfileForAnotherRevision { .. }) => Outcome::ForAnotherRevision,
    }
}

fn write_board(folder: &Path, board: Board) -> PathBuf {
    let hat = folder.join("hat");
    let fields: Vec<(&str, String)> = match board {
        Board::NoEeprom => return hat,
        Board::Syringe(revision) => hat_fields(
            "Perfuse Project",
            "Perfuse S50 syringe carrier",
            "0x5301",
            revision,
        ),
        Board::Volumetric(revision) => hat_fields(
            "Perfuse Project",
            "Perfuse V1 volumetric carrier",
            "0x5601",
            revision,
        ),
        Board::UnknownProduct => hat_fields("Perfuse Project", "Perfuse X9 prototype", "0x9999", 1),
        Board::OtherVendor => hat_fields("Acme Pumps", "Acme syringe carrier", "0x5301", 1),
        Board::GarbledEeprom => {
            hat_fields("Perfuse Project", "Perfuse S50 syringe carrier", "5301h", 1)
        }
    };
    std::fs::create_dir_all(&hat).unwrap();
    for (name, value) in fields {
        std::fs::write(hat.join(name), format!("{value}\0")).unwrap();
    }
    hat
}

fn hat_fields(
    vendor: &str,
    product: &str,
    product_id: &str,
    revision: u16,
) -> Vec<(&'static str, String)> {
    vec![
        ("vendor", vendor.to_owned()),
        ("product", product.to_owned()),
        ("product_id", product_id.to_owned()),
        ("product_ver", format!("0x{revision:04x}")),
        ("uuid", "6f1c2a9e-3b7d-4e58-9a61-0c2d4b8e7f13".to_owned()),
    ]
}

fn shipped(name: &str) -> (Vec<u8>, String) {
    let path = common::asset(&format!("platforms/{name}"));
    (
        std::fs::read(&path).unwrap(),
        std::fs::read_to_string(common::asset(&format!("platforms/{name}.sig"))).unwrap(),
    )
}

fn write_profile(folder: &Path, profile: Profile) -> PathBuf {
    let path = folder.join("mechanism-profile.toml");
    let (syringe, syringe_signature) = shipped("perfuse-s50-syringe.toml");
    let syringe_text = String::from_utf8(syringe.clone()).unwrap();
    let edited = |from: &str, to: &str| {
        assert!(syringe_text.contains(from));
        syringe_text.replacen(from, to, 1).into_bytes()
    };
    let (bytes, signature): (Vec<u8>, Option<String>) = match profile {
        Profile::Missing => return path,
        Profile::SyringeSigned => (syringe, Some(syringe_signature)),
        Profile::VolumetricSigned => {
            let (bytes, signature) = shipped("perfuse-v1-volumetric.toml");
            (bytes, Some(signature))
        }
        Profile::SyringeUnsigned => (syringe, None),
        Profile::SyringeTampered => (
            edited("ml_per_turn = 0.5553", "ml_per_turn = 0.6553"),
            Some(syringe_signature),
        ),
        Profile::SyringeUntrustedKey => {
            let (pem, _) = generate_signing_key().unwrap();
            let signature = sign(
                &syringe,
                &signing_key_from_pem(&pem).unwrap(),
                "someone-else",
            );
            (syringe, Some(signature))
        }
        Profile::GarbageSigned => {
            let bytes = b"[profile\nthis is not a profile".to_vec();
            let signature = common::dev_sign(&bytes);
            (bytes, Some(signature))
        }
        Profile::InvalidSigned => {
            let bytes = edited("microsteps = 16", "microsteps = 3");
            let signature = common::dev_sign(&bytes);
            (bytes, Some(signature))
        }
        Profile::SyringeRevisionOneOnly => {
            let bytes = edited("hardware_versions = [1, 2]", "hardware_versions = [1]");
            let signature = common::dev_sign(&bytes);
            (bytes, Some(signature))
        }
        Profile::SyringeIdWithVolumetricMechanism => {
            let (volumetric, _) = shipped("perfuse-v1-volumetric.toml");
            let text = String::from_utf8(volumetric).unwrap();
            let bytes = text
                .replacen("platform = \"perfuse-v1\"", "platform = \"perfuse-s50\"", 1)
                .replacen("product_id = 0x5601", "product_id = 0x5301", 1)
                .into_bytes();
            let signature = common::dev_sign(&bytes);
            (bytes, Some(signature))
        }
    };
    std::fs::write(&path, bytes).unwrap();
    if let Some(signature) = signature {
        std::fs::write(perfuse::signing::signature_path(&path), signature).unwrap();
    }
    path
}

#[test]
fn every_combination_of_board_and_profile_has_the_expected_outcome() {
    let keys = common::trusted_keys();
    let mut verified = 0;
    for board in BOARDS {
        for profile in PROFILES {
            let folder = tempfile::tempdir().unwrap();
            let hat = write_board(folder.path(), board);
            let profile_path = write_profile(folder.path(), profile);
            let result = verify_platform(
                HatIdentity::read_from(&hat),
                read_installed_profile(&profile_path),
                &keys,
            );
            assert_eq!(
                outcome(&result),
                expected(board, profile),
                "{board:?} with {profile:?}: {result:?}"
            );
            if let Err(rejection) = &result {
                assert!(
                    !rejection.to_string().is_empty()
                        && rejection.action().starts_with("Do not use this pump")
                );
            } else {
                verified += 1;
            }
        }
    }
    // Syringe rev 1 and 2 with the syringe profile, rev 1 with the rev-1 profile,
    // and the volumetric board with its profile.
    assert_eq!(verified, 4);
}

#[test]
fn the_wrong_platform_profile_is_refused_with_a_reason_a_person_can_act_on() {
    let folder = tempfile::tempdir().unwrap();
    let hat = write_board(folder.path(), Board::Volumetric(1));
    let profile = write_profile(folder.path(), Profile::SyringeSigned);
    let rejection = verify_platform(
        HatIdentity::read_from(&hat),
        read_installed_profile(&profile),
        &common::trusted_keys(),
    )
    .unwrap_err();
    assert_eq!(
        rejection.to_string(),
        "the mechanism profile is for Perfuse S50 syringe pump (syringe mechanism), but this hardware is a Perfuse V1 volumetric pump"
    );
    assert!(rejection
        .action()
        .contains("install the signed mechanism profile made for this platform"));
}

#[test]
fn a_verified_platform_carries_its_constants() {
    let folder = tempfile::tempdir().unwrap();
    let hat = write_board(folder.path(), Board::Syringe(2));
    let profile = write_profile(folder.path(), Profile::SyringeSigned);
    let verified = verify_platform(
        HatIdentity::read_from(&hat),
        read_installed_profile(&profile),
        &common::trusted_keys(),
    )
    .unwrap();
    assert_eq!(verified.platform.name, "Perfuse S50 syringe pump");
    assert!(verified.development_key);
    assert_eq!(verified.profile.microsteps_per_turn(), 16_000);
    let fifty = verified
        .profile
        .syringes
        .iter()
        .find(|syringe| syringe.name.contains("50 mL"))
        .unwrap();
    assert_eq!(
        verified.profile.rate_limits(Some(fifty)).max.to_string(),
        "999 mL/h"
    );
    let ten = verified
        .profile
        .syringes
        .iter()
        .find(|syringe| syringe.name.contains("10 mL"))
        .unwrap();
    assert_eq!(
        verified.profile.rate_limits(Some(ten)).max.to_string(),
        "400 mL/h"
    );
}

#[test]
fn the_profile_tunes_alarm_escalation_and_reminders_only_within_safe_bounds() {
    use perfuse::platform::{AlarmSpec, MechanismProfile, ProfileError};
    let (syringe, _) = shipped("perfuse-s50-syringe.toml");
    let text = String::from_utf8(syringe).unwrap();
    let shipped_spec = MechanismProfile::parse(text.as_bytes()).unwrap().alarms;
    assert_eq!(
        (shipped_spec.escalate_after_s, shipped_spec.reminder_every_s),
        (300, 60)
    );
    let (head, _) = text.split_once("[alarms]").unwrap();
    // Without the section: the same defaults.
    assert_eq!(
        MechanismProfile::parse(head.as_bytes()).unwrap().alarms,
        AlarmSpec::default()
    );
    let with = |escalate: u32, remind: u32| {
        MechanismProfile::parse(
            format!("{head}[alarms]\nescalate_after_s = {escalate}\nreminder_every_s = {remind}\n")
                .as_bytes(),
        )
    };
    let edges = with(30, 180).unwrap().alarms;
    assert_eq!((edges.escalate_after_s, edges.reminder_every_s), (30, 180));
    assert!(with(900, 15).is_ok());
    let Err(ProfileError::Invalid(problems)) = with(29, 10) else {
        panic!("an escalation under 30 s and a reminder every 10 s were accepted");
    };
    assert_eq!(
        problems,
        vec![
            "alarms.escalate_after_s is 29 s; it must lie between 30 and 900 s".to_owned(),
            "alarms.reminder_every_s is 10 s; it must lie between 15 and 180 s".to_owned(),
        ]
    );
    assert!(matches!(with(901, 181), Err(ProfileError::Invalid(p)) if p.len() == 2));
    // A misspelt setting is an error, not a silent default.
    let Err(ProfileError::Malformed(message)) =
        MechanismProfile::parse(format!("{head}[alarms]\nescalate_after = 60\n").as_bytes())
    else {
        panic!("a misspelt alarm setting was accepted");
    };
    assert!(message.contains("escalate_after"), "{message}");
}
