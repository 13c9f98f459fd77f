//! The hospital side of the link tests: a test CA with the gateway's and
//! the pump's certificates, the hl7apy gateway (tests/gateway/
//! hl7apy_gateway.py) on loopback, what it logged, and the link's settings.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};

use crate::bins::root;

/// PEM files in `dir`: ca.pem, gateway.pem/.key, pump.pem/.key; and a
/// second, untrusted CA's pump identity: stranger.pem/.key.
pub fn certificates(dir: &Path) -> Result<(), String> {
    let fail = |error: rcgen::Error| error.to_string();
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|error| format!("{name}: {error}"))
    };
    let authority = |name: &str| -> Result<(rcgen::Certificate, KeyPair), String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().map_err(fail)?;
        Ok((params.self_signed(&key).map_err(fail)?, key))
    };
    let leaf = |names: Vec<String>,
                usage: ExtendedKeyUsagePurpose,
                ca: &(rcgen::Certificate, KeyPair)|
     -> Result<(String, String), String> {
        let mut params = CertificateParams::new(names).map_err(fail)?;
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().map_err(fail)?;
        let certificate = params.signed_by(&key, &ca.0, &ca.1).map_err(fail)?;
        Ok((certificate.pem(), key.serialize_pem()))
    };
    let ca = authority("Perfuse test hospital CA")?;
    write("ca.pem", ca.0.pem())?;
    let (pem, key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        &ca,
    )?;
    write("gateway.pem", pem)?;
    write("gateway.key", key)?;
    let (pem, key) = leaf(
        vec!["PERFUSE-0001".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca,
    )?;
    write("pump.pem", pem)?;
    write("pump.key", key)?;
    let stranger = authority("Not the hospital")?;
    let (pem, key) = leaf(
        vec!["PERFUSE-0001".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
        &stranger,
    )?;
    write("stranger.pem", pem)?;
    write("stranger.key", key)?;
    Ok(())
}

/// The link's settings for the gateway at `port`, with the pump's identity
/// `identity` (`pump` or `stranger`).
pub fn link_settings(dir: &Path, port: u16, identity: &str) -> PathBuf {
    let path = dir.join(format!("link-{identity}.toml"));
    let text = format!(
        "[pump]\nid = \"PERFUSE-0001\"\nfacility = \"HOSP\"\n\n[gateway]\naddress = \"127.0.0.1:{port}\"\nserver-name = \"localhost\"\nca = \"ca.pem\"\ncertificate = \"{identity}.pem\"\nkey = \"{identity}.key\"\n\n[timing]\nstatus-every-s = 2\nfirst-retry-ms = 100\nmax-retry-s = 1\n"
    );
    std::fs::write(&path, text).unwrap_or_default();
    path
}

/// The Python that has hl7apy (PERFUSE_PYTHON, or python3).
pub fn python() -> String {
    std::env::var("PERFUSE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The hl7apy gateway, stopped when dropped.
pub struct Gateway {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub inbox: PathBuf,
}

impl Gateway {
    /// Starts the gateway with the certificates in `dir`.
    pub fn start(dir: &Path) -> Result<Gateway, String> {
        let log = dir.join("gateway.jsonl");
        let inbox = dir.join("inbox");
        let mut child = Command::new(python())
            .arg(root().join("tests/gateway/hl7apy_gateway.py"))
            .arg("--cert")
            .arg(dir.join("gateway.pem"))
            .arg("--key")
            .arg(dir.join("gateway.key"))
            .arg("--ca")
            .arg(dir.join("ca.pem"))
            .arg("--log")
            .arg(&log)
            .arg("--inbox")
            .arg(&inbox)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                format!("cannot start the hl7apy gateway with {}: {error}", python())
            })?;
        let stdout = child.stdout.take().ok_or("no gateway output")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|error| error.to_string())?;
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| {
                format!(
                    "the gateway did not start (is hl7apy installed? pip install hl7apy): {line:?}"
                )
            })?;
        Ok(Gateway {
            child,
            port,
            log,
            inbox,
        })
    }

    /// Everything logged so far.
    pub fn entries(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Waits up to `limit` for a logged entry that `wanted` accepts.
    pub fn wait_for(
        &self,
        limit: Duration,
        what: &str,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let started = Instant::now();
        loop {
            if let Some(entry) = self.entries().into_iter().find(|entry| wanted(entry)) {
                return entry;
            }
            assert!(
                started.elapsed() < limit,
                "the gateway never logged {what}; it logged:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Puts `order` (the gateway's JSON order form) in the inbox: the
    /// gateway builds it as an RGV^O15 with hl7apy and sends it.
    pub fn send_order(&self, name: &str, order: &serde_json::Value) {
        let _ = std::fs::create_dir_all(&self.inbox);
        let temporary = self.inbox.join(format!("{name}.tmp"));
        std::fs::write(&temporary, order.to_string()).unwrap_or_default();
        let _ = std::fs::rename(&temporary, self.inbox.join(format!("{name}.json")));
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A perfuse-link process of a test's, killed however the test ends (a
/// failed assertion included: a link left running would hold its
/// gateway's port and its socket into the next test).
pub struct LinkProcess(Child);

impl std::ops::Deref for LinkProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for LinkProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for LinkProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The link process with the settings `config`, serving the app at `socket`.
pub fn start_link(config: &Path, socket: &Path, log: &Path) -> Result<LinkProcess, String> {
    let output = std::fs::File::create(log).map_err(|error| error.to_string())?;
    let child = Command::new(crate::bins::binary("perfuse-link"))
        .arg("--config")
        .arg(config)
        .arg("--socket")
        .arg(socket)
        .stdout(output.try_clone().map_err(|error| error.to_string())?)
        .stderr(output)
        .spawn()
        .map(LinkProcess)
        .map_err(|error| format!("cannot start perfuse-link: {error}"))?;
    let started = Instant::now();
    while !socket.exists() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "perfuse-link did not open {}:\n{}",
                socket.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(child)
}
