//! The drug library the pump starts with: the installed one if it
//! verifies, else the last good one kept on the device, else none (basic
//! infusions only). Whichever it is, the boot log and the history say which
//! and why (DESIGN.md, F3: a refused library never leaves the pump without
//! the one that worked).
//!
//! The last good library is a byte-for-byte copy of the installed file and
//! its signature, kept beside the event log whenever the installed one
//! verifies. It is verified again at every start (signature and content);
//! only its effective date is not checked again: it was in effect when it
//! was kept, and a clock that went back (no real-time clock, a power cut)
//! must not take it away.

use std::path::{Path, PathBuf};

use super::{verify_library, LibraryError, VerifiedLibrary};
use crate::signing::{read_signed, signature_path, TrustedKeys};

/// The last good library's file name, beside the event log.
pub const LAST_GOOD_FILE: &str = "last-good-druglib.toml";

/// Why a library could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// The trusted keys could not be read, so nothing can be verified.
    Keys { detail: String },
    /// The file or its signature could not be read.
    Unreadable { path: String, detail: String },
    /// It was read and refused.
    Refused(LibraryError),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Keys { detail } => write!(f, "the trusted keys cannot be read: {detail}"),
            Unusable::Unreadable { detail, .. } => f.write_str(detail),
            Unusable::Refused(error) => write!(f, "{error}"),
        }
    }
}

/// The library in use after the start, and why.
#[derive(Debug, Clone)]
pub enum Startup {
    /// The installed library verified.
    Installed(VerifiedLibrary),
    /// A library from the hospital, activated on this pump over the
    /// installed one (`staging`), verified again.
    Activated(VerifiedLibrary),
    /// The installed library was refused; the last good one is in use.
    LastGood {
        library: VerifiedLibrary,
        installed: Unusable,
    },
    /// No library: basic infusions only. `last_good` is why the kept copy
    /// could not stand in (None: none was ever kept).
    None {
        installed: Unusable,
        last_good: Option<Unusable>,
    },
}

impl Startup {
    /// The library in use, if any.
    pub fn library(&self) -> Option<&VerifiedLibrary> {
        match self {
            Startup::Installed(library)
            | Startup::Activated(library)
            | Startup::LastGood { library, .. } => Some(library),
            Startup::None { .. } => None,
        }
    }

    /// One line for the boot log.
    pub fn describe(&self) -> String {
        match self {
            Startup::Installed(library) => format!("drug library: {library}"),
            Startup::Activated(library) => format!(
                "drug library: {library}, from the hospital, activated on this pump"
            ),
            Startup::LastGood { library, installed } => format!(
                "drug library refused: {installed}; using the last good library kept on this pump: {library}"
            ),
            Startup::None {
                installed,
                last_good: None,
            } => format!(
                "drug library refused: {installed}; no good library was ever kept on this pump, so only basic infusions can be programmed"
            ),
            Startup::None {
                installed,
                last_good: Some(kept),
            } => format!(
                "drug library refused: {installed}; the last good library cannot be used either ({kept}), so only basic infusions can be programmed"
            ),
        }
    }
}

/// Where the last good library is kept when the event log is at `store`.
pub fn last_good_path(store: &Path) -> PathBuf {
    store
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(LAST_GOOD_FILE)
}

/// Reads and verifies the library at `path` (its signature beside it).
fn read_and_verify(
    path: &Path,
    keys: &TrustedKeys,
    today: time::Date,
) -> Result<VerifiedLibrary, Unusable> {
    let (bytes, signature) = read_signed(path).map_err(|detail| Unusable::Unreadable {
        path: path.display().to_string(),
        detail,
    })?;
    verify_library(&bytes, signature.as_deref(), keys, today).map_err(Unusable::Refused)
}

/// Copies the verified library at `installed` (and its signature) to
/// `kept`, unless the same bytes are kept already. Each file is written
/// aside, flushed to disk and renamed into place, so a power cut leaves the
/// old copy or the new one; a cut between the two renames leaves a pair
/// that does not verify, which the next start reports and refuses.
fn keep(installed: &Path, kept: &Path) -> Result<(), String> {
    let bytes = std::fs::read(installed).map_err(|error| error.to_string())?;
    if std::fs::read(kept).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let signature = std::fs::read(signature_path(installed)).map_err(|error| error.to_string())?;
    if let Some(folder) = kept.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    }
    write_atomically(&signature_path(kept), &signature)?;
    write_atomically(kept, &bytes)?;
    sync_folder(kept);
    Ok(())
}

/// Writes `content` to `to` aside (`<to>.new`), flushes it to disk and
/// renames it into place: a power cut leaves the old file or the new one.
pub(crate) fn write_atomically(to: &Path, content: &[u8]) -> Result<(), String> {
    let mut aside = to.as_os_str().to_owned();
    aside.push(".new");
    let aside = PathBuf::from(aside);
    let fail = |error: std::io::Error| format!("cannot write {}: {error}", aside.display());
    let file = std::fs::File::create(&aside).map_err(fail)?;
    std::io::Write::write_all(&mut &file, content).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&aside, to).map_err(|error| {
        format!(
            "cannot rename {} to {}: {error}",
            aside.display(),
            to.display()
        )
    })
}

/// Flushes the renames in the folder of `file` to disk.
pub(crate) fn sync_folder(file: &Path) {
    if let Some(folder) = file.parent() {
        if let Ok(folder) = std::fs::File::open(folder) {
            let _ = folder.sync_all();
        }
    }
}

/// The library to start with: one the hospital sent and a biomed activated
/// on this pump, while `installed` is the file it was activated over
/// (`staging`, beside `kept`); else the `installed` one checked against
/// `keys` and `today`, else the last good one kept at `kept`, else none. A library
/// that verifies becomes the last good one; failing to keep it is logged,
/// and changes nothing about this start.
pub fn start_library(installed: &Path, keys: &Path, kept: &Path, today: time::Date) -> Startup {
    let keys_path = keys;
    let keys = match std::fs::read_to_string(keys)
        .map_err(|error| format!("{}: {error}", keys.display()))
        .and_then(|text| TrustedKeys::from_toml(&text).map_err(|error| error.to_string()))
    {
        Ok(keys) => keys,
        Err(detail) => {
            return Startup::None {
                installed: Unusable::Keys { detail },
                last_good: None,
            }
        }
    };
    let files = super::staging::LibraryFiles {
        installed: installed.to_owned(),
        keys: keys_path.to_owned(),
        folder: kept.parent().unwrap_or_else(|| Path::new(".")).to_owned(),
    };
    match super::staging::activated_at_start(&files, &keys) {
        Some(Ok(library)) => return Startup::Activated(library),
        Some(Err(why)) => tracing::error!(
            "the drug library activated on this pump was refused ({why}); the installed one is checked instead"
        ),
        None => {}
    }
    let refused = match read_and_verify(installed, &keys, today) {
        Ok(library) => {
            if let Err(error) = keep(installed, kept) {
                tracing::warn!(
                    "the drug library could not be kept as the last good one ({error}); the pump uses it now"
                );
            }
            return Startup::Installed(library);
        }
        Err(refused) => refused,
    };
    if !kept.exists() {
        return Startup::None {
            installed: refused,
            last_good: None,
        };
    }
    match read_and_verify(kept, &keys, time::Date::MAX) {
        Ok(library) => Startup::LastGood {
            library,
            installed: refused,
        },
        Err(kept) => Startup::None {
            installed: refused,
            last_good: Some(kept),
        },
    }
}

/// The care area of the library the touchscreen programs with when no drug
/// library is in use.
pub const BASIC_ONLY_CARE_AREA: &str = "basic-only";

/// What the touchscreen programs with when no drug library is in use: one
/// care area and no drugs, so basic infusions (mL/h) within the platform's
/// limits only, through the same steps as always. It is never verified,
/// kept or shown as a library.
pub fn basic_only() -> super::Library {
    use super::model::{CareArea, Header, LibraryFile, FORMAT_VERSION};
    let epoch = toml::value::Datetime {
        date: Some(toml::value::Date {
            year: 1970,
            month: 1,
            day: 1,
        }),
        time: None,
        offset: None,
    };
    super::Library {
        file: LibraryFile {
            library: Header {
                name: String::new(),
                version: String::new(),
                effective: epoch,
                format: FORMAT_VERSION,
            },
            care_areas: vec![CareArea {
                id: BASIC_ONLY_CARE_AREA.to_owned(),
                name: String::new(),
                basic_max_rate_ml_h: None,
                // No library, no KVO rate: every program stops at its end.
                kvo_rate_ml_h: None,
                entries: Vec::new(),
            }],
        },
        identity: super::LibraryIdentity {
            name: String::new(),
            version: String::new(),
            effective: time::Date::MIN,
            sha256: [0; 32],
        },
    }
}
