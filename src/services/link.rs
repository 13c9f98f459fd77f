//! The app's end of the local link to `perfuse-link` (link/src/local.rs):
//! the pump's status out, proposed orders and the link's health in.
//!
//! It never waits. The socket is non-blocking; each direction is a small
//! queue that drops its oldest entry when full and counts it; a link that
//! is absent, dead or stalled is retried every `RETRY_MS` and costs the UI
//! thread one failed `connect` then. Nothing that arrives acts on the pump:
//! an order is only ever put before the nurse (`take_order`).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use perfuse_link::local::{
    self, Alarm, LibraryIdentity, LibraryOffer, LibraryOutcome, LinkHealth, OrderOutcome,
    ProposedOrder, Status, ToApp, ToLink,
};
use perfuse_link::queue::DropOldest;
use sha2::{Digest, Sha256};
use uds::nonblocking::UnixSeqpacketConn;

use crate::alarms::Condition;
use crate::control::api::{Mode, Snapshot};
use crate::control::units::Nanolitres;
use crate::therapy::Millilitres;

/// How often a missing link is looked for again, ms.
pub const RETRY_MS: u64 = 2000;
/// A status goes at least this often while nothing changes, ms (the link
/// itself reports to the gateway at its own pace).
pub const STATUS_EVERY_MS: u64 = 1000;
/// Packets waiting to go to the link, and orders waiting for the nurse.
/// Statuses and answers wait apart: the newest statuses push out the
/// oldest, and never an answer (the nurse's decision on an order, the
/// pump's on a library).
pub const OUTGOING: usize = 8;
pub const INCOMING: usize = 4;
/// Packets read from the link in one turn.
pub const RECEIVED_PER_TURN: usize = 16;

/// What the program adds to a status: the volume to be infused and the
/// drug, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramFacts {
    pub vtbi: Option<Millilitres>,
    pub drug: Option<String>,
}

/// A library arriving from the link, packet by packet.
#[derive(Debug)]
struct Arriving {
    offer: LibraryOffer,
    data: Vec<u8>,
}

/// A library the link passed on whole: the offer, its bytes and its
/// signature file. Its hash matched the offer; nothing else is checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedLibrary {
    pub offer: LibraryOffer,
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
}

pub struct LinkClient {
    path: PathBuf,
    connection: Option<UnixSeqpacketConn>,
    next_attempt: Instant,
    outgoing: DropOldest<Vec<u8>>,
    answers: DropOldest<Vec<u8>>,
    orders: DropOldest<ProposedOrder>,
    sequence: u64,
    /// What the last status said, to send the next on a change.
    last: Option<(Mode, Vec<Condition>)>,
    last_sent: Instant,
    platform: String,
    library: Option<LibraryIdentity>,
    /// The link's health as it last reported it (None: never connected).
    pub health: Option<LinkHealth>,
    /// Packets from the link that were refused (and why, the last one).
    pub refused: u64,
    pub last_refusal: Option<String>,
    arriving: Option<Arriving>,
    /// A whole library waiting to be checked (`take_library`).
    library_in: Option<OfferedLibrary>,
}

impl LinkClient {
    /// Orders from the link dropped because the app did not take them.
    pub fn orders_dropped(&self) -> u64 {
        self.orders.dropped
    }

    /// A client for the link at `path`, reporting `platform` and the
    /// active `library`; it connects on the first `follow`.
    pub fn new(path: &Path, platform: &str, library: Option<LibraryIdentity>) -> LinkClient {
        let now = Instant::now();
        LinkClient {
            path: path.to_owned(),
            connection: None,
            next_attempt: now,
            outgoing: DropOldest::new(OUTGOING),
            answers: DropOldest::new(OUTGOING),
            orders: DropOldest::new(INCOMING),
            sequence: 0,
            last: None,
            last_sent: now,
            platform: platform.to_owned(),
            library,
            health: None,
            refused: 0,
            last_refusal: None,
            arriving: None,
            library_in: None,
        }
    }

    /// The library now active (after an activation).
    pub fn set_library(&mut self, library: Option<LibraryIdentity>) {
        self.library = library;
        self.last = None;
    }

    /// After each turn: a status when the mode or the alarms changed, or
    /// every `STATUS_EVERY_MS`; then whatever can be sent is sent and
    /// whatever arrived is read.
    pub fn follow(
        &mut self,
        snapshot: &Snapshot,
        delivered_before: Nanolitres,
        program: &ProgramFacts,
    ) {
        let conditions: Vec<Condition> = snapshot
            .alarms
            .iter()
            .flatten()
            .map(|alarm| alarm.condition)
            .collect();
        let now = (snapshot.mode, conditions);
        let changed = self.last.as_ref() != Some(&now);
        if changed || self.last_sent.elapsed() >= Duration::from_millis(STATUS_EVERY_MS) {
            self.sequence += 1;
            let status = status_of(
                snapshot,
                delivered_before,
                program,
                &self.platform,
                &self.library,
                self.sequence,
            );
            match local::encode(&ToLink::Status { status }) {
                Ok(packet) => self.outgoing.push(packet),
                Err(error) => tracing::error!("the status cannot be encoded for the link: {error}"),
            }
            self.last = Some(now);
            self.last_sent = Instant::now();
        }
        self.exchange();
    }

    /// The app's answer to an order it was given.
    pub fn answer(&mut self, order_id: &str, outcome: OrderOutcome) {
        match local::encode(&ToLink::OrderAnswer {
            order_id: order_id.to_owned(),
            outcome,
        }) {
            Ok(packet) => self.answers.push(packet),
            Err(error) => {
                tracing::error!("the answer to order {order_id} cannot be encoded: {error}")
            }
        }
        self.exchange();
    }

    /// A library the hospital sent, whole and matching its offer's hash,
    /// to be checked and staged; its answer goes back by `answer_library`.
    pub fn take_library(&mut self) -> Option<OfferedLibrary> {
        self.library_in.take()
    }

    /// What the pump made of library offer `offer_id`.
    pub fn answer_library(&mut self, offer_id: &str, outcome: LibraryOutcome) {
        match local::encode(&ToLink::LibraryAnswer {
            offer_id: offer_id.to_owned(),
            outcome,
        }) {
            Ok(packet) => self.answers.push(packet),
            Err(error) => {
                tracing::error!("the answer to library offer {offer_id} cannot be encoded: {error}")
            }
        }
        self.exchange();
    }

    /// A library packet from the link: the offer starts one (a library
    /// still arriving is refused: the link sends one at a time), each
    /// chunk must follow the last byte received, and the whole must match
    /// the offer's size and hash.
    fn library_packet(&mut self, packet: ToApp) {
        let refusal = match packet {
            ToApp::Library { offer } => {
                if let Some(old) = self.arriving.take() {
                    let why = format!(
                        "offer {} arrived while offer {} was still arriving",
                        offer.offer_id, old.offer.offer_id
                    );
                    self.refuse_library(&old.offer.offer_id, why);
                }
                let size = offer.size as usize;
                self.arriving = Some(Arriving {
                    offer,
                    data: Vec::with_capacity(size.min(local::MAX_LIBRARY)),
                });
                None
            }
            ToApp::LibraryChunk {
                offer_id,
                offset,
                data,
            } => match self.arriving.as_mut() {
                None => {
                    self.refused += 1;
                    self.last_refusal = Some(format!(
                        "a chunk of library offer {offer_id}, which never started"
                    ));
                    None
                }
                Some(arriving) if arriving.offer.offer_id != offer_id => Some(format!(
                    "a chunk of offer {offer_id} arrived while offer {} was arriving",
                    arriving.offer.offer_id
                )),
                Some(arriving) if offset as usize != arriving.data.len() => Some(format!(
                    "the chunk at byte {offset} arrived when byte {} was due",
                    arriving.data.len()
                )),
                Some(arriving) => match STANDARD.decode(data.as_bytes()) {
                    Err(error) => Some(format!(
                        "the chunk at byte {offset} is not base64 ({error})"
                    )),
                    Ok(bytes)
                        if arriving.data.len() + bytes.len() > arriving.offer.size as usize =>
                    {
                        Some(format!(
                            "the library passed its announced size of {} bytes",
                            arriving.offer.size
                        ))
                    }
                    Ok(bytes) => {
                        arriving.data.extend_from_slice(&bytes);
                        None
                    }
                },
            },
            ToApp::Order { .. } | ToApp::Health { .. } => None,
        };
        if let Some(why) = refusal {
            if let Some(arriving) = self.arriving.take() {
                self.refuse_library(&arriving.offer.offer_id, why);
            }
            return;
        }
        let complete = self
            .arriving
            .as_ref()
            .is_some_and(|arriving| arriving.data.len() == arriving.offer.size as usize);
        if !complete {
            return;
        }
        let Some(Arriving { offer, data }) = self.arriving.take() else {
            return;
        };
        let found = hex::encode(Sha256::digest(&data));
        if found != offer.sha256 {
            let why = format!(
                "the library reached the pump app with SHA-256 {found}; the offer announced {}",
                offer.sha256
            );
            self.refuse_library(&offer.offer_id, why);
            return;
        }
        match STANDARD.decode(offer.signature.as_bytes()) {
            Ok(signature) => {
                if let Some(old) = self.library_in.replace(OfferedLibrary {
                    offer,
                    bytes: data,
                    signature,
                }) {
                    let why = "a newer library arrived before the pump checked this one";
                    self.refuse_library(&old.offer.offer_id, why.into());
                }
            }
            Err(error) => {
                let why = format!("the signature file is not base64 ({error})");
                self.refuse_library(&offer.offer_id, why);
            }
        }
    }

    fn refuse_library(&mut self, offer_id: &str, reason: String) {
        tracing::warn!("library offer {offer_id} refused: {reason}");
        match local::encode(&ToLink::LibraryAnswer {
            offer_id: offer_id.to_owned(),
            outcome: LibraryOutcome::Refused { reason },
        }) {
            Ok(packet) => self.answers.push(packet),
            Err(error) => {
                tracing::error!("the answer to library offer {offer_id} cannot be encoded: {error}")
            }
        }
    }

    /// The oldest order waiting for the nurse.
    pub fn take_order(&mut self) -> Option<ProposedOrder> {
        self.orders.pop()
    }

    /// Statuses and answers dropped because the link did not take them.
    pub fn dropped(&self) -> u64 {
        self.outgoing.dropped + self.answers.dropped
    }

    pub fn connected(&self) -> bool {
        self.connection.is_some()
    }

    fn exchange(&mut self) {
        if self.connection.is_none() {
            if Instant::now() < self.next_attempt {
                return;
            }
            self.next_attempt = Instant::now() + Duration::from_millis(RETRY_MS);
            match UnixSeqpacketConn::connect(&self.path) {
                Ok(connection) => {
                    tracing::info!("connected to the network link at {}", self.path.display());
                    self.connection = Some(connection);
                }
                Err(_) => return,
            }
        }
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        let mut lost = false;
        // Answers first, then statuses.
        'queues: for queue in [&mut self.answers, &mut self.outgoing] {
            while let Some(packet) = queue.pop() {
                match connection.send(&packet) {
                    Ok(_) => {}
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        queue.unpop(packet);
                        break 'queues;
                    }
                    Err(_) => {
                        queue.unpop(packet);
                        lost = true;
                        break 'queues;
                    }
                }
            }
        }
        let mut buffer = [0_u8; local::MAX_PACKET + 1];
        // A fixed number per turn: a link sending without pause cannot hold
        // the UI thread here (a whole library, 65 packets, takes a few
        // turns).
        let mut library = Vec::new();
        for _ in 0..RECEIVED_PER_TURN {
            match connection.recv(&mut buffer) {
                Ok(0) => {
                    lost = true;
                    break;
                }
                Ok(length) => match local::decode::<ToApp>(buffer.get(..length).unwrap_or(&[])) {
                    Ok(ToApp::Order { order }) => self.orders.push(order),
                    Ok(ToApp::Health { health }) => self.health = Some(health),
                    Ok(packet @ (ToApp::Library { .. } | ToApp::LibraryChunk { .. })) => {
                        library.push(packet)
                    }
                    Err(error) => {
                        self.refused += 1;
                        self.last_refusal = Some(error.to_string());
                    }
                },
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    lost = true;
                    break;
                }
            }
        }
        for packet in library {
            self.library_packet(packet);
        }
        if lost {
            tracing::warn!("the network link went away; the pump runs on without it");
            self.connection = None;
            // The link refuses a library it could not finish passing on.
            self.arriving = None;
            if let Some(health) = self.health.as_mut() {
                health.connected = false;
            }
        }
    }
}

/// The link's name for a mode (every mode named: a new one must be added).
pub fn mode_of(mode: Mode) -> local::Mode {
    match mode {
        Mode::SelfTest => local::Mode::SelfTest,
        Mode::PlatformRejected => local::Mode::PlatformRejected,
        Mode::Idle => local::Mode::Idle,
        Mode::Ready => local::Mode::Ready,
        Mode::Delivering => local::Mode::Delivering,
        Mode::KeepVeinOpen => local::Mode::KeepVeinOpen,
        Mode::Paused => local::Mode::Paused,
        Mode::AlarmStopped => local::Mode::AlarmStopped,
        Mode::Completed => local::Mode::Completed,
        Mode::Fault => local::Mode::Fault,
    }
}

/// A condition's stable name on the link: `DownstreamOcclusion` becomes
/// `downstream-occlusion`.
pub fn condition_name(condition: Condition) -> String {
    let mut out = String::new();
    for (index, character) in condition.name().chars().enumerate() {
        if character.is_ascii_uppercase() {
            if index > 0 {
                out.push('-');
            }
            out.push(character.to_ascii_lowercase());
        } else {
            out.push(character);
        }
    }
    out
}

fn status_of(
    snapshot: &Snapshot,
    delivered_before: Nanolitres,
    program: &ProgramFacts,
    platform: &str,
    library: &Option<LibraryIdentity>,
    sequence: u64,
) -> Status {
    let at = local::wall_clock();
    let has_program = matches!(
        snapshot.mode,
        Mode::Ready
            | Mode::Delivering
            | Mode::KeepVeinOpen
            | Mode::Paused
            | Mode::AlarmStopped
            | Mode::Completed
    );
    let alarms = snapshot
        .alarms
        .iter()
        .flatten()
        .take(local::MAX_ALARMS)
        .map(|alarm| Alarm {
            condition: condition_name(alarm.condition),
            priority: match alarm.priority {
                perfuse_drivers::annunciator::Priority::Low => local::Priority::Low,
                perfuse_drivers::annunciator::Priority::Medium => local::Priority::Medium,
                perfuse_drivers::annunciator::Priority::High => local::Priority::High,
            },
            text: alarm.condition.action().to_owned(),
        })
        .collect();
    Status {
        sequence,
        at,
        platform: platform.to_owned(),
        mode: mode_of(snapshot.mode),
        rate: snapshot.commanded_rate.millilitres_per_hour(),
        vtbi: program.vtbi.filter(|_| has_program),
        delivered: delivered_before
            .saturating_add(snapshot.delivered)
            .millilitres(),
        remaining: has_program.then(|| snapshot.remaining.millilitres()),
        drug: program.drug.clone().filter(|_| has_program),
        library: library.clone(),
        alarms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_names_are_kebab_case_and_distinct() {
        assert_eq!(
            condition_name(Condition::DownstreamOcclusion),
            "downstream-occlusion"
        );
        assert_eq!(condition_name(Condition::PcaLimit), "pca-limit");
        let mut names: Vec<String> = Condition::ALL.into_iter().map(condition_name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Condition::ALL.len());
    }

    #[test]
    fn statuses_go_to_the_link_and_orders_come_back_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.sock");
        let listener = uds::UnixSeqpacketListener::bind(&path).unwrap();
        let mut client = LinkClient::new(&path, "Perfuse S50 syringe", None);
        let mut snapshot = Snapshot {
            mode: Mode::Idle,
            ..Snapshot::default()
        };
        client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        let (link, _) = listener.accept_unix_addr().unwrap();
        let mut buffer = [0_u8; local::MAX_PACKET];
        let length = link.recv(&mut buffer).unwrap();
        match local::decode::<ToLink>(&buffer[..length]).unwrap() {
            ToLink::Status { status } => {
                assert_eq!(status.mode, local::Mode::Idle);
                assert_eq!(status.platform, "Perfuse S50 syringe");
            }
            other => panic!("{other:?}"),
        }
        let order: ProposedOrder = serde_json::from_str(
            r#"{"order_id":"O1","pump_id":"P","patient_id":"M","patient_name":"J","drug":"D","concentration":null,"rate":"5","dose":null,"vtbi":"50","weight":null,"sent_at":0,"expires_at":10}"#,
        )
        .unwrap();
        link.send(&local::encode(&ToApp::Order { order }).unwrap())
            .unwrap();
        link.send(b"PFLK garbage").unwrap();
        client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        assert_eq!(
            client.take_order().map(|order| order.order_id),
            Some("O1".into())
        );
        assert_eq!(client.refused, 1);

        // A link that stops reading: the client never blocks, and keeps
        // only the newest packets.
        let started = Instant::now();
        for n in 0..20_000 {
            snapshot.mode = if n % 2 == 0 { Mode::Idle } else { Mode::Ready };
            client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(client.dropped() > 0);
        assert!(client.connected());
    }

    #[test]
    fn answers_wait_apart_from_statuses_and_no_status_pushes_one_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.sock");
        let listener = uds::UnixSeqpacketListener::bind(&path).unwrap();
        let mut client = LinkClient::new(&path, "Perfuse S50 syringe", None);
        let mut snapshot = Snapshot::default();
        client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        let (link, _) = listener.accept_unix_addr().unwrap();
        // The link stops reading: the socket fills with statuses, then the
        // nurse answers an order and the pump a library, then 20,000 more
        // status changes come.
        for n in 0..20_000 {
            snapshot.mode = if n % 2 == 0 { Mode::Idle } else { Mode::Ready };
            client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        }
        client.answer("O7", OrderOutcome::Confirmed);
        client.answer_library("L3", LibraryOutcome::Staged);
        for n in 0..20_000 {
            snapshot.mode = if n % 2 == 0 { Mode::Idle } else { Mode::Ready };
            client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        }
        assert!(client.dropped() > 0, "the socket never filled");
        // The link reads again: both answers arrive, before the statuses
        // that waited with them.
        link.set_nonblocking(true).unwrap();
        let mut buffer = [0_u8; local::MAX_PACKET];
        let mut answers = Vec::new();
        let mut statuses_after = 0;
        for _ in 0..200_000 {
            match link.recv(&mut buffer) {
                Ok(length) => match local::decode::<ToLink>(&buffer[..length]).unwrap() {
                    ToLink::OrderAnswer { order_id, .. } => answers.push(order_id),
                    ToLink::LibraryAnswer { offer_id, .. } => answers.push(offer_id),
                    ToLink::Status { .. } if answers.len() == 2 => statuses_after += 1,
                    ToLink::Status { .. } => {}
                },
                Err(_) => {
                    if answers.len() == 2 && statuses_after > 0 {
                        break;
                    }
                    client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
                }
            }
        }
        assert_eq!(answers, ["O7", "L3"]);
        assert!(statuses_after > 0);
    }

    #[test]
    fn without_a_link_the_client_queues_a_few_statuses_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let mut client =
            LinkClient::new(&dir.path().join("absent.sock"), "Perfuse S50 syringe", None);
        let mut snapshot = Snapshot::default();
        for mode in [Mode::Idle, Mode::Ready, Mode::Delivering, Mode::Paused]
            .into_iter()
            .cycle()
            .take(40)
        {
            snapshot.mode = mode;
            client.follow(&snapshot, Nanolitres(0), &ProgramFacts::default());
        }
        assert!(!client.connected());
        assert_eq!(client.dropped(), 40 - OUTGOING as u64);
    }
}
