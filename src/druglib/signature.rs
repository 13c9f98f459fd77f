//! Signatures of drug libraries: trusted keys, detached signature files,
//! signing and strict verification.
//!
//! A library is signed with Ed25519 over its exact bytes; the signature sits
//! in a detached file beside it (`<library>.sig`). The signature is checked
//! before the library is even parsed, so an untrusted file is never
//! interpreted. Verification is `verify_strict`, which refuses the weak and
//! malleable signatures plain `verify` lets through.

use std::fmt;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::validate::{parse_library, Library};
use super::LibraryError;

/// A public key the pump trusts to sign drug libraries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub id: String,
    pub key: VerifyingKey,
    /// A key whose private half is public (in this repository): fine for
    /// development and usability studies, never for patients.
    pub development_only: bool,
}

/// The trusted-keys configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(rename = "key", default)]
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: String,
    /// The 32-byte Ed25519 public key in hex.
    public_key: String,
    #[serde(default)]
    development_only: bool,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
}

/// Errors in the trusted-keys configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyConfigError {
    #[error("the trusted-keys file is not valid: {0}")]
    Malformed(String),
    #[error(
        "trusted key \"{id}\": public_key must be 64 hex digits (a 32-byte Ed25519 key): {detail}"
    )]
    BadPublicKey { id: String, detail: String },
    #[error("trusted key \"{0}\" is listed more than once")]
    DuplicateId(String),
    #[error("the trusted-keys file lists no [[key]]: no library could ever be accepted")]
    Empty,
}

impl TrustedKeys {
    /// Parses the trusted-keys configuration (TOML, `[[key]]` tables).
    pub fn from_toml(text: &str) -> Result<Self, KeyConfigError> {
        let file: KeysFile =
            toml::from_str(text).map_err(|error| KeyConfigError::Malformed(error.to_string()))?;
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(file.keys.len());
        for entry in file.keys {
            if keys.iter().any(|key| key.id == entry.id) {
                return Err(KeyConfigError::DuplicateId(entry.id));
            }
            let bad = |detail: String| KeyConfigError::BadPublicKey {
                id: entry.id.clone(),
                detail,
            };
            let mut bytes = [0_u8; 32];
            hex::decode_to_slice(entry.public_key.trim(), &mut bytes)
                .map_err(|error| bad(error.to_string()))?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|error| bad(error.to_string()))?;
            keys.push(TrustedKey {
                id: entry.id,
                key,
                development_only: entry.development_only,
            });
        }
        if keys.is_empty() {
            return Err(KeyConfigError::Empty);
        }
        Ok(Self { keys })
    }

    /// The trusted key with this id.
    pub fn find(&self, id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// Ids of every trusted key, for messages.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|key| key.id.clone()).collect()
    }
}

/// The detached signature file: which key signed, and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub key_id: String,
    pub algorithm: String,
    /// The 64-byte Ed25519 signature in hex.
    pub signature: String,
}

const ALGORITHM: &str = "ed25519";

impl SignatureFile {
    /// Parses a signature file, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<(Self, Signature), LibraryError> {
        let malformed = |detail: String| LibraryError::MalformedSignature { detail };
        let file: SignatureFile =
            toml::from_str(text).map_err(|error| malformed(error.to_string()))?;
        if file.algorithm != ALGORITHM {
            return Err(malformed(format!(
                "algorithm \"{}\" is not supported; only \"{ALGORITHM}\"",
                file.algorithm
            )));
        }
        let mut bytes = [0_u8; 64];
        hex::decode_to_slice(file.signature.trim(), &mut bytes)
            .map_err(|error| malformed(format!("signature must be 128 hex digits: {error}")))?;
        let signature = Signature::from_bytes(&bytes);
        Ok((file, signature))
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        format!(
            "# Detached Ed25519 signature over the exact bytes of the drug library file.\nkey_id = \"{}\"\nalgorithm = \"{}\"\nsignature = \"{}\"\n",
            self.key_id, self.algorithm, self.signature
        )
    }
}

/// Signs library bytes; returns the signature file's text.
pub fn sign(bytes: &[u8], key: &SigningKey, key_id: &str) -> String {
    let signature = key.sign(bytes);
    SignatureFile {
        key_id: key_id.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        signature: hex::encode(signature.to_bytes()),
    }
    .to_toml()
}

/// Reads a PKCS#8 PEM private key (as `openssl genpkey -algorithm ed25519` writes).
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, String> {
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|error| format!("not an Ed25519 PKCS#8 PEM private key: {error}"))
}

/// Makes a new random signing key; returns it as PKCS#8 PEM and its public key in hex.
pub fn generate_signing_key() -> Result<(String, String), String> {
    let mut seed = [0_u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|error| format!("no randomness from the operating system: {error}"))?;
    let key = SigningKey::from_bytes(&seed);
    // PKCS#8 v1 (no embedded public key): the form OpenSSL 3 reads and writes.
    let pem = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: seed,
        public_key: None,
    }
    .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
    .map_err(|error| format!("cannot encode the key: {error}"))?;
    Ok((pem.to_string(), hex::encode(key.verifying_key().to_bytes())))
}

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
    let signature = signature.ok_or(LibraryError::Unsigned)?;
    let (file, signature) = SignatureFile::parse(signature)?;
    let trusted = keys
        .find(&file.key_id)
        .ok_or_else(|| LibraryError::UntrustedKey {
            key_id: file.key_id.clone(),
            trusted: keys.ids(),
        })?;
    trusted
        .key
        .verify_strict(bytes, &signature)
        .map_err(|_| LibraryError::SignatureMismatch {
            key_id: file.key_id.clone(),
        })?;
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
