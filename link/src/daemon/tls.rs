//! The TLS client of the link: the hospital's CA is the only trust anchor,
//! and the pump proves itself with its own certificate (mutual TLS). A
//! missing or unreadable file is an error that names it.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::config::Gateway;

/// The client configuration for `gateway`.
pub fn client_config(gateway: &Gateway) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(&gateway.ca, "the hospital's CA")? {
        roots
            .add(certificate)
            .map_err(|error| format!("{}: not a CA certificate: {error}", gateway.ca.display()))?;
    }
    let chain = certificates(&gateway.certificate, "the pump's certificate")?;
    let key = PrivateKeyDer::from_pem_file(&gateway.key).map_err(|error| {
        format!(
            "{}: the pump's private key cannot be read (a PEM PKCS#8, PKCS#1 or SEC1 key is expected): {error}",
            gateway.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS versions: {error}"))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|error| {
            format!(
                "{} and {} do not make a client identity: {error}",
                gateway.certificate.display(),
                gateway.key.display()
            )
        })?;
    Ok(Arc::new(config))
}

fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|error| format!("{}: {what} cannot be read: {error}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|error| format!("{}: {what} is not PEM: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: {what} holds no certificate", path.display()));
    }
    Ok(certificates)
}
