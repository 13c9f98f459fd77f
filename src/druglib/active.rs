//! The active drug library and how a new one replaces it.
//!
//! Activation is all or nothing: the candidate is verified in full first, and
//! only then swapped in. A refused candidate leaves the last good library
//! active, untouched. A running infusion keeps the library it was checked
//! against: activation waits until nothing runs.

use super::signature::{verify_library, VerifiedLibrary};
use super::LibraryError;
use crate::signing::TrustedKeys;

/// Why a candidate library did not become active.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError {
    #[error("a new drug library can only be activated when no infusion is running")]
    InfusionRunning,
    #[error(transparent)]
    Refused(#[from] LibraryError),
}

/// Holds the active library, if any library has ever verified.
#[derive(Debug, Clone, Default)]
pub struct ActiveLibrary {
    active: Option<VerifiedLibrary>,
}

impl ActiveLibrary {
    /// No library yet: only basic infusions can be programmed.
    pub const fn none() -> Self {
        Self { active: None }
    }

    pub fn get(&self) -> Option<&VerifiedLibrary> {
        self.active.as_ref()
    }

    /// Verifies the candidate and, only if it passes, makes it active.
    /// Returns the library that was replaced, if any.
    pub fn activate(
        &mut self,
        bytes: &[u8],
        signature: Option<&str>,
        keys: &TrustedKeys,
        today: time::Date,
        infusion_running: bool,
    ) -> Result<Option<VerifiedLibrary>, ActivationError> {
        if infusion_running {
            return Err(ActivationError::InfusionRunning);
        }
        let verified = verify_library(bytes, signature, keys, today)?;
        Ok(self.active.replace(verified))
    }
}
