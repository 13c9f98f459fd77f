//! The network side of Perfuse, kept out of the pump app's process.
//!
//! - `mllp`: MLLP framing (the HL7 Minimal Lower Layer Protocol), strict and
//!   bounded: a frame that is too long, unterminated or preceded by garbage
//!   is counted and dropped, never buffered without limit;
//! - `hl7`: a small, strict HL7 v2 message reader and writer;
//! - `pcd`: the IHE PCD messages (PCD-01 status, PCD-04 alarms, PCD-03
//!   orders and their answers, drug-library offers); `seen`: the replay
//!   memory of orders; `download`: one library fetched in bounded chunks
//!   and checked against its offer;
//! - `local`: the bounded, versioned protocol between the app and the link
//!   process; `queue`: the drop-oldest queue each direction uses;
//!
//! - `daemon`: the `perfuse-link` process itself (tokio, rustls).
//!
//! Nothing here starts, changes or stops an infusion: what arrives from the
//! network is only ever a proposal for the nurse to confirm on the pump.

pub mod backoff;
pub mod config;
pub mod daemon;
pub mod download;
pub mod hl7;
pub mod local;
pub mod mllp;
pub mod pcd;
pub mod queue;
pub mod seen;
