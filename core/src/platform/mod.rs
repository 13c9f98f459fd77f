//! Platform identity and mechanism profiles (DESIGN.md, F1).
//!
//! One software image runs every Perfuse platform. At boot the board's
//! identity (HAT EEPROM), the installed signed mechanism profile and this
//! software's supported-platform list are cross-checked; unknown hardware or
//! a profile for another platform means no infusion, with the exact reason.

mod check;
mod profile;
pub mod tool;

pub use check::{
    read_installed_profile, supported_platform, verify_platform, InstalledProfile,
    PlatformRejection, SupportedPlatform, VerifiedPlatform, SUPPORTED_PLATFORMS, VENDOR,
};
pub use profile::{
    AlarmSpec, LeadScrewSpec, MechanismKind, MechanismProfile, MotorSpec, OcclusionSpec,
    ProfileError, ProfileHeader, RateSpec, SensorSpec, SyringeSpec, VolumetricSpec, PROFILE_FORMAT,
};
