//! From bytes to a `Library` whose every entry makes sense.
//!
//! Parsing checks the form; validation checks the meaning: limits in order,
//! units that fit the concentrations, no duplicate entries, a hard maximum on
//! everything. All problems are collected so a pharmacist fixes them in one
//! pass. Nothing here looks at signatures or dates; `signature.rs` does.

use std::collections::HashSet;
use std::fmt;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::model::{CareArea, DosingUnit, Entry, LibraryFile, Limits, Spec, FORMAT_VERSION};
use super::LibraryError;
use crate::therapy::{rules, AmountFamily, AmountUnit};

/// What identifies one library version everywhere it is shown or logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryIdentity {
    pub name: String,
    pub version: String,
    pub effective: time::Date,
    /// SHA-256 of the exact file bytes.
    pub sha256: [u8; 32],
}

impl LibraryIdentity {
    /// The first 8 bytes of the hash in hex: enough to tell versions apart on screen.
    /// The whole hash in hex, as the records keep it.
    pub fn hash_hex(&self) -> String {
        self.sha256
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    pub fn short_hash(&self) -> String {
        let mut hex = self.hash_hex();
        hex.truncate(16);
        hex
    }
}

impl fmt::Display for LibraryIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} version {} (effective {}, sha256 {})",
            self.name,
            self.version,
            self.effective,
            self.short_hash()
        )
    }
}

/// A library that parsed and validated. Its entries can be trusted to make
/// sense; whether it may be used is `signature.rs`'s question.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    pub file: LibraryFile,
    pub identity: LibraryIdentity,
}

impl Library {
    /// The care area of this id.
    pub fn care_area(&self, id: &str) -> Option<&CareArea> {
        self.file.care_areas.iter().find(|area| area.id == id)
    }

    /// The entry `entry` of care area `care_area`.
    pub fn entry(&self, care_area: &str, entry: &str) -> Option<&Entry> {
        self.care_area(care_area)?
            .entries
            .iter()
            .find(|candidate| candidate.id == entry)
    }
}

/// One thing wrong with a library's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Header {
        message: String,
    },
    DuplicateCareArea {
        id: String,
    },
    DuplicateEntry {
        care_area: String,
        id: String,
    },
    DuplicateDisplayName {
        care_area: String,
        display_name: String,
    },
    CareArea {
        care_area: String,
        message: String,
    },
    Entry {
        care_area: String,
        entry: String,
        message: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Header { message } => write!(f, "[library] {message}"),
            Problem::DuplicateCareArea { id } => write!(f, "care area \"{id}\" appears more than once"),
            Problem::DuplicateEntry { care_area, id } => {
                write!(f, "care area \"{care_area}\": entry \"{id}\" appears more than once")
            }
            Problem::DuplicateDisplayName { care_area, display_name } => write!(
                f,
                "care area \"{care_area}\": two entries are both shown as \"{display_name}\" with the same concentration, so a nurse cannot tell them apart"
            ),
            Problem::CareArea { care_area, message } => write!(f, "care area \"{care_area}\": {message}"),
            Problem::Entry { care_area, entry, message } => {
                write!(f, "care area \"{care_area}\", entry \"{entry}\": {message}")
            }
        }
    }
}

/// Parses and validates library bytes (no signature, no date check).
pub fn parse_library(bytes: &[u8]) -> Result<Library, LibraryError> {
    let text = std::str::from_utf8(bytes).map_err(|error| LibraryError::Malformed {
        detail: format!("the file is not UTF-8 text: {error}"),
    })?;
    let file: LibraryFile = toml::from_str(text).map_err(|error| LibraryError::Malformed {
        detail: error.to_string(),
    })?;
    if file.library.format != FORMAT_VERSION {
        return Err(LibraryError::UnsupportedFormat {
            found: file.library.format,
            supported: FORMAT_VERSION,
        });
    }
    let mut problems = Vec::new();
    let effective = effective_date(&file.library.effective, &mut problems);
    check_content(&file, &mut problems);
    match (problems.is_empty(), effective) {
        (true, Some(effective)) => {
            let identity = LibraryIdentity {
                name: file.library.name.clone(),
                version: file.library.version.clone(),
                effective,
                sha256: Sha256::digest(bytes).into(),
            };
            Ok(Library { file, identity })
        }
        _ => Err(LibraryError::Invalid { problems }),
    }
}

fn effective_date(
    written: &toml::value::Datetime,
    problems: &mut Vec<Problem>,
) -> Option<time::Date> {
    let date = match (written.date, written.time, written.offset) {
        (Some(date), None, None) => date,
        _ => {
            problems.push(Problem::Header {
                message: format!("effective = {written} must be a date only, such as 2026-11-01"),
            });
            return None;
        }
    };
    let date = time::Month::try_from(date.month).ok().and_then(|month| {
        time::Date::from_calendar_date(i32::from(date.year), month, date.day).ok()
    });
    if date.is_none() {
        problems.push(Problem::Header {
            message: format!("effective = {written} is not a calendar date"),
        });
    }
    date
}

fn is_identifier(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

fn check_content(file: &LibraryFile, problems: &mut Vec<Problem>) {
    if file.library.name.trim().is_empty() {
        problems.push(Problem::Header {
            message: "name must not be empty".to_owned(),
        });
    }
    if file.library.version.trim().is_empty() {
        problems.push(Problem::Header {
            message: "version must not be empty".to_owned(),
        });
    }
    if file.care_areas.is_empty() {
        problems.push(Problem::Header {
            message: "the library has no [[care_area]]".to_owned(),
        });
    }
    let mut care_area_ids = HashSet::new();
    for area in &file.care_areas {
        if !care_area_ids.insert(area.id.as_str()) {
            problems.push(Problem::DuplicateCareArea {
                id: area.id.clone(),
            });
        }
        let area_problem = |message: String| Problem::CareArea {
            care_area: area.id.clone(),
            message,
        };
        if !is_identifier(&area.id) {
            problems.push(area_problem(
                "the id must be lower-case letters, digits and '-'".to_owned(),
            ));
        }
        if area.name.trim().is_empty() {
            problems.push(area_problem("name must not be empty".to_owned()));
        }
        if area.entries.is_empty() {
            problems.push(area_problem("has no entries".to_owned()));
        }
        if let Some(max) = area.basic_max_rate_ml_h {
            if let Err(error) = rules::RATE.check(max) {
                problems.push(area_problem(format!("basic_max_rate_ml_h: {error}")));
            }
        }
        if let Some(rate) = area.kvo_rate_ml_h {
            if let Err(error) = rules::KEEP_VEIN_OPEN.check(rate) {
                problems.push(area_problem(format!("kvo_rate_ml_h: {error}")));
            }
        }
        let mut entry_ids = HashSet::new();
        let mut shown = HashSet::new();
        for entry in &area.entries {
            if !entry_ids.insert(entry.id.as_str()) {
                problems.push(Problem::DuplicateEntry {
                    care_area: area.id.clone(),
                    id: entry.id.clone(),
                });
            }
            for concentration in concentration_keys(entry) {
                if !shown.insert((entry.display_name.to_lowercase(), concentration)) {
                    problems.push(Problem::DuplicateDisplayName {
                        care_area: area.id.clone(),
                        display_name: entry.display_name.clone(),
                    });
                    break;
                }
            }
            for message in entry_problems(entry) {
                problems.push(Problem::Entry {
                    care_area: area.id.clone(),
                    entry: entry.id.clone(),
                    message,
                });
            }
        }
    }
}

/// What tells two entries of the same name apart on screen: their concentrations.
fn concentration_keys(entry: &Entry) -> Vec<String> {
    let mut keys: Vec<String> = entry
        .concentrations
        .iter()
        .map(|c| {
            format!(
                "{} {} / {} mL",
                c.amount.normalize(),
                c.unit,
                c.volume_ml.normalize()
            )
        })
        .collect();
    if keys.is_empty() {
        keys.push(String::from("no concentration"));
    }
    keys
}

fn limits_problems(what: &str, default: Decimal, limits: Limits, problems: &mut Vec<String>) {
    let ordered = [
        ("hard_min", limits.hard_min),
        ("soft_min", limits.soft_min),
        ("default", Some(default)),
        ("soft_max", limits.soft_max),
        ("hard_max", Some(limits.hard_max)),
    ];
    let present: Vec<(&str, Decimal)> = ordered
        .iter()
        .filter_map(|(name, value)| value.map(|v| (*name, v)))
        .collect();
    for (name, value) in &present {
        if *value < Decimal::ZERO {
            problems.push(format!("{what} {name} must not be negative"));
        }
    }
    for pair in present.windows(2) {
        if let [(low_name, low), (high_name, high)] = pair {
            if low > high {
                problems.push(format!(
                    "{what} limits are out of order: {low_name} {} is above {high_name} {} (hard_min <= soft_min <= default <= soft_max <= hard_max)",
                    low.normalize(),
                    high.normalize()
                ));
            }
        }
    }
    if default <= Decimal::ZERO {
        problems.push(format!("{what} default must be above zero"));
    }
}

fn family_problem(
    what: &str,
    unit: AmountUnit,
    family: Option<AmountFamily>,
    problems: &mut Vec<String>,
) {
    if let Some(family) = family {
        if unit.family() != family {
            problems.push(format!(
                "{what} is in {unit}, which does not convert to the concentration's unit"
            ));
        }
    }
}

fn amount_spec_problems<U>(what: &str, spec: &Spec<U>, problems: &mut Vec<String>) {
    limits_problems(what, spec.default, spec.limits(), problems);
    match spec.min_duration_min {
        Some(0) | None => problems.push(format!(
            "{what} needs min_duration_min of at least 1 minute"
        )),
        Some(_) => {}
    }
}

fn entry_problems(entry: &Entry) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_identifier(&entry.id) {
        problems.push("the id must be lower-case letters, digits and '-'".to_owned());
    }
    if entry.generic_name.trim().is_empty() {
        problems.push("generic_name must not be empty".to_owned());
    }
    if !entry
        .display_name
        .to_lowercase()
        .contains(&entry.generic_name.to_lowercase())
    {
        problems.push(format!(
            "display_name \"{}\" must contain the generic name \"{}\" (tall-man capitals allowed)",
            entry.display_name, entry.generic_name
        ));
    }
    limits_problems(
        "dose",
        entry.dose.default,
        entry.dose.limits(),
        &mut problems,
    );
    if let Err(error) = rules::VOLUME_TO_BE_INFUSED.check(entry.max_vtbi_ml) {
        problems.push(format!("max_vtbi_ml: {error}"));
    }
    let mut family = None;
    for concentration in &entry.concentrations {
        if concentration.amount <= Decimal::ZERO {
            problems.push("a concentration amount must be above zero".to_owned());
        }
        if let Err(error) = rules::CONCENTRATION_VOLUME.check(concentration.volume_ml) {
            problems.push(format!("concentration volume_ml: {error}"));
        }
        match family {
            None => family = Some(concentration.unit.family()),
            Some(first) if first != concentration.unit.family() => {
                problems.push("all concentrations must be in units of one kind".to_owned());
            }
            Some(_) => {}
        }
    }
    if let Some(custom) = &entry.custom_concentration {
        if custom.min_per_ml <= Decimal::ZERO || custom.min_per_ml > custom.max_per_ml {
            problems.push("custom_concentration needs 0 < min_per_ml <= max_per_ml".to_owned());
        }
        match family {
            None => family = Some(custom.unit.family()),
            Some(first) if first != custom.unit.family() => {
                problems.push(
                    "custom_concentration must be in the same kind of unit as the concentrations"
                        .to_owned(),
                );
            }
            Some(_) => {}
        }
    }
    match entry.dose.unit {
        DosingUnit::Flow => {
            if family.is_some() {
                problems.push("an entry dosed in mL/h has no concentration".to_owned());
            }
            if let Err(error) = rules::RATE.check(entry.dose.hard_max) {
                problems.push(format!("dose hard_max: {error}"));
            }
        }
        DosingUnit::Rate(unit) => {
            if family.is_none() {
                problems.push("a drug dosed by rate needs at least one concentration or a custom_concentration".to_owned());
            }
            family_problem("the dose", unit.amount, family, &mut problems);
            if entry.dose.min_duration_min.is_some() {
                problems.push("min_duration_min applies to doses given over a time, not to a continuous dose rate".to_owned());
            }
        }
        DosingUnit::Amount(unit) => {
            if family.is_none() {
                problems.push("a drug dosed by amount needs at least one concentration or a custom_concentration".to_owned());
            }
            family_problem("the dose", unit.amount, family, &mut problems);
            amount_spec_problems("dose", &entry.dose, &mut problems);
        }
    }
    for (what, spec) in [("bolus", &entry.bolus), ("loading", &entry.loading)] {
        if let Some(spec) = spec {
            if !matches!(entry.dose.unit, DosingUnit::Rate(_)) {
                problems.push(format!(
                    "{what} doses are only for drugs with a continuous dose rate"
                ));
            }
            family_problem(what, spec.unit.0.amount, family, &mut problems);
            amount_spec_problems(what, spec, &mut problems);
        }
    }
    if let Some(pca) = &entry.pca {
        pca_problems(entry, pca, family, &mut problems);
    }
    problems
}

fn pca_problems(
    entry: &Entry,
    pca: &crate::druglib::model::PcaSpec,
    family: Option<AmountFamily>,
    problems: &mut Vec<String>,
) {
    if !matches!(entry.dose.unit, DosingUnit::Rate(_)) {
        problems.push(
            "pca is only for drugs with a continuous dose rate (the dose limits the basal rate)"
                .to_owned(),
        );
    }
    for (what, spec) in [("pca demand", &pca.demand), ("pca limit", &pca.limit)] {
        family_problem(what, spec.unit.0.amount, family, problems);
        limits_problems(what, spec.default, spec.limits(), problems);
    }
    if pca.demand.unit != pca.limit.unit {
        problems.push(format!(
            "pca demand ({}) and limit ({}) must be in the same unit",
            pca.demand.unit.0, pca.limit.unit.0
        ));
    } else if pca.limit.default < pca.demand.default {
        problems.push(format!(
            "pca limit default {} is below the demand default {}: no demand could be given",
            pca.limit.default.normalize(),
            pca.demand.default.normalize()
        ));
    }
    let lockout = &pca.lockout_min;
    let ordered = lockout.hard_min >= 1
        && lockout.soft_min.unwrap_or(lockout.hard_min) >= lockout.hard_min
        && lockout.default >= lockout.soft_min.unwrap_or(lockout.hard_min)
        && lockout.hard_max >= lockout.default
        && lockout.hard_max <= 240;
    if !ordered {
        problems.push(format!(
            "pca lockout_min needs 1 <= hard_min <= soft_min <= default <= hard_max <= 240, not {} <= {} <= {} <= {}",
            lockout.hard_min,
            lockout.soft_min.map_or_else(|| "-".to_owned(), |soft| soft.to_string()),
            lockout.default,
            lockout.hard_max
        ));
    }
    if !matches!(pca.window_h, 1 | 4) {
        problems.push(format!(
            "pca window_h is {}: a PCA limit counts over 1 or 4 hours",
            pca.window_h
        ));
    }
}
