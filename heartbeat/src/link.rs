//! The heartbeat link: a Unix SOCK_SEQPACKET connection from the app to the
//! supervisor. Seqpacket keeps message boundaries like a datagram and, being
//! a connection, tells the supervisor the moment the app's end closes (the
//! app crashed), so it can cut at once rather than wait for a deadline.
//!
//! The app side never blocks: sends use MSG_DONTWAIT, a full socket drops
//! the message and counts it, and a lost connection is retried every
//! `RECONNECT_EVERY` heartbeats, each new connection opening with a hello.
//! The supervisor side accepts only peers of the configured user
//! (SO_PEERCRED).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use uds::nonblocking::{UnixSeqpacketConn, UnixSeqpacketListener};

use super::protocol::{AlarmLevel, AlarmVolume, Kind, Message, PumpMode, MESSAGE_LEN};

/// Heartbeats between reconnection attempts while the supervisor is unreachable.
pub const RECONNECT_EVERY: u32 = 10;

/// What happened to one heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Delivered,
    /// The supervisor's socket was full: dropped and counted.
    Dropped,
    /// No connection (the supervisor is not there yet, or went away).
    NotConnected,
}

/// The app's end.
pub struct HeartbeatSender {
    path: PathBuf,
    socket: Option<UnixSeqpacketConn>,
    session: u64,
    sequence: u64,
    /// The next send opens a session with a hello first.
    hello_due: bool,
    until_retry: u32,
    pub sent: u64,
    pub dropped: u64,
    pub connections: u64,
}

impl HeartbeatSender {
    /// A sender for the supervisor listening at `path`, with a random session id.
    pub fn new(path: &Path) -> Result<Self, String> {
        let mut session = [0_u8; 8];
        getrandom::fill(&mut session)
            .map_err(|error| format!("no randomness for the session id: {error}"))?;
        Ok(Self {
            path: path.to_owned(),
            socket: None,
            session: u64::from_le_bytes(session),
            sequence: 0,
            hello_due: true,
            until_retry: 0,
            sent: 0,
            dropped: 0,
            connections: 0,
        })
    }

    pub fn session(&self) -> u64 {
        self.session
    }

    /// Starts a new session on the same connection: the next send opens it
    /// with a hello. The app does this at every start or resume the nurse
    /// confirms, so a supervisor that tripped while the pump stood still
    /// (and the app could not see it) takes that confirmation too, with no
    /// second alarm for the nurse to acknowledge. Without a connection the
    /// next send connects and opens with a hello anyway.
    pub fn new_session(&mut self) {
        self.sequence = 0;
        self.hello_due = true;
        // No system call here (this runs in the control loop): the next id
        // is a SplitMix64 step from the random first one.
        let mut z = self.session.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.session = z ^ (z >> 31);
    }

    fn connect(&mut self) -> bool {
        match UnixSeqpacketConn::connect(&self.path) {
            Ok(connection) => {
                self.socket = Some(connection);
                self.connections += 1;
                true
            }
            Err(_) => false,
        }
    }

    fn transmit(&mut self, message: &Message) -> Sent {
        let Some(socket) = &self.socket else {
            return Sent::NotConnected;
        };
        match socket.send(&message.encode()) {
            Ok(_) => {
                self.sent += 1;
                Sent::Delivered
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                self.dropped += 1;
                Sent::Dropped
            }
            Err(_) => {
                self.socket = None;
                Sent::NotConnected
            }
        }
    }

    fn message(&mut self, kind: Kind, status: &Status) -> Message {
        self.sequence += 1;
        Message {
            kind,
            mode: status.mode,
            session: self.session,
            sequence: self.sequence,
            sent_at_us: status.now_us,
            rate_nl_per_h: status.rate_nl_per_h,
            forward_steps: status.forward_steps,
            reverse_steps: status.reverse_steps,
            alarm: status.alarm,
            audible: status.audible,
            volume: status.volume,
        }
    }

    /// Sends one message of `kind`; (re)connects first when needed, opening
    /// every new connection with a hello. Never blocks.
    pub fn send(&mut self, kind: Kind, status: &Status) -> Sent {
        if self.socket.is_none() {
            if self.until_retry > 0 {
                self.until_retry -= 1;
                return Sent::NotConnected;
            }
            if !self.connect() {
                self.until_retry = RECONNECT_EVERY;
                return Sent::NotConnected;
            }
            self.hello_due = true;
        }
        if self.hello_due {
            let hello = self.message(Kind::Hello, status);
            if self.transmit(&hello) != Sent::Delivered {
                return Sent::NotConnected;
            }
            self.hello_due = false;
        }
        let message = self.message(kind, status);
        self.transmit(&message)
    }
}

/// What a heartbeat reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub now_us: u64,
    pub mode: PumpMode,
    pub rate_nl_per_h: u64,
    pub forward_steps: u64,
    pub reverse_steps: u64,
    pub alarm: AlarmLevel,
    pub audible: bool,
    pub volume: AlarmVolume,
}

/// The supervisor's end: a listening socket.
pub struct HeartbeatListener {
    socket: UnixSeqpacketListener,
    path: PathBuf,
    allowed_uid: u32,
}

/// A connected app.
pub struct Peer {
    socket: UnixSeqpacketConn,
    pub pid: u32,
    pub uid: u32,
}

/// A peer refused by its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub pid: u32,
    pub uid: u32,
}

/// What one receive found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A message of this many bytes is in the buffer (possibly malformed).
    Bytes(usize),
    Nothing,
    /// The app's end closed: it exited or crashed.
    Closed,
}

impl HeartbeatListener {
    /// Listens at `path` (replacing a stale socket file), accepting peers of `allowed_uid`.
    pub fn bind(path: &Path, allowed_uid: u32) -> Result<Self, String> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => {
                return Err(format!(
                    "cannot remove the stale socket {}: {error}",
                    path.display()
                ))
            }
        }
        let socket = UnixSeqpacketListener::bind(path)
            .map_err(|error| format!("cannot listen on {}: {error}", path.display()))?;
        // Only the app's user may connect (SO_PEERCRED is checked as well):
        // the socket is its owner's alone, and owned by the app's user when
        // the supervisor runs as another (root, on a device).
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|error| format!("cannot restrict {}: {error}", path.display()))?;
        if allowed_uid != nix::unistd::geteuid().as_raw() {
            std::os::unix::fs::chown(path, Some(allowed_uid), None).map_err(|error| {
                format!(
                    "cannot hand {} to the app's user (uid {allowed_uid}): {error}",
                    path.display()
                )
            })?;
        }
        Ok(Self {
            socket,
            path: path.to_owned(),
            allowed_uid,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts one waiting connection, if any; refuses peers of other users.
    pub fn accept(&self) -> Result<Option<Peer>, Refused> {
        let Ok((socket, _)) = self.socket.accept_unix_addr() else {
            return Ok(None);
        };
        let Ok(credentials) = socket.initial_peer_credentials() else {
            return Err(Refused {
                pid: 0,
                uid: u32::MAX,
            });
        };
        let pid = credentials.pid().map_or(0, |pid| pid.get());
        let uid = credentials.euid();
        if uid != self.allowed_uid {
            return Err(Refused { pid, uid });
        }
        Ok(Some(Peer { socket, pid, uid }))
    }
}

impl Drop for HeartbeatListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Peer {
    /// Receives one message into `buffer` without blocking. A message longer
    /// than the buffer fills it (and is malformed: not `MESSAGE_LEN` bytes).
    pub fn receive(&self, buffer: &mut [u8; 2 * MESSAGE_LEN]) -> Received {
        match self.socket.recv(buffer) {
            Ok(0) => Received::Closed,
            Ok(length) => Received::Bytes(length),
            Err(error) if error.kind() == ErrorKind::WouldBlock => Received::Nothing,
            Err(_) => Received::Closed,
        }
    }
}
