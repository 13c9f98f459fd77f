//! A drug library from the hospital (F3, docs/hospital-link.md): staged
//! beside the event log once it verifies, and activated on the pump, whole,
//! only when no infusion is loaded.
//!
//! Three files sit beside the event log (each with its `.sig`):
//! - `staged-druglib.toml`: verified when it arrived, waiting for a biomed
//!   to activate it; a newer offer replaces it.
//! - `activated-druglib.toml`: the library activated on this pump, used at
//!   every start while the installed library (/etc/perfuse) is the file it
//!   was activated over. Installing a different library there (a new image
//!   or package) makes that one the library again: the site's own choice
//!   wins over an older download.
//! - `activated-druglib.over`: the SHA-256 of the installed file the
//!   library was activated over ("none" if there was none).
//!
//! Every file is written aside and renamed into place; a power cut between
//! two renames leaves a library and a signature that do not match, which
//! the next start refuses (and the installed library is used): a library
//! is never mixed from two.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::startup::{sync_folder, write_atomically};
use super::{verify_library, VerifiedLibrary};
use crate::signing::{read_signed, signature_path, TrustedKeys};

pub const STAGED_FILE: &str = "staged-druglib.toml";
pub const ACTIVATED_FILE: &str = "activated-druglib.toml";
pub const ACTIVATED_OVER_FILE: &str = "activated-druglib.over";

/// Where a pump's libraries are: the installed one, the trusted keys, and
/// the folder of the event log (the staged and activated ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryFiles {
    pub installed: PathBuf,
    pub keys: PathBuf,
    pub folder: PathBuf,
}

impl LibraryFiles {
    /// The files of a pump whose event log is `store`.
    pub fn beside(store: &Path, installed: &Path, keys: &Path) -> LibraryFiles {
        LibraryFiles {
            installed: installed.to_owned(),
            keys: keys.to_owned(),
            folder: store.parent().unwrap_or_else(|| Path::new(".")).to_owned(),
        }
    }

    pub fn staged(&self) -> PathBuf {
        self.folder.join(STAGED_FILE)
    }

    pub fn activated(&self) -> PathBuf {
        self.folder.join(ACTIVATED_FILE)
    }

    fn over(&self) -> PathBuf {
        self.folder.join(ACTIVATED_OVER_FILE)
    }

    fn trusted_keys(&self) -> Result<TrustedKeys, String> {
        let text = std::fs::read_to_string(&self.keys).map_err(|error| {
            format!(
                "the trusted keys {} cannot be read: {error}",
                self.keys.display()
            )
        })?;
        TrustedKeys::from_toml(&text)
            .map_err(|error| format!("the trusted keys {}: {error}", self.keys.display()))
    }
}

/// The SHA-256 of the installed library file, or "none" without one.
fn installed_hash(installed: &Path) -> String {
    match std::fs::read(installed) {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(_) => "none".to_owned(),
    }
}

/// Verifies a library offered by the hospital (its bytes and its `.sig`
/// file) against the trusted keys and `today`, and stages it, replacing any
/// staged before. Nothing in use changes; a refusal leaves the staged one
/// as it was.
pub fn stage(
    files: &LibraryFiles,
    bytes: &[u8],
    signature: &[u8],
    today: time::Date,
) -> Result<VerifiedLibrary, String> {
    let keys = files.trusted_keys()?;
    let signature = std::str::from_utf8(signature)
        .map_err(|_| "the signature file is not text (a .sig file from perfuse-druglib sign)")?;
    let verified =
        verify_library(bytes, Some(signature), &keys, today).map_err(|error| error.to_string())?;
    std::fs::create_dir_all(&files.folder)
        .map_err(|error| format!("cannot create {}: {error}", files.folder.display()))?;
    let staged = files.staged();
    write_atomically(&signature_path(&staged), signature.as_bytes())?;
    write_atomically(&staged, bytes)?;
    sync_folder(&staged);
    Ok(verified)
}

/// The staged library, verified again (None: nothing is staged).
pub fn staged(files: &LibraryFiles, today: time::Date) -> Option<Result<VerifiedLibrary, String>> {
    let path = files.staged();
    if !path.exists() {
        return None;
    }
    Some(read_verified(&path, files, today))
}

fn read_verified(
    path: &Path,
    files: &LibraryFiles,
    today: time::Date,
) -> Result<VerifiedLibrary, String> {
    let keys = files.trusted_keys()?;
    let (bytes, signature) = read_signed(path)?;
    verify_library(&bytes, signature.as_deref(), &keys, today).map_err(|error| error.to_string())
}

/// Makes the staged library the one in use from now on and at every start
/// (while the installed file stays the same), once it verifies again with
/// today's date. The caller has checked that no infusion is loaded. On an
/// error nothing changed: the staged library stays staged.
pub fn activate(files: &LibraryFiles, today: time::Date) -> Result<VerifiedLibrary, String> {
    let staged = files.staged();
    if !staged.exists() {
        return Err("no library is staged: the hospital has not sent one".into());
    }
    let verified = read_verified(&staged, files, today)?;
    let (bytes, signature) = read_signed(&staged)?;
    let signature = signature.ok_or("the staged library lost its signature file")?;
    let activated = files.activated();
    write_atomically(&files.over(), installed_hash(&files.installed).as_bytes())?;
    write_atomically(&signature_path(&activated), signature.as_bytes())?;
    write_atomically(&activated, &bytes)?;
    sync_folder(&activated);
    discard(files);
    Ok(verified)
}

/// Removes the staged library (activated, or replaced by the site).
pub fn discard(files: &LibraryFiles) {
    let staged = files.staged();
    for path in [signature_path(&staged), staged] {
        if let Err(error) = std::fs::remove_file(&path) {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove {}: {error}", path.display());
            }
        }
    }
}

/// The activated library, if one is and it stands at this start: None when
/// none was activated, or the installed file changed since (the activated
/// files are then removed); an error when it was refused.
pub(crate) fn activated_at_start(
    files: &LibraryFiles,
    keys: &TrustedKeys,
) -> Option<Result<VerifiedLibrary, String>> {
    let activated = files.activated();
    if !activated.exists() {
        return None;
    }
    let over = std::fs::read_to_string(files.over()).unwrap_or_default();
    if over.trim() != installed_hash(&files.installed) {
        tracing::info!(
            "a different drug library was installed at {} since one was activated on this pump: the installed one is used",
            files.installed.display()
        );
        for path in [signature_path(&activated), activated, files.over()] {
            let _ = std::fs::remove_file(path);
        }
        return None;
    }
    // Its effective date is not checked again: it was in effect when it
    // was activated, and a clock gone back must not take it away.
    let result = read_signed(&files.activated()).and_then(|(bytes, signature)| {
        verify_library(&bytes, signature.as_deref(), keys, time::Date::MAX)
            .map_err(|error| error.to_string())
    });
    Some(result)
}
