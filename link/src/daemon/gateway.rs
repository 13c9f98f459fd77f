//! The gateway side of the link: one outbound, mutually authenticated TLS
//! connection carrying HL7 over MLLP, redialled with capped, jittered
//! backoff. The pump never listens.
//!
//! On the connection the pump sends one message at a time and waits for its
//! accept acknowledgement (matched by control id); the gateway's messages
//! (acknowledgements, orders) are read as they come, each answered at once.
//! Whatever the gateway does (resets, garbage, half frames, trickles,
//! floods, silence), the link holds at most one frame and a few replies,
//! counts the errors, and drops the connection when the peer breaks a rule;
//! nothing it does reaches the app except a well-formed order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::shared::{OrderAnswer, Outbound, Shared};
use crate::backoff::{self, Backoff};
use crate::config::{Gateway, Settings};
use crate::hl7::{Hl7Error, Message};
use crate::local::{wall_clock as now, OrderOutcome, Refusal};
use crate::mllp::{self, Decoder};
use crate::pcd::{self, Accept, Sender};
use crate::seen::{Seen, REMEMBERED};

/// How long a TCP connection and then a TLS handshake may take, each.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(5);
/// How long the gateway has to acknowledge a message.
pub const ACK_DEADLINE: Duration = Duration::from_secs(10);
/// How long one write may take before the gateway counts as not reading.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(5);
/// How long a frame may take to arrive whole (a slowloris peer is cut).
pub const FRAME_DEADLINE: Duration = Duration::from_secs(10);
/// The most messages the gateway may send of its own in one second (the
/// acknowledgement of the link's message waiting for one is not counted);
/// past it the rest are dropped unanswered and counted, and a peer at ten
/// times the rate is disconnected.
pub const MESSAGES_PER_SECOND: u32 = 50;

/// Is `bytes` an acknowledgement of message `control_id`?
fn acknowledges(bytes: &[u8], control_id: &str) -> bool {
    Message::parse(bytes).is_ok_and(|message| {
        matches!(pcd::message_type(&message), Ok((kind, _)) if kind == "ACK")
            && pcd::read_acknowledgement(&message).is_ok_and(|ack| ack.control_id == control_id)
    })
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum End {
    #[error("the gateway closed the connection")]
    Closed,
    #[error("the connection failed: {0}")]
    Io(String),
    #[error("no acknowledgement in time")]
    NoAcknowledgement,
    #[error("the gateway did not take a write in time")]
    NotReading,
    #[error("a frame took too long to arrive (a trickling peer)")]
    Trickle,
    #[error("more than {} messages in one second", MESSAGES_PER_SECOND * 10)]
    Flood,
    #[error("the link is stopping")]
    Stopping,
}

/// Dials and serves the gateway until the process stops.
pub async fn run(
    settings: Settings,
    gateway: Gateway,
    tls: Arc<rustls::ClientConfig>,
    shared: Arc<Shared>,
) {
    let tls = TlsConnector::from(tls);
    let server_name = match rustls::pki_types::ServerName::try_from(gateway.server_name.clone()) {
        Ok(name) => name,
        Err(error) => {
            tracing::error!("gateway.server-name {:?}: {error}", gateway.server_name);
            return;
        }
    };
    let sender = Sender {
        pump_id: settings.pump_id.clone(),
        facility: settings.facility.clone(),
    };
    let mut backoff = Backoff::new(settings.first_retry, settings.max_retry);
    let mut seen = Seen::new(REMEMBERED);
    let mut session = Session::new(sender, Limits::new(settings.status_every));
    loop {
        let started = Instant::now();
        let end = match connect(&gateway.address, &tls, server_name.clone()).await {
            Ok(stream) => {
                {
                    let mut state = shared.lock();
                    state.health.connected = true;
                    state.health.connections += 1;
                }
                shared.health_changed();
                tracing::info!("connected to the gateway at {}", gateway.address);
                let end = session.serve(stream, &shared, &mut seen).await;
                shared.lock().health.connected = false;
                shared.health_changed();
                end
            }
            Err(why) => {
                shared.lock().health.failed_connections += 1;
                shared.health_changed();
                why
            }
        };
        if end == End::Stopping {
            return;
        }
        // A connection that lasted a while was a success: start over.
        if started.elapsed() > settings.max_retry {
            backoff.succeeded();
        }
        let delay = backoff.failed(backoff::random());
        tracing::warn!(
            "gateway {}: {end}; next attempt in {} ms",
            gateway.address,
            delay.as_millis()
        );
        tokio::time::sleep(delay).await;
    }
}

async fn connect(
    address: &str,
    tls: &TlsConnector,
    name: rustls::pki_types::ServerName<'static>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, End> {
    let tcp = tokio::time::timeout(CONNECT_DEADLINE, TcpStream::connect(address))
        .await
        .map_err(|_| {
            End::Io(format!(
                "no TCP connection within {} s",
                CONNECT_DEADLINE.as_secs()
            ))
        })?
        .map_err(|error| End::Io(format!("TCP: {error}")))?;
    let _ = tcp.set_nodelay(true);
    tokio::time::timeout(CONNECT_DEADLINE, tls.connect(name, tcp))
        .await
        .map_err(|_| {
            End::Io(format!(
                "no TLS handshake within {} s",
                CONNECT_DEADLINE.as_secs()
            ))
        })?
        .map_err(|error| End::Io(format!("TLS: {error}")))
}

/// One message sent and not yet acknowledged.
struct Waiting {
    control_id: String,
    message: Outbound,
    since: Instant,
}

/// The deadlines a connection is held to (the constants above, shorter
/// in tests).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub ack: Duration,
    pub write: Duration,
    pub frame: Duration,
    pub status_every: Duration,
}

impl Limits {
    pub fn new(status_every: Duration) -> Limits {
        Limits {
            ack: ACK_DEADLINE,
            write: WRITE_DEADLINE,
            frame: FRAME_DEADLINE,
            status_every,
        }
    }
}

/// What persists across connections: the message numbering.
pub struct Session {
    sender: Sender,
    limits: Limits,
    next_control: u64,
}

impl Session {
    pub fn new(sender: Sender, limits: Limits) -> Session {
        Session {
            sender,
            limits,
            next_control: 1,
        }
    }

    fn control_id(&mut self) -> String {
        let id = format!("PFS{}", self.next_control);
        self.next_control += 1;
        id
    }

    /// Serves one connection until it ends.
    pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: S,
        shared: &Shared,
        seen: &mut Seen,
    ) -> End {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut decoder = Decoder::new(mllp::MAX_MESSAGE);
        let mut waiting: Option<Waiting> = None;
        let limits = self.limits;
        let mut periodic = tokio::time::interval(limits.status_every);
        periodic.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut periodic_due = true;
        let mut buffer = vec![0_u8; 16 * 1024];
        let mut frame_started: Option<Instant> = None;
        let mut second = (Instant::now(), 0_u32);
        let end = loop {
            if waiting.is_none() {
                if let Some(message) = shared.next_outbound(periodic_due) {
                    periodic_due = false;
                    let control_id = self.control_id();
                    let wire = self.encode(&message, &control_id);
                    if let Err(end) = write(&mut writer, &wire, limits.write).await {
                        shared.undelivered(message);
                        break end;
                    }
                    waiting = Some(Waiting {
                        control_id,
                        message,
                        since: Instant::now(),
                    });
                }
            }
            let deadline = [
                waiting.as_ref().map(|w| w.since + limits.ack),
                frame_started.map(|since| since + limits.frame),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let read = tokio::select! {
                read = reader.read(&mut buffer) => read,
                () = shared.to_gateway.notified() => continue,
                _ = periodic.tick() => {
                    periodic_due = true;
                    continue;
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    if waiting.as_ref().is_some_and(|w| w.since.elapsed() >= limits.ack) {
                        break End::NoAcknowledgement;
                    }
                    if frame_started.is_some_and(|since| since.elapsed() >= limits.frame) {
                        break End::Trickle;
                    }
                    continue;
                }
            };
            let count = match read {
                Ok(0) => break End::Closed,
                Ok(count) => count,
                Err(error) => break End::Io(error.to_string()),
            };
            let mut frames: Vec<Result<Vec<u8>, mllp::FrameError>> = Vec::new();
            decoder.push(buffer.get(..count).unwrap_or(&[]), |frame| {
                frames.push(frame.map(<[u8]>::to_vec));
            });
            frame_started = match (decoder.pending(), frame_started) {
                (0, _) => None,
                (_, Some(since)) => Some(since),
                (_, None) => Some(Instant::now()),
            };
            let mut replies = Vec::new();
            for frame in frames {
                let bytes = match frame {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        shared.lock().health.messages_refused += 1;
                        tracing::debug!("gateway framing: {error}");
                        continue;
                    }
                };
                if second.0.elapsed() >= Duration::from_secs(1) {
                    second = (Instant::now(), 0);
                }
                // The acknowledgement of the one message waiting for it is
                // paced by the link itself, not the gateway: counted, it
                // made the 51st status in a second wait out the 10 s
                // acknowledgement deadline and the connection drop.
                let awaited = waiting
                    .as_ref()
                    .is_some_and(|w| acknowledges(&bytes, &w.control_id));
                if !awaited {
                    second.1 += 1;
                }
                if second.1 > MESSAGES_PER_SECOND * 10 {
                    break;
                }
                if second.1 > MESSAGES_PER_SECOND {
                    shared.lock().health.messages_refused += 1;
                    continue;
                }
                if let Some(reply) = self.receive(&bytes, &mut waiting, shared, seen) {
                    replies.push(reply);
                }
            }
            if second.1 > MESSAGES_PER_SECOND * 10 {
                break End::Flood;
            }
            for reply in replies {
                if let Err(end) = write(&mut writer, &reply, limits.write).await {
                    if let Some(waiting) = waiting.take() {
                        shared.undelivered(waiting.message);
                    }
                    return end;
                }
            }
        };
        if let Some(waiting) = waiting.take() {
            shared.undelivered(waiting.message);
        }
        end
    }

    fn encode(&self, message: &Outbound, control_id: &str) -> Vec<u8> {
        let hl7 = match message {
            Outbound::Status(status) => pcd::status_message(&self.sender, status, control_id),
            Outbound::Alarm(event) => pcd::alarm_message(
                &self.sender,
                &event.alarm,
                event.phase,
                &event.alert_id,
                event.at,
                control_id,
            ),
            Outbound::Answer(answer) => {
                let refusal = match &answer.outcome {
                    OrderOutcome::Shown | OrderOutcome::Confirmed => None,
                    OrderOutcome::Refused { refusal } => Some(refusal),
                };
                pcd::order_answer(
                    &self.sender,
                    &answer.message,
                    &answer.order_id,
                    refusal,
                    now(),
                    control_id,
                )
            }
            Outbound::Library(answer) => pcd::offer_answer(
                &self.sender,
                &answer.message,
                (&answer.offer_id, &answer.name, &answer.version),
                answer.refusal.as_deref(),
                now(),
                control_id,
            ),
            Outbound::Query {
                offer_id,
                offset,
                length,
            } => pcd::chunk_query(&self.sender, offer_id, *offset, *length, now(), control_id),
        };
        let mut wire = Vec::new();
        mllp::frame(hl7.to_er7().as_bytes(), &mut wire);
        wire
    }

    /// Handles one message from the gateway; the framed reply, if any.
    fn receive(
        &mut self,
        bytes: &[u8],
        waiting: &mut Option<Waiting>,
        shared: &Shared,
        seen: &mut Seen,
    ) -> Option<Vec<u8>> {
        let message = match Message::parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                shared.lock().health.messages_refused += 1;
                // Answer what can be answered: a message whose header
                // names its control id gets the reason it was refused.
                let control_id = loose_control_id(bytes)?;
                return Some(self.ack("", &control_id, Accept::Error, Some(&error.to_string())));
            }
        };
        let (kind, event) = match pcd::message_type(&message) {
            Ok(kind) => kind,
            Err(error) => return self.refuse_unreadable(&message, shared, &error),
        };
        let control_id = match pcd::control_id(&message) {
            Ok(id) => id,
            Err(_) => {
                shared.lock().health.messages_refused += 1;
                return None;
            }
        };
        match (kind.as_str(), event.as_str()) {
            ("ACK", _) => {
                match pcd::read_acknowledgement(&message) {
                    Ok(ack)
                        if waiting
                            .as_ref()
                            .is_some_and(|w| w.control_id == ack.control_id) =>
                    {
                        if !ack.accepted {
                            tracing::warn!(
                                "the gateway refused message {} ({})",
                                ack.control_id,
                                ack.code
                            );
                        }
                        *waiting = None;
                        shared.lock().health.messages_sent += 1;
                        shared.to_gateway.notify_one();
                    }
                    Ok(ack) => tracing::debug!(
                        "an acknowledgement of {}, which is not waiting",
                        ack.control_id
                    ),
                    Err(error) => {
                        shared.lock().health.messages_refused += 1;
                        tracing::debug!("an unreadable acknowledgement: {error}");
                    }
                }
                None
            }
            ("RGV", "O15") => Some(self.order(&message, &control_id, shared, seen)),
            ("MFN", "M01") => Some(self.library_offer(&message, &control_id, shared)),
            ("RSP", "K11") => {
                self.chunk(&message, waiting, shared);
                None
            }
            _ => {
                shared.lock().health.messages_refused += 1;
                Some(self.ack(
                    &event,
                    &control_id,
                    Accept::Rejected,
                    Some(&format!(
                        "the pump takes only ACK, RGV^O15 (an infusion order), MFN^M01 (a drug library offer) and RSP^K11 (a chunk it asked for), not {kind}^{event}"
                    )),
                ))
            }
        }
    }

    fn refuse_unreadable(
        &mut self,
        message: &Message,
        shared: &Shared,
        error: &Hl7Error,
    ) -> Option<Vec<u8>> {
        shared.lock().health.messages_refused += 1;
        let control_id = pcd::control_id(message).ok()?;
        Some(self.ack("", &control_id, Accept::Error, Some(&error.to_string())))
    }

    /// An order: accepted for reading (ACK^O15 CA) or not (CE with the
    /// reason); then screened and passed to the app, or refused at once
    /// with RRG^O16.
    fn order(
        &mut self,
        message: &Message,
        control_id: &str,
        shared: &Shared,
        seen: &mut Seen,
    ) -> Vec<u8> {
        let order = match pcd::read_order(message) {
            Ok(order) => order,
            Err(error) => {
                shared.lock().health.messages_refused += 1;
                return self.ack("O15", control_id, Accept::Error, Some(&error.to_string()));
            }
        };
        let refusal = match pcd::screen(&order, &self.sender.pump_id, now(), seen) {
            Err(refusal) => Some(refusal),
            Ok(()) => (!shared.offer(control_id.to_owned(), order.clone()))
                .then_some(Refusal::Unavailable),
        };
        if let Some(refusal) = refusal {
            tracing::info!(
                "order {} refused: {}",
                order.order_id,
                pcd::refusal_text(&refusal).1
            );
            shared.refuse(OrderAnswer {
                message: control_id.to_owned(),
                order_id: order.order_id,
                outcome: OrderOutcome::Refused { refusal },
            });
        }
        self.ack("O15", control_id, Accept::Accepted, None)
    }

    /// A library offer: accepted for reading (ACK^M01 CA) or not (CE with
    /// the reason). Whether the pump fetches it or refuses it at once, the
    /// MFK^M01 tells later.
    fn library_offer(&mut self, message: &Message, control_id: &str, shared: &Shared) -> Vec<u8> {
        match pcd::read_offer(message) {
            Ok(offer) => {
                shared.offer_library(control_id, offer);
                self.ack("M01", control_id, Accept::Accepted, None)
            }
            Err(error) => {
                shared.lock().health.messages_refused += 1;
                tracing::info!("a library offer was refused: {error}");
                self.ack("M01", control_id, Accept::Error, Some(&error.to_string()))
            }
        }
    }

    /// The answer to the chunk query waiting (RSP^K11, MSA-2 its control
    /// id); any other is counted and dropped.
    fn chunk(&mut self, message: &Message, waiting: &mut Option<Waiting>, shared: &Shared) {
        let answered = message
            .first("MSA", "the acknowledgement")
            .map(|msa| msa.text(2))
            .unwrap_or_default();
        let asked = match waiting.as_ref() {
            Some(Waiting {
                control_id,
                message:
                    Outbound::Query {
                        offer_id,
                        offset,
                        length,
                    },
                ..
            }) if *control_id == answered => (offer_id.clone(), *offset, *length),
            Some(_) | None => {
                shared.lock().health.messages_refused += 1;
                tracing::debug!("a chunk answering {answered:?}, which is not waiting");
                return;
            }
        };
        let (offer_id, offset, length) = asked;
        let chunk = pcd::read_chunk(message, &offer_id, offset).map_err(|error| error.to_string());
        *waiting = None;
        shared.lock().health.messages_sent += 1;
        shared.chunk((offset, length), chunk);
        shared.to_gateway.notify_one();
    }

    fn ack(
        &mut self,
        event: &str,
        acknowledged: &str,
        accept: Accept,
        error: Option<&str>,
    ) -> Vec<u8> {
        let own = self.control_id();
        let message = pcd::acknowledgement(
            &self.sender,
            event,
            acknowledged,
            accept,
            error,
            now(),
            &own,
        );
        let mut wire = Vec::new();
        mllp::frame(message.to_er7().as_bytes(), &mut wire);
        wire
    }
}

/// MSH-10 read without the strict reader, to say why a message was refused:
/// only a short, printable control id is used.
fn loose_control_id(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(512))?).ok()?;
    let header = text.strip_prefix("MSH|")?.split('\r').next()?;
    let id = header.split('|').nth(8)?;
    (!id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    .then(|| id.to_owned())
}

async fn write<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    deadline: Duration,
) -> Result<(), End> {
    match tokio::time::timeout(deadline, writer.write_all(bytes)).await {
        Ok(Ok(())) => match tokio::time::timeout(deadline, writer.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(End::Io(error.to_string())),
            Err(_) => Err(End::NotReading),
        },
        Ok(Err(error)) => Err(End::Io(error.to_string())),
        Err(_) => Err(End::NotReading),
    }
}

#[cfg(test)]
mod tests;
