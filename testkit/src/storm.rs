//! The error storm (DESIGN.md F2): a hospital gateway that misbehaves in
//! every way the link must survive, on loopback, with the certificates of
//! `hospital::certificates`. It runs on its own thread, pinned to CPU 0
//! (it stands for the hospital, not for load on the pump), and can be
//! switched between behaving well and each kind of misbehaviour while the
//! link stays connected to it, or tries to.
//!
//! What it does, by `Behaviour`:
//! - `Good`: a gateway as it should be. It acknowledges every message,
//!   and counts the pump's statuses.
//! - `WrongCertificate`: a TLS server certificate from a CA the pump does
//!   not trust.
//! - `NotTls`: it answers the TLS ClientHello with random bytes.
//! - `Silent`: it accepts the TCP connection and never says anything.
//! - `Resets`: it behaves for 0.2 to 3 s, sometimes leaves half a frame,
//!   then resets the connection (RST).
//! - `Garbage`: random bytes, half frames and stray end bytes between its
//!   acknowledgements.
//! - `Malformed`: malformed HL7 messages in well-formed MLLP frames, as fast
//!   as the connection takes them.
//! - `Slowloris`: a frame one byte every half second, and no
//!   acknowledgement.
//! - `StatusFlood`: valid HL7 status queries, as fast as the connection
//!   takes them.
//! - `Unreachable`: no listener at all (connection refused).
//!
//! On every change of behaviour, open connections are reset.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// How the gateway behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    Good,
    WrongCertificate,
    NotTls,
    Silent,
    Resets,
    Garbage,
    Malformed,
    Slowloris,
    StatusFlood,
    Unreachable,
    Stop,
}

impl Behaviour {
    /// The misbehaviours, in the order a storm goes through them: a
    /// malformed flood every other slice (a million messages in ten
    /// minutes), each other kind between two.
    pub const STORM: [Behaviour; 16] = [
        Behaviour::WrongCertificate,
        Behaviour::Malformed,
        Behaviour::NotTls,
        Behaviour::Malformed,
        Behaviour::Resets,
        Behaviour::Malformed,
        Behaviour::Garbage,
        Behaviour::Malformed,
        Behaviour::Silent,
        Behaviour::Malformed,
        Behaviour::Slowloris,
        Behaviour::Malformed,
        Behaviour::StatusFlood,
        Behaviour::Malformed,
        Behaviour::Unreachable,
        Behaviour::Malformed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Good => "good",
            Behaviour::WrongCertificate => "wrong-certificate",
            Behaviour::NotTls => "not-tls",
            Behaviour::Silent => "silent",
            Behaviour::Resets => "resets",
            Behaviour::Garbage => "garbage",
            Behaviour::Malformed => "malformed",
            Behaviour::Slowloris => "slowloris",
            Behaviour::StatusFlood => "status-flood",
            Behaviour::Unreachable => "unreachable",
            Behaviour::Stop => "stop",
        }
    }
}

/// What the gateway did and saw.
#[derive(Debug, Default)]
pub struct Counts {
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// TLS handshakes that completed (with a pump certificate we trust).
    pub handshakes: AtomicU64,
    /// TLS handshakes that failed, as the gateway saw them.
    pub handshakes_failed: AtomicU64,
    /// Connections the gateway reset.
    pub resets: AtomicU64,
    /// Malformed HL7 messages written whole into the connection.
    pub malformed: AtomicU64,
    /// Valid status queries written whole into the connection.
    pub queries: AtomicU64,
    /// Random bytes and half frames written.
    pub garbage_bytes: AtomicU64,
    /// Bytes trickled by the slowloris.
    pub trickled_bytes: AtomicU64,
    /// Messages from the pump read, and of them statuses (ORU^R01).
    pub pump_messages: AtomicU64,
    pub statuses: AtomicU64,
    /// Acknowledgements the gateway sent.
    pub acks: AtomicU64,
}

impl Counts {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Every counter by name.
    pub fn table(&self) -> BTreeMap<&'static str, u64> {
        [
            ("connections", &self.connections),
            ("handshakes", &self.handshakes),
            ("handshakes_failed", &self.handshakes_failed),
            ("resets", &self.resets),
            ("malformed", &self.malformed),
            ("queries", &self.queries),
            ("garbage_bytes", &self.garbage_bytes),
            ("trickled_bytes", &self.trickled_bytes),
            ("pump_messages", &self.pump_messages),
            ("statuses", &self.statuses),
            ("acks", &self.acks),
        ]
        .into_iter()
        .map(|(name, counter)| (name, Counts::get(counter)))
        .collect()
    }
}

/// The storm gateway, stopped when dropped.
pub struct StormGateway {
    pub port: u16,
    pub counts: Arc<Counts>,
    behaviour: watch::Sender<Behaviour>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StormGateway {
    /// Starts it, behaving well, with the certificates in `dir`
    /// (`hospital::certificates`), on CPU `cpu`.
    pub fn start(dir: &Path, cpu: usize) -> Result<StormGateway, String> {
        let good = server_config(dir, false)?;
        let wrong = server_config(dir, true)?;
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|error| format!("cannot listen on loopback: {error}"))?;
        let address = std_listener
            .local_addr()
            .map_err(|error| error.to_string())?;
        std_listener
            .set_nonblocking(true)
            .map_err(|error| error.to_string())?;
        let counts = Arc::new(Counts::default());
        let (sender, receiver) = watch::channel(Behaviour::Good);
        let thread_counts = counts.clone();
        let thread = std::thread::Builder::new()
            .name("storm-gateway".into())
            .spawn(move || {
                let mut set = nix::sched::CpuSet::new();
                if set.set(cpu).is_ok() {
                    let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
                }
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(serve(
                    std_listener,
                    address,
                    Tls { good, wrong },
                    receiver,
                    thread_counts,
                ));
            })
            .map_err(|error| error.to_string())?;
        Ok(StormGateway {
            port: address.port(),
            counts,
            behaviour: sender,
            thread: Some(thread),
        })
    }

    /// Switches to `behaviour` (open connections are reset).
    pub fn set(&self, behaviour: Behaviour) {
        let _ = self.behaviour.send(behaviour);
    }
}

impl Drop for StormGateway {
    fn drop(&mut self) {
        let _ = self.behaviour.send(Behaviour::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Tls {
    good: TlsAcceptor,
    wrong: TlsAcceptor,
}

fn server_config(dir: &Path, wrong: bool) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let read =
        |name: &str| std::fs::read(dir.join(name)).map_err(|error| format!("{name}: {error}"));
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&read("ca.pem")?) {
        roots
            .add(certificate.map_err(|error| error.to_string())?)
            .map_err(|error| error.to_string())?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|error| error.to_string())?;
    let (chain, key) = if wrong {
        // A server certificate for the right name from nobody the pump trusts.
        let key = rcgen::KeyPair::generate().map_err(|error| error.to_string())?;
        let params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|error| error.to_string())?;
        let certificate = params
            .self_signed(&key)
            .map_err(|error| error.to_string())?;
        (
            vec![certificate.der().clone()],
            PrivateKeyDer::try_from(key.serialize_der()).map_err(|error| error.to_string())?,
        )
    } else {
        let chain = CertificateDer::pem_slice_iter(&read("gateway.pem")?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| error.to_string())?;
        let key = PrivateKeyDer::from_pem_slice(&read("gateway.key")?)
            .map_err(|error| error.to_string())?;
        (chain, key)
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|error| error.to_string())?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve(
    std_listener: std::net::TcpListener,
    address: SocketAddr,
    tls: Tls,
    mut behaviour: watch::Receiver<Behaviour>,
    counts: Arc<Counts>,
) {
    let tls = Arc::new(tls);
    let mut listener = TcpListener::from_std(std_listener).ok();
    loop {
        let now = *behaviour.borrow_and_update();
        match now {
            Behaviour::Stop => return,
            Behaviour::Unreachable => {
                listener = None;
                let _ = behaviour.changed().await;
                continue;
            }
            Behaviour::Good
            | Behaviour::WrongCertificate
            | Behaviour::NotTls
            | Behaviour::Silent
            | Behaviour::Resets
            | Behaviour::Garbage
            | Behaviour::Malformed
            | Behaviour::Slowloris
            | Behaviour::StatusFlood => {}
        }
        if listener.is_none() {
            listener = TcpListener::bind(address).await.ok();
            if listener.is_none() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        }
        let Some(bound) = listener.as_ref() else {
            continue;
        };
        tokio::select! {
            accepted = bound.accept() => {
                if let Ok((stream, _)) = accepted {
                    counts.connections.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(
                        stream,
                        now,
                        tls.clone(),
                        behaviour.clone(),
                        counts.clone(),
                    ));
                }
            }
            _ = behaviour.changed() => {}
        }
    }
}

/// A small, fast generator for the storm's randomness (xorshift64*).
struct Random(u64);

impl Random {
    fn new() -> Random {
        let mut seed = [0_u8; 8];
        let _ = getrandom::fill(&mut seed);
        Random(u64::from_le_bytes(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| (self.next() >> 24) as u8).collect()
    }
}

fn frame(message: &str) -> Vec<u8> {
    let mut wire = Vec::with_capacity(message.len() + 3);
    wire.push(0x0b);
    wire.extend_from_slice(message.as_bytes());
    wire.extend_from_slice(&[0x1c, 0x0d]);
    wire
}

fn header(kind: &str, control_id: &str) -> String {
    format!("MSH|^~\\&|GATEWAY|HOSP|PERFUSE|HOSP|20261203120000+0000||{kind}|{control_id}|P|2.6")
}

/// The acknowledgement of one message from the pump, if it is one.
fn ack_of(message: &[u8], counts: &Counts) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(message).ok()?;
    let msh: Vec<&str> = text.split('\r').next()?.split('|').collect();
    let kind = msh.get(8)?;
    let control_id = msh.get(9)?;
    counts.pump_messages.fetch_add(1, Ordering::Relaxed);
    if kind.starts_with("ORU^R01") {
        counts.statuses.fetch_add(1, Ordering::Relaxed);
    }
    if kind.starts_with("ACK") {
        return None;
    }
    let event = kind.split('^').nth(1).unwrap_or("R01");
    counts.acks.fetch_add(1, Ordering::Relaxed);
    Some(frame(&format!(
        "{}\rMSA|CA|{control_id}",
        header(&format!("ACK^{event}^ACK"), &format!("A{control_id}"))
    )))
}

/// Splits complete MLLP frames off `pending`.
fn frames(pending: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    while let Some(end) = pending.windows(2).position(|pair| pair == [0x1c, 0x0d]) {
        let whole: Vec<u8> = pending.drain(..end + 2).collect();
        if let Some(start) = whole.iter().position(|byte| *byte == 0x0b) {
            if let Some(body) = whole.get(start + 1..whole.len().saturating_sub(2)) {
                found.push(body.to_vec());
            }
        }
    }
    // Nothing the pump sends is longer; a peer that seems to is cut short.
    if pending.len() > 1 << 20 {
        pending.clear();
    }
    found
}

/// Malformed messages, each in a good frame: the `n`th of a set of ways to
/// be wrong, most of them short (the per-message work is what a flood of
/// them tests; the long ones test the per-byte work).
fn malformed(n: u64, random: &mut Random) -> Vec<u8> {
    let id = format!("M{n}");
    let text = match n % 16 {
        0 => "this is not HL7 at all".to_owned(),
        1 | 11 | 13 => "MSH".to_owned(),
        2 => format!("MSH|^~\\&|GATEWAY|HOSP||||||{id}"),
        3 => format!("{}\rPID|||", header("RGV^O15^RGV_O15", &id)),
        4 => format!("{}\rORC|RE|||", header("RGV^O15^RGV_O15", &id)),
        5 | 14 => format!("XSH|{id}"),
        6 => format!("MSH|##|{id}"),
        7 => format!("{}\rMSA|ZZ|{id}", header("ACK^R01^ACK", &id)),
        8 => format!("{}\rRXG|1|||^^LOCAL|-5", header("RGV^O15^RGV_O15", &id)),
        9 => format!("{}|{}", header("ORU^R01^ORU_R01", &id), "x".repeat(300)),
        10 => {
            let mut bytes = header("RGV^O15^RGV_O15", &id).into_bytes();
            bytes.extend(random.bytes(40));
            return frame_bytes(&bytes);
        }
        12 | 15 => String::new(),
        _ => format!("{}\r\r\r|||\r", header("QBP^Q11^QBP_Q11", &id)),
    };
    frame(&text)
}

fn frame_bytes(body: &[u8]) -> Vec<u8> {
    let body: Vec<u8> = body
        .iter()
        .copied()
        .filter(|byte| *byte != 0x0b && *byte != 0x1c)
        .collect();
    let mut wire = vec![0x0b];
    wire.extend_from_slice(&body);
    wire.extend_from_slice(&[0x1c, 0x0d]);
    wire
}

/// A valid status query (which the pump does not take, and says so).
fn query(n: u64) -> Vec<u8> {
    frame(&format!(
        "{}\rQPD|IHE PCD status^IHE^99PFS|Q{n}\rRCP|I",
        header("QBP^Q11^QBP_Q11", &format!("Q{n}"))
    ))
}

type Tcp = TcpStream;

async fn connection(
    stream: Tcp,
    behaviour: Behaviour,
    tls: Arc<Tls>,
    mut changes: watch::Receiver<Behaviour>,
    counts: Arc<Counts>,
) {
    let mut random = Random::new();
    let changed = async move {
        let _ = changes.changed().await;
    };
    tokio::pin!(changed);
    match behaviour {
        Behaviour::Unreachable | Behaviour::Stop => {}
        Behaviour::NotTls => {
            let mut stream = stream;
            let mut hello = [0_u8; 512];
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut hello)).await;
            let _ = stream.write_all(&random.bytes(512)).await;
            counts.handshakes_failed.fetch_add(1, Ordering::Relaxed);
        }
        Behaviour::Silent => {
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
            drop(stream);
        }
        Behaviour::WrongCertificate => {
            if tls.wrong.accept(stream).await.is_err() {
                counts.handshakes_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        Behaviour::Good
        | Behaviour::Resets
        | Behaviour::Garbage
        | Behaviour::Malformed
        | Behaviour::Slowloris
        | Behaviour::StatusFlood => {
            let accepted =
                tokio::time::timeout(Duration::from_secs(10), tls.good.accept(stream)).await;
            let Ok(Ok(stream)) = accepted else {
                counts.handshakes_failed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            counts.handshakes.fetch_add(1, Ordering::Relaxed);
            let lifetime = match behaviour {
                Behaviour::Resets => Duration::from_millis(200 + random.below(2800)),
                _ => Duration::from_secs(3600),
            };
            // Every close from this side is a reset: SO_LINGER with a zero
            // timeout (which sends RST on close and never blocks the drop;
            // tokio deprecates the call for a non-zero timeout's blocking).
            {
                let (tcp, _) = stream.get_ref();
                #[allow(deprecated)]
                let _ = tcp.set_linger(Some(Duration::ZERO));
            }
            let mut reset = false;
            let (mut reader, mut writer) = tokio::io::split(stream);
            let mut pending = Vec::new();
            let mut buffer = vec![0_u8; 16 * 1024];
            let mut n = 0_u64;
            let mut tick = tokio::time::interval(match behaviour {
                Behaviour::Slowloris => Duration::from_millis(500),
                Behaviour::Garbage => Duration::from_millis(20),
                _ => Duration::from_millis(1),
            });
            let until = tokio::time::Instant::now() + lifetime;
            let slowloris = b"\x0bMSH|^~\\&|GATEWAY|HOSP|PERFUSE|HOSP|";
            let mut trickled = 0_usize;
            loop {
                tokio::select! {
                    () = &mut changed => {
                        reset = true;
                        break;
                    }
                    () = tokio::time::sleep_until(until) => {
                        reset = true;
                        if behaviour == Behaviour::Resets && random.below(2) == 0 {
                            // Half a frame, then the reset.
                            let _ = writer.write_all(b"\x0bMSH|^~\\&|GATEWAY|HO").await;
                            let _ = writer.flush().await;
                        }
                        break;
                    }
                    read = reader.read(&mut buffer) => {
                        let count = match read {
                            Ok(0) | Err(_) => break,
                            Ok(count) => count,
                        };
                        pending.extend_from_slice(buffer.get(..count).unwrap_or(&[]));
                        for message in frames(&mut pending) {
                            let answer = match behaviour {
                                Behaviour::Good | Behaviour::Resets | Behaviour::Garbage => {
                                    ack_of(&message, &counts)
                                }
                                _ => {
                                    counts.pump_messages.fetch_add(1, Ordering::Relaxed);
                                    None
                                }
                            };
                            if let Some(answer) = answer {
                                if writer.write_all(&answer).await.is_err()
                                    || writer.flush().await.is_err()
                                {
                                    break;
                                }
                            }
                        }
                    }
                    _ = tick.tick(), if !matches!(behaviour, Behaviour::Good | Behaviour::Resets) => {
                        match behaviour {
                            Behaviour::Malformed | Behaviour::StatusFlood => {
                                // A batch of messages as fast as the peer takes them.
                                let mut batch = Vec::with_capacity(64 * 1024);
                                let first = n;
                                while batch.len() < 60 * 1024 {
                                    if behaviour == Behaviour::Malformed {
                                        batch.extend(malformed(n, &mut random));
                                    } else {
                                        batch.extend(query(n));
                                    }
                                    n += 1;
                                }
                                if writer.write_all(&batch).await.is_err() {
                                    break;
                                }
                                let written = n - first;
                                if behaviour == Behaviour::Malformed {
                                    counts.malformed.fetch_add(written, Ordering::Relaxed);
                                } else {
                                    counts.queries.fetch_add(written, Ordering::Relaxed);
                                }
                            }
                            Behaviour::Garbage => {
                                let chunk = match random.below(4) {
                                    0 => {
                                        let length = 1 + random.below(4096) as usize;
                                        random.bytes(length)
                                    }
                                    1 => {
                                        let mut half = b"\x0bMSH|^~\\&|GATEWAY|".to_vec();
                                        let length = random.below(200) as usize;
                                        half.extend(random.bytes(length));
                                        half
                                    }
                                    2 => b"\x1c\x0d\x1c\x0d".to_vec(),
                                    _ => {
                                        let mut huge = vec![0x0b];
                                        huge.extend(std::iter::repeat_n(b'A', 70 * 1024));
                                        huge
                                    }
                                };
                                counts
                                    .garbage_bytes
                                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                                if writer.write_all(&chunk).await.is_err() {
                                    break;
                                }
                            }
                            Behaviour::Slowloris => {
                                let byte = slowloris.get(trickled % slowloris.len()).copied().unwrap_or(b'A');
                                trickled += 1;
                                counts.trickled_bytes.fetch_add(1, Ordering::Relaxed);
                                if writer.write_all(&[byte]).await.is_err() {
                                    break;
                                }
                                let _ = writer.flush().await;
                            }
                            Behaviour::Good
                            | Behaviour::Resets
                            | Behaviour::WrongCertificate
                            | Behaviour::NotTls
                            | Behaviour::Silent
                            | Behaviour::Unreachable
                            | Behaviour::Stop => {}
                        }
                    }
                }
            }
            if reset {
                counts.resets.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
