//! The local protocol between the pump app and `perfuse-link`: one Unix
//! SOCK_SEQPACKET connection, one message per packet.
//!
//! ```text
//! offset size field
//!  0     4    magic "PFLK"
//!  4     2    version (1), little-endian
//!  6     2    length of the body, little-endian, at most MAX_BODY
//!  8     n    body: one JSON object, {"kind": ..., ...}, unknown fields refused
//! ```
//!
//! The app sends its status, its alarms and its answers to orders; the link
//! sends proposed orders, library offers and its own health. Nothing the
//! link sends is an instruction: an order is a proposal the nurse confirms
//! on the pump, a library offer is checked again by the app before it is
//! staged. Every list in a message has a fixed limit, checked on decoding.

use perfuse_core::therapy::{Concentration, DoseRate, Kilograms, Millilitres, MillilitresPerHour};
use serde::{Deserialize, Serialize};

pub const MAGIC: [u8; 4] = *b"PFLK";
pub const VERSION: u16 = 1;
const HEADER: usize = 8;
/// The largest body, bytes: a status with every alarm raised is under 2 KiB.
pub const MAX_BODY: usize = 8 * 1024;
/// The largest packet.
pub const MAX_PACKET: usize = HEADER + MAX_BODY;
/// The most alarms one status carries (the pump has 19 conditions).
pub const MAX_ALARMS: usize = 24;
/// The longest text field (a drug or patient name, a reason), characters.
pub const MAX_TEXT: usize = 200;

/// The pump's mode, as the app's control thread reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    SelfTest,
    PlatformRejected,
    Idle,
    Ready,
    Delivering,
    KeepVeinOpen,
    Paused,
    AlarmStopped,
    Completed,
    Fault,
}

/// An alarm's priority (IEC 60601-1-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// One raised alarm: its condition's stable name (`downstream-occlusion`)
/// and the text the nurse sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    pub condition: String,
    pub priority: Priority,
    pub text: String,
}

/// The drug library the pump checks programs against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryIdentity {
    pub name: String,
    pub version: String,
    /// SHA-256 of the library file, lowercase hex.
    pub sha256: String,
}

/// The pump's status: sent on every change of mode or alarms, and
/// periodically while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// Counts up from 1 at each app start.
    pub sequence: u64,
    /// Wall-clock time of the status, Unix seconds (0 if the clock is unset).
    pub at: i64,
    /// The platform's name (`Perfuse S50 syringe`).
    pub platform: String,
    pub mode: Mode,
    pub rate: MillilitresPerHour,
    pub vtbi: Option<Millilitres>,
    pub delivered: Millilitres,
    pub remaining: Option<Millilitres>,
    pub drug: Option<String>,
    pub library: Option<LibraryIdentity>,
    pub alarms: Vec<Alarm>,
}

/// An infusion order from the medication-administration system (IHE PCD-03),
/// as the link read it: a proposal, never a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedOrder {
    /// The placer's order number (ORC-2), unique per order.
    pub order_id: String,
    /// The pump it is for (the device identifier in the order).
    pub pump_id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub drug: String,
    pub concentration: Option<Concentration>,
    /// Exactly one of the two: a flow rate, or a dose rate the pump turns
    /// into one with the concentration and the weight.
    pub rate: Option<MillilitresPerHour>,
    pub dose: Option<DoseRate>,
    pub vtbi: Millilitres,
    pub weight: Option<Kilograms>,
    /// When it was sent and when it stops being valid, Unix seconds.
    pub sent_at: i64,
    pub expires_at: i64,
}

/// Why an order was not taken: each goes back in the acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "detail")]
pub enum Refusal {
    /// The order names another pump.
    OtherPump(String),
    /// An order with this number was seen before.
    Replayed,
    /// Its validity ended before it reached the pump.
    Expired,
    /// The therapy core or the drug library refused it (the reason given).
    LibraryCheck(String),
    /// The pump is delivering or holds a program: the nurse must stop first.
    Busy,
    /// The nurse declined it on the pump's screen.
    Declined,
    /// The pump app was not reachable from the link: nothing was shown.
    Unavailable,
    /// This pump's screen cannot show orders: it is programmed at the bedside.
    NotShown,
    /// The message could not be read (what was wrong).
    Malformed(String),
}

/// The app's answer to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum OrderOutcome {
    /// Shown on the pump for the nurse to compare and confirm.
    Shown,
    /// The nurse confirmed it: the program is loaded (not started).
    Confirmed,
    Refused {
        refusal: Refusal,
    },
}

/// The largest drug library the link downloads and the app takes, bytes.
pub const MAX_LIBRARY: usize = 256 * 1024;
/// The largest detached signature file, bytes.
pub const MAX_SIGNATURE: usize = 1024;
/// The bytes of a library in one packet to the app (base64 in the JSON
/// body: 5,464 characters).
pub const LIBRARY_PACKET: usize = 4096;
/// The longest offer id: letters, digits, `-` and `.`.
pub const MAX_OFFER_ID: usize = 40;

/// A drug library the hospital offered, as the link announces it to the
/// app once every byte arrived and matched the offer's size and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryOffer {
    /// The offer's id (MFE-2).
    pub offer_id: String,
    /// The name and version the gateway announced (the library's own
    /// header is what the pump believes, once verified).
    pub name: String,
    pub version: String,
    /// SHA-256 of the library file, lowercase hex.
    pub sha256: String,
    pub size: u32,
    /// The detached signature file, base64.
    pub signature: String,
}

/// What the app made of a library the link passed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum LibraryOutcome {
    /// Verified and staged: it waits for activation on the pump.
    Staged,
    /// Refused (the reason, in English, for the hospital).
    Refused { reason: String },
}

/// App to link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum ToLink {
    Status {
        status: Status,
    },
    OrderAnswer {
        order_id: String,
        outcome: OrderOutcome,
    },
    LibraryAnswer {
        offer_id: String,
        outcome: LibraryOutcome,
    },
}

/// The link's health, as the pump's biomed page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkHealth {
    pub connected: bool,
    pub connections: u64,
    pub failed_connections: u64,
    pub messages_sent: u64,
    pub messages_refused: u64,
    /// Statuses replaced by a newer one before they could be sent.
    pub statuses_dropped: u64,
    /// Alarm events, order answers and messages for the app dropped from a
    /// full queue.
    pub events_dropped: u64,
}

/// Link to app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum ToApp {
    Order {
        order: ProposedOrder,
    },
    Health {
        health: LinkHealth,
    },
    /// A library follows in `LibraryChunk` packets, in order.
    Library {
        offer: LibraryOffer,
    },
    LibraryChunk {
        offer_id: String,
        offset: u32,
        /// At most `LIBRARY_PACKET` bytes, base64.
        data: String,
    },
}

/// Why a packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    #[error("a packet of {length} bytes: it must be 8 to {MAX_PACKET}")]
    Length { length: usize },
    #[error("the packet does not start with PFLK")]
    Magic,
    #[error("protocol version {found}; this side speaks {VERSION}")]
    Version { found: u16 },
    #[error("the header gives a body of {declared} bytes, the packet holds {held}")]
    BodyLength { declared: usize, held: usize },
    #[error("the body is not a message of this protocol: {0}")]
    Body(String),
    #[error("{what} is {found}, more than the {limit} allowed")]
    Limit {
        what: &'static str,
        found: usize,
        limit: usize,
    },
}

/// Wall-clock Unix seconds, as statuses and orders carry time (0 when the
/// clock is before 1970: unset).
pub fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Encodes `message` into one packet.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, LocalError> {
    let body = serde_json::to_vec(message).map_err(|error| LocalError::Body(error.to_string()))?;
    if body.len() > MAX_BODY {
        return Err(LocalError::Limit {
            what: "the body",
            found: body.len(),
            limit: MAX_BODY,
        });
    }
    let mut packet = Vec::with_capacity(HEADER + body.len());
    packet.extend_from_slice(&MAGIC);
    packet.extend_from_slice(&VERSION.to_le_bytes());
    packet.extend_from_slice(&(body.len() as u16).to_le_bytes());
    packet.extend_from_slice(&body);
    Ok(packet)
}

/// Decodes one packet, checking the header and every limit.
pub fn decode<T: for<'de> Deserialize<'de> + Bounded>(packet: &[u8]) -> Result<T, LocalError> {
    if packet.len() < HEADER || packet.len() > MAX_PACKET {
        return Err(LocalError::Length {
            length: packet.len(),
        });
    }
    let (header, body) = packet.split_at(HEADER);
    if header.get(..4) != Some(&MAGIC[..]) {
        return Err(LocalError::Magic);
    }
    let word = |at: usize| {
        u16::from_le_bytes([
            header.get(at).copied().unwrap_or(0),
            header.get(at + 1).copied().unwrap_or(0),
        ])
    };
    let version = word(4);
    if version != VERSION {
        return Err(LocalError::Version { found: version });
    }
    let declared = usize::from(word(6));
    if declared != body.len() {
        return Err(LocalError::BodyLength {
            declared,
            held: body.len(),
        });
    }
    let message: T =
        serde_json::from_slice(body).map_err(|error| LocalError::Body(error.to_string()))?;
    message.check()?;
    Ok(message)
}

/// The limits a decoded message must keep.
pub trait Bounded {
    fn check(&self) -> Result<(), LocalError>;
}

fn text(what: &'static str, value: &str) -> Result<(), LocalError> {
    let found = value.chars().count();
    if found > MAX_TEXT {
        return Err(LocalError::Limit {
            what,
            found,
            limit: MAX_TEXT,
        });
    }
    Ok(())
}

impl Bounded for ToLink {
    fn check(&self) -> Result<(), LocalError> {
        match self {
            ToLink::Status { status } => {
                if status.alarms.len() > MAX_ALARMS {
                    return Err(LocalError::Limit {
                        what: "the number of alarms",
                        found: status.alarms.len(),
                        limit: MAX_ALARMS,
                    });
                }
                text("the platform's name", &status.platform)?;
                if let Some(drug) = &status.drug {
                    text("the drug's name", drug)?;
                }
                for alarm in &status.alarms {
                    text("an alarm's condition", &alarm.condition)?;
                    text("an alarm's text", &alarm.text)?;
                }
                if let Some(library) = &status.library {
                    text("the library's name", &library.name)?;
                    text("the library's version", &library.version)?;
                    text("the library's hash", &library.sha256)?;
                }
                Ok(())
            }
            ToLink::OrderAnswer { order_id, outcome } => {
                text("the order number", order_id)?;
                match outcome {
                    OrderOutcome::Shown | OrderOutcome::Confirmed => Ok(()),
                    OrderOutcome::Refused { refusal } => refusal.check(),
                }
            }
            ToLink::LibraryAnswer { offer_id, outcome } => {
                offer_id_check(offer_id)?;
                match outcome {
                    LibraryOutcome::Staged => Ok(()),
                    LibraryOutcome::Refused { reason } => limit("the reason", reason.len(), 1000),
                }
            }
        }
    }
}

impl Refusal {
    fn check(&self) -> Result<(), LocalError> {
        match self {
            Refusal::OtherPump(detail)
            | Refusal::LibraryCheck(detail)
            | Refusal::Malformed(detail) => text("the refusal's detail", detail),
            Refusal::Replayed
            | Refusal::Expired
            | Refusal::Busy
            | Refusal::Declined
            | Refusal::Unavailable
            | Refusal::NotShown => Ok(()),
        }
    }
}

impl Bounded for ToApp {
    fn check(&self) -> Result<(), LocalError> {
        match self {
            ToApp::Order { order } => {
                for (what, value) in [
                    ("the order number", &order.order_id),
                    ("the pump's id", &order.pump_id),
                    ("the patient's id", &order.patient_id),
                    ("the patient's name", &order.patient_name),
                    ("the drug's name", &order.drug),
                ] {
                    text(what, value)?;
                }
                if order.rate.is_some() == order.dose.is_some() {
                    return Err(LocalError::Body(
                        "an order gives either a rate or a dose rate, exactly one".into(),
                    ));
                }
                Ok(())
            }
            ToApp::Health { .. } => Ok(()),
            ToApp::Library { offer } => {
                offer_id_check(&offer.offer_id)?;
                text("the library's name", &offer.name)?;
                text("the library's version", &offer.version)?;
                if offer.sha256.len() != 64
                    || !offer
                        .sha256
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(LocalError::Body(format!(
                        "the library's hash {:?} is not 64 lowercase hex digits",
                        offer.sha256
                    )));
                }
                limit("the library's size", offer.size as usize, MAX_LIBRARY)?;
                if offer.size == 0 {
                    return Err(LocalError::Body("the library is empty".into()));
                }
                limit(
                    "the signature (base64)",
                    offer.signature.len(),
                    MAX_SIGNATURE.div_ceil(3) * 4,
                )
            }
            ToApp::LibraryChunk {
                offer_id,
                offset,
                data,
            } => {
                offer_id_check(offer_id)?;
                limit("the chunk's offset", *offset as usize, MAX_LIBRARY)?;
                limit(
                    "the chunk (base64)",
                    data.len(),
                    LIBRARY_PACKET.div_ceil(3) * 4,
                )
            }
        }
    }
}

fn limit(what: &'static str, found: usize, limit: usize) -> Result<(), LocalError> {
    if found > limit {
        return Err(LocalError::Limit { what, found, limit });
    }
    Ok(())
}

/// An offer id: 1 to `MAX_OFFER_ID` letters, digits, `-` and `.`.
pub fn offer_id_check(id: &str) -> Result<(), LocalError> {
    if id.is_empty()
        || id.len() > MAX_OFFER_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(LocalError::Body(format!(
            "the offer id {id:?} must be 1 to {MAX_OFFER_ID} letters, digits, - and ."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            sequence: 7,
            at: 1_796_292_900,
            platform: "Perfuse S50 syringe".into(),
            mode: Mode::Delivering,
            rate: "25".parse().unwrap(),
            vtbi: Some("50".parse().unwrap()),
            delivered: "1.25".parse().unwrap(),
            remaining: Some("48.75".parse().unwrap()),
            drug: None,
            library: None,
            alarms: vec![],
        }
    }

    #[test]
    fn a_status_goes_through_whole() {
        let message = ToLink::Status { status: status() };
        let packet = encode(&message).unwrap();
        assert_eq!(&packet[..4], b"PFLK");
        assert_eq!(decode::<ToLink>(&packet), Ok(message));
    }

    #[test]
    fn each_bad_packet_is_refused_with_what_was_wrong() {
        let good = encode(&ToLink::Status { status: status() }).unwrap();
        assert_eq!(
            decode::<ToLink>(&good[..5]),
            Err(LocalError::Length { length: 5 })
        );
        let mut magic = good.clone();
        magic[0] = b'X';
        assert_eq!(decode::<ToLink>(&magic), Err(LocalError::Magic));
        let mut version = good.clone();
        version[4] = 9;
        assert_eq!(
            decode::<ToLink>(&version),
            Err(LocalError::Version { found: 9 })
        );
        let short = &good[..good.len() - 1];
        assert!(matches!(
            decode::<ToLink>(short),
            Err(LocalError::BodyLength { .. })
        ));
        // A message meant for the other direction, or with a field added.
        let wrong_way = encode(&ToApp::Health {
            health: LinkHealth::default(),
        })
        .unwrap();
        assert!(matches!(
            decode::<ToLink>(&wrong_way),
            Err(LocalError::Body(_))
        ));
        let mut extra = serde_json::to_value(ToLink::Status { status: status() }).unwrap();
        extra["status"]["start_now"] = serde_json::Value::Bool(true);
        let body = serde_json::to_vec(&extra).unwrap();
        let mut packet = b"PFLK\x01\x00".to_vec();
        packet.extend_from_slice(&(body.len() as u16).to_le_bytes());
        packet.extend_from_slice(&body);
        match decode::<ToLink>(&packet) {
            Err(LocalError::Body(why)) => assert!(why.contains("start_now"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lists_and_texts_past_their_limits_are_refused() {
        let mut many = status();
        many.alarms = vec![
            Alarm {
                condition: "door-open".into(),
                priority: Priority::High,
                text: "Door open".into()
            };
            MAX_ALARMS + 1
        ];
        let packet = encode(&ToLink::Status { status: many }).unwrap();
        assert_eq!(
            decode::<ToLink>(&packet),
            Err(LocalError::Limit {
                what: "the number of alarms",
                found: MAX_ALARMS + 1,
                limit: MAX_ALARMS
            })
        );
        let mut long = status();
        long.platform = "x".repeat(MAX_TEXT + 1);
        let packet = encode(&ToLink::Status { status: long }).unwrap();
        assert!(matches!(
            decode::<ToLink>(&packet),
            Err(LocalError::Limit {
                what: "the platform's name",
                ..
            })
        ));
        let huge = ToLink::OrderAnswer {
            order_id: "x".repeat(MAX_BODY),
            outcome: OrderOutcome::Shown,
        };
        assert!(matches!(
            encode(&huge),
            Err(LocalError::Limit {
                what: "the body",
                ..
            })
        ));
    }
}
