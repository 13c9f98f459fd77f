//! The boot cross-check (DESIGN.md, F1): the hardware says what it is (HAT
//! EEPROM), the installed profile says what it is for (signed), and this
//! software says what it supports. Only when all three agree may the pump
//! infuse; otherwise it reports exactly why, and what to do.

use std::fmt;
use std::ops::RangeInclusive;

use perfuse_drivers::hat::{HatError, HatIdentity};

use super::profile::{MechanismKind, MechanismProfile, ProfileError};
use crate::signing::{verify_detached, SignatureError, TrustedKeys};

/// A platform this software supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedPlatform {
    /// The id profiles name in `[profile] platform`.
    pub id: &'static str,
    /// Shown on every screen.
    pub name: &'static str,
    pub vendor: &'static str,
    pub product_id: u16,
    pub hardware_versions: RangeInclusive<u16>,
    pub mechanism: MechanismKind,
}

/// The vendor string every supported carrier board's EEPROM carries.
pub const VENDOR: &str = "Perfuse Project";

/// Every platform this build supports.
pub const SUPPORTED_PLATFORMS: [SupportedPlatform; 2] = [
    SupportedPlatform {
        id: "perfuse-s50",
        name: "Perfuse S50 syringe pump",
        vendor: VENDOR,
        product_id: 0x5301,
        hardware_versions: 1..=2,
        mechanism: MechanismKind::Syringe,
    },
    SupportedPlatform {
        id: "perfuse-v1",
        name: "Perfuse V1 volumetric pump",
        vendor: VENDOR,
        product_id: 0x5601,
        hardware_versions: 1..=1,
        mechanism: MechanismKind::Volumetric,
    },
];

/// A platform that passed the cross-check: the only way the pump gets the
/// mechanism constants it infuses with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPlatform {
    pub platform: SupportedPlatform,
    pub identity: HatIdentity,
    pub profile: MechanismProfile,
    pub signed_by: String,
    pub development_key: bool,
}

/// Why the pump refuses to infuse on this hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformRejection {
    /// The board identity could not be read.
    NoIdentity(HatError),
    /// The board is not one this software supports.
    UnknownHardware {
        vendor: String,
        product: String,
        product_id: u16,
    },
    /// A supported board, but a revision this software was not verified on.
    UnsupportedRevision {
        platform: &'static str,
        product_version: u16,
        supported: RangeInclusive<u16>,
    },
    /// No mechanism profile is installed where the configuration says.
    ProfileMissing { path: String, detail: String },
    /// The profile's signature does not hold.
    ProfileSignature(SignatureError),
    /// The profile verified, but its content is unusable.
    ProfileInvalid(ProfileError),
    /// The profile is for another platform than the hardware (the F1 failure).
    ProfileForAnotherPlatform {
        profile: String,
        mechanism: MechanismKind,
        hardware: &'static str,
    },
    /// The profile is for this platform, but not this board revision.
    ProfileForAnotherRevision {
        profile: String,
        product_version: u16,
    },
}

impl PlatformRejection {
    /// What a nurse or biomedical engineer should do about it.
    pub fn action(&self) -> &'static str {
        match self {
            PlatformRejection::NoIdentity(_) | PlatformRejection::UnknownHardware { .. } => {
                "Do not use this pump. Send it to biomedical engineering: the carrier board is missing, damaged or not a Perfuse board."
            }
            PlatformRejection::UnsupportedRevision { .. } => {
                "Do not use this pump. Biomedical engineering must install software that supports this board revision."
            }
            PlatformRejection::ProfileMissing { .. }
            | PlatformRejection::ProfileSignature(_)
            | PlatformRejection::ProfileInvalid(_)
            | PlatformRejection::ProfileForAnotherPlatform { .. }
            | PlatformRejection::ProfileForAnotherRevision { .. } => {
                "Do not use this pump. Biomedical engineering must install the signed mechanism profile made for this platform."
            }
        }
    }
}

impl fmt::Display for PlatformRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformRejection::NoIdentity(error) => write!(f, "unknown hardware: {error}"),
            PlatformRejection::UnknownHardware { vendor, product, product_id } => write!(
                f,
                "unknown hardware: \"{vendor} {product}\" (product 0x{product_id:04x}) is not a platform this software supports"
            ),
            PlatformRejection::UnsupportedRevision { platform, product_version, supported } => write!(
                f,
                "{platform} board revision {product_version} is not supported (supported: {} to {})",
                supported.start(),
                supported.end()
            ),
            PlatformRejection::ProfileMissing { path, detail } => {
                write!(f, "no mechanism profile at {path}: {detail}")
            }
            PlatformRejection::ProfileSignature(error) => write!(f, "the mechanism profile is refused: {error}"),
            PlatformRejection::ProfileInvalid(error) => write!(f, "{error}"),
            PlatformRejection::ProfileForAnotherPlatform { profile, mechanism, hardware } => write!(
                f,
                "the mechanism profile is for {profile} ({mechanism} mechanism), but this hardware is a {hardware}"
            ),
            PlatformRejection::ProfileForAnotherRevision { profile, product_version } => write!(
                f,
                "the mechanism profile {profile} does not cover board revision {product_version}"
            ),
        }
    }
}

/// The supported platform a board identity names, or why none.
pub fn supported_platform(
    identity: &HatIdentity,
) -> Result<&'static SupportedPlatform, PlatformRejection> {
    let platform = SUPPORTED_PLATFORMS
        .iter()
        .find(|platform| {
            platform.vendor == identity.vendor && platform.product_id == identity.product_id
        })
        .ok_or_else(|| PlatformRejection::UnknownHardware {
            vendor: identity.vendor.clone(),
            product: identity.product.clone(),
            product_id: identity.product_id,
        })?;
    if !platform
        .hardware_versions
        .contains(&identity.product_version)
    {
        return Err(PlatformRejection::UnsupportedRevision {
            platform: platform.name,
            product_version: identity.product_version,
            supported: platform.hardware_versions.clone(),
        });
    }
    Ok(platform)
}

/// The installed profile as read from disk: its bytes and detached signature,
/// or why it could not be read.
pub type InstalledProfile = Result<(Vec<u8>, Option<String>), (String, String)>;

/// Cross-checks hardware identity, installed profile and supported list.
pub fn verify_platform(
    identity: Result<HatIdentity, HatError>,
    profile: InstalledProfile,
    keys: &TrustedKeys,
) -> Result<VerifiedPlatform, PlatformRejection> {
    let identity = identity.map_err(PlatformRejection::NoIdentity)?;
    let platform = supported_platform(&identity)?;
    let (bytes, signature) =
        profile.map_err(|(path, detail)| PlatformRejection::ProfileMissing { path, detail })?;
    let signer = verify_detached(&bytes, signature.as_deref(), keys)
        .map_err(PlatformRejection::ProfileSignature)?;
    let profile = MechanismProfile::parse(&bytes).map_err(PlatformRejection::ProfileInvalid)?;
    let header = &profile.profile;
    if header.platform != platform.id
        || header.product_id != platform.product_id
        || header.mechanism != platform.mechanism
    {
        return Err(PlatformRejection::ProfileForAnotherPlatform {
            profile: header.name.clone(),
            mechanism: header.mechanism,
            hardware: platform.name,
        });
    }
    if !header.hardware_versions.contains(&identity.product_version) {
        return Err(PlatformRejection::ProfileForAnotherRevision {
            profile: header.name.clone(),
            product_version: identity.product_version,
        });
    }
    Ok(VerifiedPlatform {
        platform: platform.clone(),
        identity,
        signed_by: signer.id.clone(),
        development_key: signer.development_only,
        profile,
    })
}

/// Reads the profile installed at `path` for `verify_platform`.
pub fn read_installed_profile(path: &std::path::Path) -> InstalledProfile {
    crate::signing::read_signed(path).map_err(|detail| (path.display().to_string(), detail))
}
