//! Signed artifacts: trusted keys, detached signature files, signing and
//! strict verification. Drug libraries and mechanism profiles both use it.
//!
//! An artifact is signed with Ed25519 over its exact bytes; the signature sits
//! in a detached file beside it (`<file>.sig`) naming the key that signed.
//! Callers check the signature before they even parse the artifact, so an
//! untrusted file is never interpreted. Verification is `verify_strict`,
//! which refuses the weak and malleable signatures plain `verify` accepts.

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Why a detached signature did not vouch for an artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("there is no signature file beside it")]
    Unsigned,
    #[error("its signature file is not valid: {detail}")]
    Malformed { detail: String },
    #[error("it is signed with key \"{key_id}\", which this pump does not trust (trusted: {})", .trusted.join(", "))]
    UntrustedKey {
        key_id: String,
        trusted: Vec<String>,
    },
    #[error("it does not match its signature by key \"{key_id}\": the file was changed after signing, or signed by another key")]
    Mismatch { key_id: String },
}

/// A public key the pump trusts to sign artifacts (drug libraries, mechanism profiles).
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
    pub fn parse(text: &str) -> Result<(Self, Signature), SignatureError> {
        let malformed = |detail: String| SignatureError::Malformed { detail };
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
            "# Detached Ed25519 signature over the exact bytes of the file it sits beside.\nkey_id = \"{}\"\nalgorithm = \"{}\"\nsignature = \"{}\"\n",
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

/// Checks `signature` (the text of the detached signature file, or `None`
/// when there is none) over `bytes`; returns the trusted key that signed.
pub fn verify_detached<'keys>(
    bytes: &[u8],
    signature: Option<&str>,
    keys: &'keys TrustedKeys,
) -> Result<&'keys TrustedKey, SignatureError> {
    let signature = signature.ok_or(SignatureError::Unsigned)?;
    let (file, signature) = SignatureFile::parse(signature)?;
    let trusted = keys
        .find(&file.key_id)
        .ok_or_else(|| SignatureError::UntrustedKey {
            key_id: file.key_id.clone(),
            trusted: keys.ids(),
        })?;
    trusted
        .key
        .verify_strict(bytes, &signature)
        .map_err(|_| SignatureError::Mismatch {
            key_id: file.key_id.clone(),
        })?;
    Ok(trusted)
}

/// The path of a file's detached signature: `<file>.sig`.
pub fn signature_path(file: &std::path::Path) -> std::path::PathBuf {
    let mut path = file.as_os_str().to_owned();
    path.push(".sig");
    std::path::PathBuf::from(path)
}

/// Reads a file and its detached signature (`None` if there is no `.sig`).
pub fn read_signed(path: &std::path::Path) -> Result<(Vec<u8>, Option<String>), String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let signature_file = signature_path(path);
    let signature = match std::fs::read_to_string(&signature_file) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(format!("cannot read {}: {error}", signature_file.display())),
    };
    Ok((bytes, signature))
}

/// Signs the file at `path` with the PEM key at `key_path`, writing
/// `<path>.sig`, but only if `describe` accepts its content (an invalid
/// artifact is never signed). Returns what was signed, for the user.
pub fn sign_file(
    path: &std::path::Path,
    key_path: &std::path::Path,
    key_id: &str,
    describe: impl Fn(&[u8]) -> Result<String, String>,
) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let what = describe(&bytes)
        .map_err(|error| format!("{}: refusing to sign: {error}", path.display()))?;
    let pem = std::fs::read_to_string(key_path)
        .map_err(|error| format!("cannot read {}: {error}", key_path.display()))?;
    let key =
        signing_key_from_pem(&pem).map_err(|error| format!("{}: {error}", key_path.display()))?;
    let out = signature_path(path);
    std::fs::write(&out, sign(&bytes, &key, key_id))
        .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
    Ok(format!(
        "signed {what} with key \"{key_id}\"\nwrote {}\n",
        out.display()
    ))
}
