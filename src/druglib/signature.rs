//! A verified drug library: signature (crate::signing) first, then content,
//! then the effective date.

use std::fmt;

use crate::signing::{verify_detached, TrustedKeys};

use super::validate::{parse_library, Library};
use super::LibraryError;

/// A library whose signature was checked against a trusted key and whose
/// effective date has come.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedLibrary {
    pub library: Library,
    pub signed_by: String,
    pub development_key: bool,
}

impl fmt::Display for VerifiedLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, signed by {}", self.library.identity, self.signed_by)?;
        if self.development_key {
            write!(f, " (DEVELOPMENT KEY: not for clinical use)")?;
        }
        Ok(())
    }
}

/// Checks the signature, then parses and validates, then checks the date.
///
/// `signature` is the text of the detached signature file, or `None` when
/// there is none.
pub fn verify_library(
    bytes: &[u8],
    signature: Option<&str>,
    keys: &TrustedKeys,
    today: time::Date,
) -> Result<VerifiedLibrary, LibraryError> {
    let trusted = verify_detached(bytes, signature, keys)?;
    let library = parse_library(bytes)?;
    if library.identity.effective > today {
        return Err(LibraryError::NotYetEffective {
            effective: library.identity.effective,
            today,
        });
    }
    Ok(VerifiedLibrary {
        library,
        signed_by: trusted.id.clone(),
        development_key: trusted.development_only,
    })
}
