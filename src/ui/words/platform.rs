//! The platform check's refusal, and the touchscreen's other refusals that
//! do not come from the therapy core, in the screen's language. Names,
//! numbers and paths are shown as they are; the sentences around them are
//! translated, and the full technical text goes to the boot and event logs.

use super::text;
use crate::control::units::UnitError;
use crate::platform::{MechanismKind, PlatformRejection, ProfileError};
use crate::signing::SignatureError;
use crate::ui::pump::SendRefusal;
use crate::ui::text::{Arg, Texts};
use perfuse_drivers::hat::HatError;

/// Why the platform was refused, in a sentence.
pub fn rejection_why(texts: &Texts, rejection: &PlatformRejection) -> String {
    match rejection {
        PlatformRejection::NoIdentity(HatError::Missing { field, .. }) => {
            texts.format("notverified-identity-missing", &[("field", text(field))])
        }
        PlatformRejection::NoIdentity(HatError::Invalid { field, value, .. }) => texts.format(
            "notverified-identity-invalid",
            &[("field", text(field)), ("value", text(value))],
        ),
        PlatformRejection::UnknownHardware {
            vendor,
            product,
            product_id,
        } => texts.format(
            "notverified-unknown-hardware",
            &[
                ("vendor", text(vendor)),
                ("product", text(product)),
                ("code", text(format!("0x{product_id:04x}"))),
            ],
        ),
        PlatformRejection::UnsupportedRevision {
            platform,
            product_version,
            supported,
        } => texts.format(
            "notverified-unsupported-revision",
            &[
                ("platform", text(platform)),
                ("revision", text(product_version)),
                ("first", text(supported.start())),
                ("last", text(supported.end())),
            ],
        ),
        PlatformRejection::ProfileMissing { path, .. } => {
            texts.format("notverified-profile-missing", &[("path", text(path))])
        }
        PlatformRejection::ProfileSignature(error) => signature_why(texts, error),
        PlatformRejection::ProfileInvalid(ProfileError::Malformed(_)) => {
            texts.get("notverified-profile-malformed")
        }
        PlatformRejection::ProfileInvalid(ProfileError::Invalid(problems)) => {
            let count = u64::try_from(problems.len()).unwrap_or(u64::MAX);
            texts.format(
                "notverified-profile-invalid",
                &[("count", Arg::Count(count))],
            )
        }
        PlatformRejection::ProfileForAnotherPlatform {
            profile,
            mechanism,
            hardware,
        } => texts.format(
            "notverified-profile-other-platform",
            &[
                ("profile", text(profile)),
                ("mechanism", text(texts.get(mechanism_id(*mechanism)))),
                ("hardware", text(hardware)),
            ],
        ),
        PlatformRejection::ProfileForAnotherRevision {
            profile,
            product_version,
        } => texts.format(
            "notverified-profile-other-revision",
            &[
                ("profile", text(profile)),
                ("revision", text(product_version)),
            ],
        ),
    }
}

fn signature_why(texts: &Texts, error: &SignatureError) -> String {
    match error {
        SignatureError::Unsigned => texts.get("notverified-profile-unsigned"),
        SignatureError::Malformed { .. } => texts.get("notverified-profile-signature-malformed"),
        SignatureError::UntrustedKey { key_id, .. } => {
            texts.format("notverified-profile-untrusted", &[("key", text(key_id))])
        }
        SignatureError::Mismatch { key_id } => {
            texts.format("notverified-profile-mismatch", &[("key", text(key_id))])
        }
    }
}

/// The mechanism's name.
pub const fn mechanism_id(mechanism: MechanismKind) -> &'static str {
    match mechanism {
        MechanismKind::Syringe => "mechanism-syringe",
        MechanismKind::Volumetric => "mechanism-volumetric",
    }
}

/// What to do about a refused platform.
pub const fn rejection_action_id(rejection: &PlatformRejection) -> &'static str {
    match rejection {
        PlatformRejection::NoIdentity(_) | PlatformRejection::UnknownHardware { .. } => {
            "notverified-action-board"
        }
        PlatformRejection::UnsupportedRevision { .. } => "notverified-action-software",
        PlatformRejection::ProfileMissing { .. }
        | PlatformRejection::ProfileSignature(_)
        | PlatformRejection::ProfileInvalid(_)
        | PlatformRejection::ProfileForAnotherPlatform { .. }
        | PlatformRejection::ProfileForAnotherRevision { .. } => "notverified-action-profile",
    }
}

/// Why a command did not reach the control thread.
pub const fn send_refusal_id(refusal: SendRefusal) -> &'static str {
    match refusal {
        SendRefusal::QueueFull => "refused-queue-full",
        SendRefusal::ControlStopped => "refused-control-stopped",
        SendRefusal::PlatformNotVerified => "refused-platform-not-verified",
    }
}

pub fn send_refusal_text(texts: &Texts, refusal: SendRefusal) -> String {
    texts.get(send_refusal_id(refusal))
}

/// A confirmed value the control units cannot hold exactly.
pub fn unit_text(texts: &Texts, error: &UnitError) -> String {
    // `what` names it in English for the logs; the screen is on that value.
    let UnitError { what: _ } = error;
    texts.get("refused-not-exact")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::text::Language;

    /// One of each refusal, with its inner errors.
    fn rejections() -> Vec<PlatformRejection> {
        vec![
            PlatformRejection::NoIdentity(HatError::Missing {
                field: "product_id",
                detail: "No such file or directory".to_owned(),
            }),
            PlatformRejection::NoIdentity(HatError::Invalid {
                field: "product_id",
                value: "zz".to_owned(),
                expected: "a hexadecimal number such as 0x0001",
            }),
            PlatformRejection::UnknownHardware {
                vendor: "Acme".to_owned(),
                product: "Widget".to_owned(),
                product_id: 0x42,
            },
            PlatformRejection::UnsupportedRevision {
                platform: "Perfuse V1 volumetric",
                product_version: 9,
                supported: 1..=2,
            },
            PlatformRejection::ProfileMissing {
                path: "/etc/perfuse/profile.toml".to_owned(),
                detail: "No such file or directory".to_owned(),
            },
            PlatformRejection::ProfileSignature(SignatureError::Unsigned),
            PlatformRejection::ProfileSignature(SignatureError::Malformed {
                detail: "bad base64".to_owned(),
            }),
            PlatformRejection::ProfileSignature(SignatureError::UntrustedKey {
                key_id: "stranger".to_owned(),
                trusted: vec!["factory".to_owned()],
            }),
            PlatformRejection::ProfileSignature(SignatureError::Mismatch {
                key_id: "factory".to_owned(),
            }),
            PlatformRejection::ProfileInvalid(ProfileError::Malformed("expected `=`".to_owned())),
            PlatformRejection::ProfileInvalid(ProfileError::Invalid(vec![
                "steps_per_ml: must be above 0".to_owned(),
                "name: empty".to_owned(),
            ])),
            PlatformRejection::ProfileForAnotherPlatform {
                profile: "S50 syringe".to_owned(),
                mechanism: MechanismKind::Syringe,
                hardware: "Perfuse V1 volumetric",
            },
            PlatformRejection::ProfileForAnotherRevision {
                profile: "V1 volumetric".to_owned(),
                product_version: 3,
            },
        ]
    }

    #[test]
    fn every_refusal_reads_in_each_language_without_the_english_technical_text() {
        for language in Language::ALL {
            let texts = Texts::new(language).unwrap();
            for rejection in rejections() {
                let why = rejection_why(&texts, &rejection);
                let action = texts.get(rejection_action_id(&rejection));
                for shown in [&why, &action] {
                    assert!(
                        !shown.is_empty() && !shown.contains("notverified-"),
                        "{shown}"
                    );
                    // The OS's and the parsers' English stays in the logs.
                    for english in [
                        "No such file",
                        "bad base64",
                        "expected `=`",
                        "must be above",
                    ] {
                        assert!(!shown.contains(english), "{language:?}: {shown}");
                    }
                }
            }
        }
        let german = Texts::new(Language::German).unwrap();
        let why = rejection_why(&german, &rejections()[11]);
        assert!(
            why.contains("S50 syringe") && why.contains("Spritzenpumpe"),
            "{why}"
        );
        let why = rejection_why(&german, &rejections()[10]);
        assert!(why.contains('2'), "{why}");
        assert!(rejection_why(&german, &rejections()[2]).contains("0x0042"));
    }

    #[test]
    fn the_touchscreens_own_refusals_are_translated() {
        let german = Texts::new(Language::German).unwrap();
        let english = Texts::new(Language::English).unwrap();
        for refusal in [
            SendRefusal::QueueFull,
            SendRefusal::ControlStopped,
            SendRefusal::PlatformNotVerified,
        ] {
            let (de, en) = (
                send_refusal_text(&german, refusal),
                send_refusal_text(&english, refusal),
            );
            assert!(
                !de.is_empty() && de != en && !de.starts_with("refused-"),
                "{de}"
            );
        }
        let error = UnitError { what: "rate" };
        assert_ne!(unit_text(&german, &error), unit_text(&english, &error));
    }
}
