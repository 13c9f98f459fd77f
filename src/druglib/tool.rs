//! `perfuse-druglib`: the pharmacist's and biomedical engineer's tool.
//!
//! keygen, validate, sign, show and diff drug libraries without touching code.
//! The binary in src/bin only calls `main`; everything testable lives here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use rust_decimal::Decimal;

use super::model::{DosingUnit, Entry};
use super::{parse_library, verify_library, Library, LibraryError};
use crate::signing::{read_signed, TrustedKeys};
use crate::therapy::display_decimal;

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-druglib",
    version,
    about = "Write, check, sign and compare Perfuse drug libraries"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new Ed25519 signing key (PKCS#8 PEM) and print its public key.
    Keygen {
        /// Where to write the private key; it must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a library's content; with --keys, also its signature and date.
    Validate {
        library: PathBuf,
        /// Trusted-keys file: also verify `<library>.sig` as the pump would.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The date to check the effective date against (default: today, UTC).
        #[arg(long, value_parser = parse_date)]
        today: Option<time::Date>,
    },
    /// Sign a valid library, writing `<library>.sig` beside it.
    Sign {
        library: PathBuf,
        /// The private key (PKCS#8 PEM, as `keygen` or `openssl genpkey -algorithm ed25519` writes).
        #[arg(long)]
        key: PathBuf,
        /// The key's id, as listed in the pump's trusted-keys file.
        #[arg(long)]
        key_id: String,
    },
    /// List a library's care areas and entries with their limits.
    Show {
        library: PathBuf,
        /// Only this care area.
        #[arg(long)]
        care_area: Option<String>,
    },
    /// Show what changed between two versions of a library.
    Diff { old: PathBuf, new: PathBuf },
}

fn parse_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|error| format!("\"{text}\" is not a date such as 2026-11-01: {error}"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn load(path: &Path) -> Result<Library, String> {
    parse_library(&read(path)?).map_err(|error| format!("{}: {error}", path.display()))
}

/// Today's date in UTC.
pub fn today_utc() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Runs one command; returns what to print, or an error message.
pub fn run(command: Command) -> Result<String, String> {
    match command {
        Command::Keygen { out } => keygen(&out),
        Command::Validate {
            library,
            keys,
            today,
        } => validate(&library, keys.as_deref(), today.unwrap_or_else(today_utc)),
        Command::Sign {
            library,
            key,
            key_id,
        } => sign_file(&library, &key, &key_id),
        Command::Show { library, care_area } => Ok(show(&load(&library)?, care_area.as_deref())),
        Command::Diff { old, new } => Ok(diff(&load(&old)?, &load(&new)?)),
    }
}

/// Entry point of the binary.
pub fn main() -> std::process::ExitCode {
    match run(Cli::parse().command) {
        Ok(output) => {
            print!("{output}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("perfuse-druglib: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn keygen(out: &Path) -> Result<String, String> {
    let (pem, public_hex) = crate::signing::generate_signing_key()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    std::io::Write::write_all(&mut file, pem.as_bytes())
        .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
    Ok(format!(
        "wrote the private key to {} (keep it secret)\nadd this to the pump's trusted-keys file:\n\n[[key]]\nid = \"CHOOSE-AN-ID\"\npublic_key = \"{public_hex}\"\n",
        out.display()
    ))
}

fn validate(path: &Path, keys: Option<&Path>, today: time::Date) -> Result<String, String> {
    let (bytes, signature) = read_signed(path)?;
    let mut out = String::new();
    let library = match keys {
        None => parse_library(&bytes).map_err(|error| format!("{}: {error}", path.display()))?,
        Some(keys_path) => {
            let keys = TrustedKeys::from_toml(&read_text(keys_path)?)
                .map_err(|error| format!("{}: {error}", keys_path.display()))?;
            let verified = verify_library(&bytes, signature.as_deref(), &keys, today)
                .map_err(|error: LibraryError| format!("{}: {error}", path.display()))?;
            let _ = writeln!(
                out,
                "signature: good, by trusted key \"{}\"",
                verified.signed_by
            );
            if verified.development_key {
                let _ = writeln!(
                    out,
                    "WARNING: that key is development-only; never use this library on a patient"
                );
            }
            verified.library
        }
    };
    let entries: usize = library
        .file
        .care_areas
        .iter()
        .map(|area| area.entries.len())
        .sum();
    let _ = writeln!(out, "valid: {}", library.identity);
    let _ = writeln!(
        out,
        "{} care areas, {} entries",
        library.file.care_areas.len(),
        entries
    );
    for warning in slip_warnings(&library) {
        let _ = writeln!(out, "warning: {warning}");
    }
    Ok(out)
}

/// Entries whose limits would let a 10x slip of the default dose pass
/// without any alert: worth a pharmacist's second look.
pub fn slip_warnings(library: &Library) -> Vec<String> {
    let mut warnings = Vec::new();
    for area in &library.file.care_areas {
        for entry in &area.entries {
            let ten_times = entry
                .dose
                .default
                .checked_mul(Decimal::TEN)
                .unwrap_or(Decimal::MAX);
            let alert_at = entry.dose.soft_max.unwrap_or(entry.dose.hard_max);
            if ten_times <= alert_at {
                warnings.push(format!(
                    "{}/{}: ten times the default dose ({} {}) is within the limits, so a 10x slip would raise no alert",
                    area.id,
                    entry.id,
                    display_decimal(ten_times),
                    entry.dose.unit
                ));
            }
        }
    }
    warnings
}

fn sign_file(library: &Path, key: &Path, key_id: &str) -> Result<String, String> {
    crate::signing::sign_file(library, key, key_id, |bytes| {
        parse_library(bytes)
            .map(|parsed| parsed.identity.to_string())
            .map_err(|error| error.to_string())
    })
}

fn limits_text(entry: &Entry) -> String {
    let dose = &entry.dose;
    let show = |value: Option<Decimal>| value.map_or_else(|| "-".to_owned(), display_decimal);
    format!(
        "{} default {} | hard min {} | soft min {} | soft max {} | hard max {}",
        dose.unit,
        display_decimal(dose.default),
        show(dose.hard_min),
        show(dose.soft_min),
        show(dose.soft_max),
        display_decimal(dose.hard_max)
    )
}

fn show(library: &Library, only: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", library.identity);
    for area in library
        .file
        .care_areas
        .iter()
        .filter(|area| only.is_none_or(|id| id == area.id))
    {
        let _ = writeln!(
            out,
            "\n{} ({}): {} entries",
            area.name,
            area.id,
            area.entries.len()
        );
        for entry in &area.entries {
            let concentrations: Vec<String> = entry
                .concentrations
                .iter()
                .map(|c| {
                    format!(
                        "{} {} / {} mL",
                        display_decimal(c.amount),
                        c.unit,
                        display_decimal(c.volume_ml)
                    )
                })
                .collect();
            let kind = match entry.dose.unit {
                DosingUnit::Flow => "fluid",
                DosingUnit::Rate(_) => "continuous",
                DosingUnit::Amount(_) => "intermittent",
            };
            let _ = writeln!(
                out,
                "  {:<28} {:<12} {}",
                entry.display_name,
                kind,
                limits_text(entry)
            );
            if !concentrations.is_empty() {
                let _ = writeln!(
                    out,
                    "  {:<28} {:<12} concentrations: {}",
                    "",
                    "",
                    concentrations.join(", ")
                );
            }
        }
    }
    out
}

/// Flattens an entry to "dose.soft_max -> 0.5" leaves for comparison.
fn fields(entry: &Entry) -> BTreeMap<String, String> {
    fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
        let join = |key: &str| {
            if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}.{key}")
            }
        };
        match value {
            toml::Value::Table(table) => {
                for (key, inner) in table {
                    flatten(&join(key), inner, out);
                }
            }
            toml::Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    flatten(&format!("{prefix}[{index}]"), inner, out);
                }
            }
            toml::Value::String(text) => {
                out.insert(prefix.to_owned(), text.clone());
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut flat = BTreeMap::new();
    if let Ok(value) = toml::Value::try_from(entry) {
        flatten("", &value, &mut flat);
    }
    flat
}

fn diff(old: &Library, new: &Library) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "old: {}\nnew: {}", old.identity, new.identity);
    let areas = |library: &Library| -> BTreeMap<String, BTreeMap<String, Entry>> {
        library
            .file
            .care_areas
            .iter()
            .map(|area| {
                (
                    area.id.clone(),
                    area.entries
                        .iter()
                        .map(|entry| (entry.id.clone(), entry.clone()))
                        .collect(),
                )
            })
            .collect()
    };
    let (old_areas, new_areas) = (areas(old), areas(new));
    let mut changes = 0_usize;
    for (area, old_entries) in &old_areas {
        let Some(new_entries) = new_areas.get(area) else {
            let _ = writeln!(
                out,
                "- care area {area} removed ({} entries)",
                old_entries.len()
            );
            changes += 1;
            continue;
        };
        for (id, old_entry) in old_entries {
            match new_entries.get(id) {
                None => {
                    let _ = writeln!(out, "- {area}/{id} removed");
                    changes += 1;
                }
                Some(new_entry) => {
                    let (before, after) = (fields(old_entry), fields(new_entry));
                    let keys: std::collections::BTreeSet<&String> =
                        before.keys().chain(after.keys()).collect();
                    for key in keys {
                        let (was, now) = (before.get(key), after.get(key));
                        if was != now {
                            let none = String::from("(none)");
                            let _ = writeln!(
                                out,
                                "~ {area}/{id} {key}: {} -> {}",
                                was.unwrap_or(&none),
                                now.unwrap_or(&none)
                            );
                            changes += 1;
                        }
                    }
                }
            }
        }
        for id in new_entries
            .keys()
            .filter(|id| !old_entries.contains_key(*id))
        {
            let _ = writeln!(out, "+ {area}/{id} added");
            changes += 1;
        }
    }
    for (area, entries) in new_areas
        .iter()
        .filter(|(area, _)| !old_areas.contains_key(*area))
    {
        let _ = writeln!(out, "+ care area {area} added ({} entries)", entries.len());
        changes += 1;
    }
    let _ = writeln!(out, "{changes} change(s)");
    out
}
