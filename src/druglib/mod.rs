//! The drug library: its file format, validation, signatures, activation and
//! dose-error reduction.
//!
//! A library is versioned, signed and hash-checked (DESIGN.md, F3). A new one
//! replaces the active one only whole, only when it verified, and only while
//! no infusion runs; a rejected library leaves the last good one active.

mod active;
mod check;
pub mod model;
mod signature;
pub mod staging;
pub mod startup;
pub mod tool;
mod validate;

pub use active::{ActivationError, ActiveLibrary};
pub use check::{
    confirm, review, review_bolus, review_secondary, Blocker, Bound, CheckedValue,
    ConcentrationProblem, ConfirmError, ConfirmedProgram, DrugChoice, LimitStatus, Mismatch,
    Override, Parameter, Review,
};
pub use signature::{verify_library, VerifiedLibrary};
pub use validate::{parse_library, Library, LibraryIdentity, Problem};

/// Why a drug library was refused. Each kind has its own message, saying
/// what was wrong and what is expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibraryError {
    #[error("the drug library is not well-formed: {detail}")]
    Malformed { detail: String },
    #[error("the drug library is format {found}; this software reads format {supported}")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("the drug library has {} problem(s):\n{}", .problems.len(), .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
    #[error("the drug library is not signed: there is no signature file beside it; sign it with `perfuse-druglib sign`")]
    Unsigned,
    #[error("the drug library's signature file is not valid: {detail}")]
    MalformedSignature { detail: String },
    #[error("the drug library is signed with key \"{key_id}\", which this pump does not trust (trusted: {})", .trusted.join(", "))]
    UntrustedKey {
        key_id: String,
        trusted: Vec<String>,
    },
    #[error("the drug library does not match its signature by key \"{key_id}\": the file was changed after signing, or signed by another key")]
    SignatureMismatch { key_id: String },
    #[error("the drug library takes effect on {effective}; today is {today}")]
    NotYetEffective {
        effective: time::Date,
        today: time::Date,
    },
}

impl From<crate::signing::SignatureError> for LibraryError {
    fn from(error: crate::signing::SignatureError) -> Self {
        use crate::signing::SignatureError;
        match error {
            SignatureError::Unsigned => LibraryError::Unsigned,
            SignatureError::Malformed { detail } => LibraryError::MalformedSignature { detail },
            SignatureError::UntrustedKey { key_id, trusted } => {
                LibraryError::UntrustedKey { key_id, trusted }
            }
            SignatureError::Mismatch { key_id } => LibraryError::SignatureMismatch { key_id },
        }
    }
}
