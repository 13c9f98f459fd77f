//! The link's settings (`/etc/perfuse/link.toml` on a pump): which gateway
//! to dial, the certificates of the mutually authenticated TLS connection,
//! and this pump's identity in messages. Without a `[gateway]` table the
//! link does not run at all.
//!
//! Every value is checked when the file is read, and the error names the
//! key, what it held and what is allowed; a file with an unknown key is
//! refused (a misspelt setting must not fall back to a default silently).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The longest pump identifier (it travels in MSH-3 and OBX-18).
pub const MAX_PUMP_ID: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// `host:port`, dialled out; never a listening address.
    pub address: String,
    /// The name the gateway's certificate must carry.
    pub server_name: String,
    pub ca: PathBuf,
    pub certificate: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub pump_id: String,
    /// The facility named in MSH-4 and expected in orders.
    pub facility: String,
    pub gateway: Option<Gateway>,
    pub status_every: Duration,
    pub first_retry: Duration,
    pub max_retry: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error("{path}: {why}")]
    Syntax { path: String, why: String },
    #[error("{path}: {key} is {found:?}; {allowed}")]
    Value {
        path: String,
        key: &'static str,
        found: String,
        allowed: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    pump: PumpTable,
    gateway: Option<GatewayTable>,
    #[serde(default)]
    timing: TimingTable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PumpTable {
    id: String,
    facility: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct GatewayTable {
    address: String,
    server_name: String,
    ca: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TimingTable {
    #[serde(default = "default_status_every")]
    status_every_s: u64,
    #[serde(default = "default_first_retry")]
    first_retry_ms: u64,
    #[serde(default = "default_max_retry")]
    max_retry_s: u64,
}

impl Default for TimingTable {
    fn default() -> Self {
        TimingTable {
            status_every_s: default_status_every(),
            first_retry_ms: default_first_retry(),
            max_retry_s: default_max_retry(),
        }
    }
}

/// Seconds between periodic status messages while nothing changes.
fn default_status_every() -> u64 {
    10
}
/// Milliseconds before the first reconnection attempt.
fn default_first_retry() -> u64 {
    500
}
/// The longest wait between reconnection attempts, seconds.
fn default_max_retry() -> u64 {
    60
}

impl Settings {
    /// Reads and checks the file at `path`; relative certificate paths are
    /// taken from the file's own directory.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            why: error.to_string(),
        })?;
        Settings::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        let shown = path.display().to_string();
        let file: File = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            path: shown.clone(),
            why: error.message().to_owned(),
        })?;
        let value = |key: &'static str, found: String, allowed: &'static str| ConfigError::Value {
            path: shown.clone(),
            key,
            found,
            allowed,
        };
        let identifier = |text: &str| {
            !text.is_empty()
                && text.len() <= MAX_PUMP_ID
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        };
        if !identifier(&file.pump.id) {
            return Err(value(
                "pump.id",
                file.pump.id,
                "1 to 40 letters, digits, '-', '_' or '.'",
            ));
        }
        if !identifier(&file.pump.facility) {
            return Err(value(
                "pump.facility",
                file.pump.facility,
                "1 to 40 letters, digits, '-', '_' or '.'",
            ));
        }
        let timing = file.timing;
        if !(1..=300).contains(&timing.status_every_s) {
            return Err(value(
                "timing.status-every-s",
                timing.status_every_s.to_string(),
                "1 to 300 seconds",
            ));
        }
        if !(50..=10_000).contains(&timing.first_retry_ms) {
            return Err(value(
                "timing.first-retry-ms",
                timing.first_retry_ms.to_string(),
                "50 to 10000 milliseconds",
            ));
        }
        if !(1..=3600).contains(&timing.max_retry_s)
            || timing.max_retry_s.saturating_mul(1000) < timing.first_retry_ms
        {
            return Err(value(
                "timing.max-retry-s",
                timing.max_retry_s.to_string(),
                "1 to 3600 seconds, and not below timing.first-retry-ms",
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let gateway = match file.gateway {
            None => None,
            Some(gateway) => {
                if !valid_address(&gateway.address) {
                    return Err(value(
                        "gateway.address",
                        gateway.address,
                        "host:port, with a port from 1 to 65535",
                    ));
                }
                if gateway.server_name.is_empty()
                    || rustls_pki_types::ServerName::try_from(gateway.server_name.as_str()).is_err()
                {
                    return Err(value(
                        "gateway.server-name",
                        gateway.server_name,
                        "the DNS name or IP address in the gateway's certificate",
                    ));
                }
                Some(Gateway {
                    address: gateway.address,
                    server_name: gateway.server_name,
                    ca: base.join(gateway.ca),
                    certificate: base.join(gateway.certificate),
                    key: base.join(gateway.key),
                })
            }
        };
        Ok(Settings {
            pump_id: file.pump.id,
            facility: file.pump.facility,
            gateway,
            status_every: Duration::from_secs(timing.status_every_s),
            first_retry: Duration::from_millis(timing.first_retry_ms),
            max_retry: Duration::from_secs(timing.max_retry_s),
        })
    }
}

fn valid_address(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !host.is_empty()
        && !host.contains(char::is_whitespace)
        && port.parse::<u16>().is_ok_and(|port| port > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pump]
id = "PERFUSE-0001"
facility = "HOSP"

[gateway]
address = "127.0.0.1:2575"
server-name = "localhost"
ca = "ca.pem"
certificate = "pump.pem"
key = "pump.key"
"#;

    #[test]
    fn a_whole_file_reads_with_paths_beside_it_and_default_timing() {
        let settings = Settings::parse(GOOD, Path::new("/etc/perfuse/link.toml")).unwrap();
        let gateway = settings.gateway.unwrap();
        assert_eq!(gateway.ca, Path::new("/etc/perfuse/ca.pem"));
        assert_eq!(gateway.address, "127.0.0.1:2575");
        assert_eq!(settings.status_every, Duration::from_secs(10));
        assert_eq!(settings.max_retry, Duration::from_secs(60));
    }

    #[test]
    fn without_a_gateway_the_link_has_nothing_to_dial() {
        let text = "[pump]\nid = \"P1\"\nfacility = \"HOSP\"\n";
        let settings = Settings::parse(text, Path::new("link.toml")).unwrap();
        assert_eq!(settings.gateway, None);
    }

    #[test]
    fn each_bad_value_names_its_key_and_what_is_allowed() {
        let cases = [
            ("id = \"PERFUSE-0001\"", "id = \"has space\"", "pump.id"),
            ("127.0.0.1:2575", "127.0.0.1", "gateway.address"),
            ("127.0.0.1:2575", "127.0.0.1:0", "gateway.address"),
            (
                "server-name = \"localhost\"",
                "server-name = \"bad name!\"",
                "gateway.server-name",
            ),
        ];
        for (from, to, key) in cases {
            let text = GOOD.replace(from, to);
            match Settings::parse(&text, Path::new("link.toml")) {
                Err(ConfigError::Value { key: named, .. }) => assert_eq!(named, key, "{to}"),
                other => panic!("{to}: {other:?}"),
            }
        }
        let timing = format!("{GOOD}\n[timing]\nstatus-every-s = 0\n");
        assert!(matches!(
            Settings::parse(&timing, Path::new("link.toml")),
            Err(ConfigError::Value {
                key: "timing.status-every-s",
                ..
            })
        ));
        let typo = GOOD.replace("server-name", "servername");
        match Settings::parse(&typo, Path::new("link.toml")) {
            Err(ConfigError::Syntax { why, .. }) => assert!(why.contains("servername"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
