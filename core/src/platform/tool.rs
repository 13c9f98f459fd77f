//! `perfuse-platform`: the biomedical engineer's tool for mechanism profiles:
//! list the supported platforms, validate and sign a profile, and run the
//! boot cross-check against a board's identity to see what the pump would say.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use perfuse_drivers::hat::{HatIdentity, DEVICE_TREE_HAT};

use super::{read_installed_profile, verify_platform, MechanismProfile, SUPPORTED_PLATFORMS};
use crate::signing::{read_signed, sign_file, verify_detached, TrustedKeys};

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-platform",
    version,
    about = "List platforms; validate, sign and cross-check mechanism profiles"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The platforms this software supports.
    List,
    /// Check a profile's content; with --keys, also its signature.
    Validate {
        profile: PathBuf,
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Sign a valid profile, writing `<profile>.sig` beside it.
    Sign {
        profile: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        key_id: String,
    },
    /// Run the boot cross-check: board identity x installed profile x supported list.
    Check {
        /// The device-tree HAT folder (on a Pi: /proc/device-tree/hat).
        #[arg(long, default_value = DEVICE_TREE_HAT)]
        identity: PathBuf,
        #[arg(long)]
        profile: PathBuf,
        #[arg(long)]
        keys: PathBuf,
    },
}

fn describe(profile: &MechanismProfile) -> String {
    let header = &profile.profile;
    format!(
        "{} profile {} for {} (product 0x{:04x}, revisions {:?}, {} mechanism)",
        header.name,
        header.version,
        header.platform,
        header.product_id,
        header.hardware_versions,
        header.mechanism
    )
}

fn load_keys(path: &PathBuf) -> Result<TrustedKeys, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    TrustedKeys::from_toml(&text).map_err(|error| format!("{}: {error}", path.display()))
}

/// Runs one command; the text to print, or the error (a refused cross-check
/// is an error, so the exit status says the pump would not infuse).
pub fn run(command: Command) -> Result<String, String> {
    match command {
        Command::List => {
            let mut out = String::new();
            for platform in &SUPPORTED_PLATFORMS {
                let _ = writeln!(
                    out,
                    "{:<12} {:<28} product 0x{:04x}, revisions {} to {}, {} mechanism",
                    platform.id,
                    platform.name,
                    platform.product_id,
                    platform.hardware_versions.start(),
                    platform.hardware_versions.end(),
                    platform.mechanism
                );
            }
            Ok(out)
        }
        Command::Validate { profile, keys } => {
            let (bytes, signature) = read_signed(&profile)?;
            let mut out = String::new();
            if let Some(keys) = keys {
                let keys = load_keys(&keys)?;
                let signer =
                    verify_detached(&bytes, signature.as_deref(), &keys).map_err(|error| {
                        format!("{}: the profile is refused: {error}", profile.display())
                    })?;
                let _ = writeln!(out, "signature: good, by trusted key \"{}\"", signer.id);
            }
            let parsed = MechanismProfile::parse(&bytes)
                .map_err(|error| format!("{}: {error}", profile.display()))?;
            let _ = writeln!(out, "valid: {}", describe(&parsed));
            Ok(out)
        }
        Command::Sign {
            profile,
            key,
            key_id,
        } => sign_file(&profile, &key, &key_id, |bytes| {
            MechanismProfile::parse(bytes)
                .map(|parsed| describe(&parsed))
                .map_err(|error| error.to_string())
        }),
        Command::Check {
            identity,
            profile,
            keys,
        } => {
            let keys = load_keys(&keys)?;
            match verify_platform(
                HatIdentity::read_from(&identity),
                read_installed_profile(&profile),
                &keys,
            ) {
                Ok(verified) => Ok(format!(
                    "verified: {} on {}\nprofile: {}, signed by {}{}\n",
                    verified.platform.name,
                    verified.identity,
                    describe(&verified.profile),
                    verified.signed_by,
                    if verified.development_key {
                        " (DEVELOPMENT KEY: not for clinical use)"
                    } else {
                        ""
                    }
                )),
                Err(rejection) => Err(format!(
                    "platform not verified: {rejection}\n{}",
                    rejection.action()
                )),
            }
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("perfuse-platform: {message}");
            ExitCode::FAILURE
        }
    }
}
