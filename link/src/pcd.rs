//! The IHE Patient Care Device messages the pump sends and reads (HL7 v2.6,
//! IHE PCD TF-2), built and read with `hl7`:
//!
//! - PCD-01 (DEC) `ORU^R01^ORU_R01`: the pump's status and progress;
//! - PCD-04 (ACM) `ORU^R40^ORU_R40`: one alarm raised or ended;
//! - PCD-03 (PIV) `RGV^O15^RGV_O15` in: an infusion order, read into a
//!   `ProposedOrder`; answered at once with an accept acknowledgement
//!   `ACK^O15^ACK`, and later with `RRG^O16^RRG_O16`: the order shown for
//!   the nurse, or refused with its reason;
//! - `ACK` in: the gateway's accept acknowledgement of what the pump sent;
//! - a drug library offered (`MFN^M01`), fetched in chunks (`QBP^Q11`
//!   answered by `RSP^K11`) and answered (`MFK^M01`): `library`.
//!
//! The pump only dials out, so all of this travels over the one connection
//! it opened (docs/hospital-link.md): the gateway sends orders down it as
//! the IHE order consumer would on its own port.
//!
//! The MDC codes are those of ISO/IEEE 11073-10101 as IHE PCD uses them;
//! where the nomenclature has no term for a Perfuse alarm, the event is
//! coded in the local system `99PFS` by the condition's own name.

use perfuse_core::therapy::{
    AmountUnit, Concentration, DoseBasis, DoseRate, DoseRateUnit, Kilograms, Millilitres,
    MillilitresPerHour, TimeBase,
};
use rust_decimal::Decimal;

use crate::hl7::{parse_timestamp, timestamp, Hl7Error, Message, Segment};
use crate::local::{Alarm, Mode, Priority, ProposedOrder, Refusal, Status};

/// MSH-21 of each message (TF-2 B.1): receivers key on the OID.
pub const PROFILE_PCD_01: [&str; 4] = [
    "IHE_PCD_001",
    "IHE PCD",
    "1.3.6.1.4.1.19376.1.6.1.1.1",
    "ISO",
];
pub const PROFILE_PCD_04: [&str; 4] = [
    "IHE_PCD_ACM_001",
    "IHE PCD",
    "1.3.6.1.4.1.19376.1.6.1.4.1",
    "ISO",
];
pub const PROFILE_PCD_03: [&str; 4] = [
    "IHE_PCD_PIV_001",
    "IHE PCD",
    "1.3.6.1.4.1.19376.1.6.1.3.1",
    "ISO",
];
pub const PROFILE_RRG: [&str; 4] = [
    "IHE_PCD_PIV_002",
    "IHE PCD",
    "1.3.6.1.4.1.19376.1.6.1.3.2",
    "ISO",
];

const MDS: [&str; 3] = ["69985", "MDC_DEV_PUMP_INFUS_MDS", "MDC"];
const VMD: [&str; 3] = ["69986", "MDC_DEV_PUMP_INFUS_VMD", "MDC"];
const LIBRARY_VERSION: [&str; 3] = ["184517", "MDC_PUMP_DRUG_LIBRARY_VERSION", "MDC"];
const INFUSING_STATUS: [&str; 3] = ["184519", "MDC_PUMP_INFUSING_STATUS", "MDC"];
const FLOW: [&str; 3] = ["157784", "MDC_FLOW_FLUID_PUMP", "MDC"];
const VTBI: [&str; 3] = ["157884", "MDC_VOL_FLUID_TBI", "MDC"];
const REMAINING: [&str; 3] = ["157872", "MDC_VOL_FLUID_TBI_REMAIN", "MDC"];
const DELIVERED: [&str; 3] = ["157993", "MDC_VOL_FLUID_DELIV_TOTAL", "MDC"];
const DRUG: [&str; 3] = ["184514", "MDC_DRUG_NAME_LABEL", "MDC"];
/// The library's hash has no MDC term: a local observation.
const LIBRARY_HASH: [&str; 3] = ["LIBRARY_SHA256", "Drug library SHA-256", "99PFS"];
const WEIGHT: &str = "68063";
const ML_PER_HOUR: [&str; 3] = ["265266", "MDC_DIM_MILLI_L_PER_HR", "MDC"];
const ML: [&str; 3] = ["263762", "MDC_DIM_MILLI_L", "MDC"];
const ALARM_EVENT: [&str; 3] = ["196616", "MDC_EVT_ALARM", "MDC"];

/// This pump, as the messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub pump_id: String,
    pub facility: String,
}

impl Sender {
    fn header(&self, kind: [&str; 3], control_id: &str, at: i64, profile: [&str; 4]) -> Segment {
        Segment::new("MSH")
            .set(3, &["PERFUSE", &self.pump_id, "L"])
            .set(4, &[&self.facility])
            .set(7, &[&timestamp(at)])
            .set(9, &kind)
            .set(10, &[control_id])
            .set(11, &["P"])
            .set(12, &["2.6"])
            .set(15, &["AL"])
            .set(16, &["NE"])
            .set(18, &["UNICODE UTF-8"])
            .set(21, &profile)
    }

    /// OBX-18: the equipment instance (the pump).
    fn equipment(&self) -> [&str; 4] {
        [&self.pump_id, "", &self.pump_id, "L"]
    }
}

fn obx(set_id: usize, kind: &str, code: [&str; 3], sub_id: &str) -> Segment {
    Segment::new("OBX")
        .set(1, &[&set_id.to_string()])
        .set(2, &[kind])
        .set(3, &code)
        .set(4, &[sub_id])
}

fn quantity(
    set_id: usize,
    code: [&str; 3],
    sub_id: &str,
    value: Decimal,
    unit: [&str; 3],
    at: &str,
) -> Segment {
    obx(set_id, "NM", code, sub_id)
        .set(5, &[&value.normalize().to_string()])
        .set(6, &unit)
        .set(11, &["R"])
        .set(14, &[at])
}

/// The MDC_PUMP_INFUSING_STATUS value of a mode (IPEC's `pump-status-`
/// terms; the pump's own modes where IPEC has none).
pub fn infusing_status(mode: Mode) -> &'static str {
    match mode {
        Mode::SelfTest => "pump-status-self-test",
        Mode::PlatformRejected | Mode::Fault => "pump-status-fault",
        Mode::Idle => "pump-status-idle",
        Mode::Ready => "pump-status-programmed",
        Mode::Delivering => "pump-status-infusing",
        Mode::KeepVeinOpen => "pump-status-kvo",
        Mode::Paused => "pump-status-paused",
        Mode::AlarmStopped => "pump-status-alarm",
        Mode::Completed => "pump-status-complete",
    }
}

/// PCD-01: `status` as an ORU^R01 with control id `control_id`.
pub fn status_message(sender: &Sender, status: &Status, control_id: &str) -> Message {
    let at = timestamp(status.at);
    let placer = [control_id, "PERFUSE", sender.pump_id.as_str(), "L"];
    let mut segments = vec![
        // No PID or PV1: the pump does not know the patient of a program
        // typed at the bedside (ORU_R01's patient group is optional).
        sender.header(
            ["ORU", "R01", "ORU_R01"],
            control_id,
            status.at,
            PROFILE_PCD_01,
        ),
        Segment::new("OBR")
            .set(1, &["1"])
            .set(2, &placer)
            .set(3, &placer)
            .set(4, &MDS)
            .set(7, &[&at]),
    ];
    // Set ids (OBX-1) are given in order once every observation is known.
    let mut observations = vec![obx(0, "", MDS, "1.0.0.0")
        .set(11, &["X"])
        .set(18, &sender.equipment())];
    if let Some(library) = &status.library {
        let version = format!("{} {}", library.name, library.version);
        observations.push(
            obx(0, "ST", LIBRARY_VERSION, "1.0.0.1")
                .set(5, &[&version])
                .set(11, &["R"]),
        );
        observations.push(
            obx(0, "ST", LIBRARY_HASH, "1.0.0.2")
                .set(5, &[&library.sha256])
                .set(11, &["R"]),
        );
    }
    observations.push(obx(0, "", VMD, "1.1.0.0").set(11, &["X"]));
    observations.push(
        obx(0, "CWE", INFUSING_STATUS, "1.1.0.1")
            .set(5, &["", infusing_status(status.mode)])
            .set(11, &["R"]),
    );
    observations.push(quantity(
        0,
        FLOW,
        "1.1.0.2",
        status.rate.value(),
        ML_PER_HOUR,
        &at,
    ));
    if let Some(vtbi) = status.vtbi {
        observations.push(quantity(0, VTBI, "1.1.0.3", vtbi.value(), ML, &at));
    }
    if let Some(remaining) = status.remaining {
        observations.push(quantity(
            0,
            REMAINING,
            "1.1.0.4",
            remaining.value(),
            ML,
            &at,
        ));
    }
    observations.push(quantity(
        0,
        DELIVERED,
        "1.1.0.5",
        status.delivered.value(),
        ML,
        &at,
    ));
    if let Some(drug) = &status.drug {
        observations.push(
            obx(0, "ST", DRUG, "1.1.0.6")
                .set(5, &[drug])
                .set(11, &["R"]),
        );
    }
    segments.extend(
        observations
            .into_iter()
            .enumerate()
            .map(|(index, segment)| segment.set(1, &[&(index + 1).to_string()])),
    );
    Message::new(segments)
}

/// Whether an alarm starts or ends (PCD-04's event phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Start,
    End,
}

/// The event code of an alarm condition (MDC where the nomenclature has
/// the term, else the condition's name in the local system 99PFS).
fn event_code(condition: &str) -> [String; 3] {
    match condition {
        "downstream-occlusion" | "upstream-occlusion" => [
            "196940".into(),
            "MDC_EVT_FLUID_LINE_OCCL".into(),
            "MDC".into(),
        ],
        other => [other.to_owned(), other.to_owned(), "99PFS".into()],
    }
}

/// PCD-04: one alarm starting or ending, as an ORU^R40; `alert_id` stays
/// the same across an alarm's start and end.
pub fn alarm_message(
    sender: &Sender,
    alarm: &Alarm,
    phase: Phase,
    alert_id: &str,
    at: i64,
    control_id: &str,
) -> Message {
    let when = timestamp(at);
    let filler = [alert_id, "PERFUSE", sender.pump_id.as_str(), "L"];
    let event = event_code(&alarm.condition);
    let event: [&str; 3] = [&event[0], &event[1], &event[2]];
    let (phase, state) = match phase {
        Phase::Start => ("start", "active"),
        Phase::End => ("end", "inactive"),
    };
    let priority = match alarm.priority {
        Priority::Low => "PL",
        Priority::Medium => "PM",
        Priority::High => "PH",
    };
    let facet = |n: usize| format!("1.1.0.0.{n}");
    let text = |n: usize, code: [&str; 3], value: &str| {
        obx(n, "ST", code, &facet(n))
            .set(5, &[value])
            .set(11, &["F"])
    };
    Message::new(vec![
        sender.header(["ORU", "R40", "ORU_R40"], control_id, at, PROFILE_PCD_04),
        Segment::new("OBR")
            .set(1, &["1"])
            .set(2, &filler)
            .set(3, &filler)
            .set(4, &ALARM_EVENT)
            .set(7, &[&when]),
        obx(1, "CWE", ALARM_EVENT, &facet(1))
            .set(5, &event)
            .set(11, &["F"])
            .set(14, &[&when])
            .set(18, &sender.equipment()),
        obx(
            2,
            "CWE",
            ["68480", "MDC_ATTR_ALERT_SOURCE", "MDC"],
            &facet(2),
        )
        .set(5, &VMD)
        .set(11, &["F"]),
        text(3, ["68481", "MDC_ATTR_EVENT_PHASE", "MDC"], phase),
        text(4, ["68482", "MDC_ATTR_ALARM_STATE", "MDC"], state),
        text(
            5,
            ["68483", "MDC_ATTR_ALARM_INACTIVATION_STATE", "MDC"],
            "enabled",
        ),
        text(6, ["68484", "MDC_ATTR_ALARM_PRIORITY", "MDC"], priority),
        text(7, ["68485", "MDC_ATTR_ALERT_TYPE", "MDC"], "ST"),
        Segment::new("NTE").set(1, &["1"]).set(3, &[&alarm.text]),
    ])
}

/// An accept acknowledgement's code (MSA-1, enhanced mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// CA: accepted.
    Accepted,
    /// CE: refused, the message was malformed.
    Error,
    /// CR: refused, the receiver cannot take it (an unsupported message).
    Rejected,
}

impl Accept {
    fn code(self) -> &'static str {
        match self {
            Accept::Accepted => "CA",
            Accept::Error => "CE",
            Accept::Rejected => "CR",
        }
    }
}

/// An acknowledgement (`ACK^<event>^ACK`) of the message with control id
/// `acknowledged`, with the error text when it is not accepted.
pub fn acknowledgement(
    sender: &Sender,
    event: &str,
    acknowledged: &str,
    accept: Accept,
    error: Option<&str>,
    at: i64,
    control_id: &str,
) -> Message {
    let mut segments = vec![
        Segment::new("MSH")
            .set(3, &["PERFUSE", &sender.pump_id, "L"])
            .set(4, &[&sender.facility])
            .set(7, &[&timestamp(at)])
            .set(9, &["ACK", event, "ACK"])
            .set(10, &[control_id])
            .set(11, &["P"])
            .set(12, &["2.6"]),
        Segment::new("MSA")
            .set(1, &[accept.code()])
            .set(2, &[acknowledged]),
    ];
    if let Some(error) = error {
        segments.push(
            Segment::new("ERR")
                .set(3, &["207", "Application internal error", "HL70357"])
                .set(4, &["E"])
                .set(8, &[error]),
        );
    }
    Message::new(segments)
}

/// What the gateway said of a message the pump sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    /// MSA-2: the control id of the pump's message.
    pub control_id: String,
    /// MSA-1 was CA or AA.
    pub accepted: bool,
    pub code: String,
}

/// Reads an ACK (MSA-1 and MSA-2).
pub fn read_acknowledgement(message: &Message) -> Result<Acknowledged, Hl7Error> {
    let msa = message.first("MSA", "the acknowledgement")?;
    let code = msa.required(1, 1, "the acknowledgement code")?;
    let accepted = match code.as_str() {
        "CA" | "AA" => true,
        "CE" | "CR" | "AE" | "AR" => false,
        _ => return Err(msa.invalid(1, "the acknowledgement code", "CA, CE, CR, AA, AE or AR")),
    };
    Ok(Acknowledged {
        control_id: msa.required(2, 1, "the acknowledged message's control id")?,
        accepted,
        code,
    })
}

/// The message type of `message` (MSH-9, its first two components).
pub fn message_type(message: &Message) -> Result<(String, String), Hl7Error> {
    let header = message.header()?;
    Ok((
        header.required(9, 1, "the message type")?,
        header.component(9, 2),
    ))
}

/// The control id (MSH-10) of `message`.
pub fn control_id(message: &Message) -> Result<String, Hl7Error> {
    message.header()?.required(10, 1, "the message control id")
}

mod library;
pub use library::{chunk_query, offer_answer, read_chunk, read_offer, Chunk, CHUNK};
mod order;
pub use order::{order_answer, read_order, refusal_text, screen, DEFAULT_VALIDITY_S};

#[cfg(test)]
pub(crate) mod tests;
