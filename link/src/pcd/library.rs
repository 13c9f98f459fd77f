//! Drug-library distribution (F3, docs/hospital-link.md): the gateway's
//! offer (`MFN^M01`), the pump's chunk queries (`QBP^Q11`) and their
//! answers (`RSP^K11`), and the pump's outcome (`MFK^M01`).
//!
//! The pump pulls: it asks for each chunk in turn over the connection it
//! opened, so a gateway cannot push more than one chunk's worth at it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::{Sender, LIBRARY_HASH};
use crate::hl7::{timestamp, Hl7Error, Message, Segment};
use crate::local::{offer_id_check, LibraryOffer, MAX_LIBRARY, MAX_SIGNATURE};

/// The most bytes one chunk query asks for.
pub const CHUNK: usize = 16 * 1024;

const MASTER_FILE: [&str; 3] = ["DRUGLIB", "Drug library", "99PFS"];
const CHUNK_QUERY: [&str; 3] = ["DRUGLIB_CHUNK", "Drug library chunk", "99PFS"];
const SIZE: &str = "LIBRARY_SIZE";
const SIGNATURE: &str = "LIBRARY_SIGNATURE";

/// MSH of a message with no IHE profile (the library's exchange is
/// Perfuse's own use of standard messages).
fn header(sender: &Sender, kind: [&str; 3], control_id: &str, at: i64) -> Segment {
    Segment::new("MSH")
        .set(3, &["PERFUSE", &sender.pump_id, "L"])
        .set(4, &[&sender.facility])
        .set(7, &[&timestamp(at)])
        .set(9, &kind)
        .set(10, &[control_id])
        .set(11, &["P"])
        .set(12, &["2.6"])
}

/// The OBX whose OBX-3 code is `code`.
fn observation<'a>(
    message: &'a Message,
    code: &str,
    what: &'static str,
) -> Result<&'a Segment, Hl7Error> {
    message
        .all("OBX")
        .find(|obx| obx.text(3) == code)
        .ok_or(Hl7Error::NoSegment { name: "OBX", what })
}

/// The bytes of an ED value (`^<type>^<subtype>^Base64^<data>`) in field
/// `field`, at most `limit` of them.
fn encapsulated(
    segment: &Segment,
    field: usize,
    what: &'static str,
    limit: usize,
) -> Result<Vec<u8>, Hl7Error> {
    if segment.component(field, 4) != "Base64" {
        return Err(segment.invalid(field, what, "encapsulated data: ^type^subtype^Base64^data"));
    }
    let data = segment.component(field, 5);
    if data.len() > limit.div_ceil(3) * 4 {
        return Err(segment.invalid(field, what, format!("at most {limit} bytes (base64)")));
    }
    let bytes = STANDARD
        .decode(data.as_bytes())
        .map_err(|error| segment.invalid(field, what, format!("base64 ({error})")))?;
    if bytes.len() > limit {
        return Err(segment.invalid(field, what, format!("at most {limit} bytes")));
    }
    Ok(bytes)
}

/// Reads an offer (MFN^M01): the offer's id, the name and version
/// announced, and the hash, size and signature file every byte must match.
pub fn read_offer(message: &Message) -> Result<LibraryOffer, Hl7Error> {
    let mfi = message.first("MFI", "the master file")?;
    if mfi.text(1) != "DRUGLIB" {
        return Err(mfi.invalid(1, "the master file", "DRUGLIB (the drug library)"));
    }
    let mfe = message.first("MFE", "the library offered")?;
    if mfe.text(1) != "MAD" {
        return Err(mfe.invalid(1, "the record-level event", "MAD (a library to add)"));
    }
    let offer_id = mfe.required(2, 1, "the offer's id")?;
    offer_id_check(&offer_id)
        .map_err(|error| mfe.invalid(2, "the offer's id", error.to_string()))?;
    let name = mfe.required(4, 1, "the library's name")?;
    let version = mfe.required(4, 2, "the library's version")?;
    for (value, what) in [
        (&name, "the library's name"),
        (&version, "the library's version"),
    ] {
        if value.chars().count() > crate::local::MAX_TEXT {
            return Err(mfe.invalid(
                4,
                what,
                format!("at most {} characters", crate::local::MAX_TEXT),
            ));
        }
    }
    let hash_obx = observation(
        message,
        LIBRARY_HASH[0],
        "LIBRARY_SHA256, the library's hash",
    )?;
    let sha256 = hash_obx
        .required(5, 1, "the library's SHA-256")?
        .to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(hash_obx.invalid(5, "the library's SHA-256", "64 hex digits"));
    }
    let size_obx = observation(message, SIZE, "LIBRARY_SIZE, the library's size")?;
    let size = size_obx
        .required(5, 1, "the library's size")?
        .parse::<u32>()
        .ok()
        .filter(|size| (1..=MAX_LIBRARY).contains(&(*size as usize)))
        .ok_or_else(|| {
            size_obx.invalid(
                5,
                "the library's size",
                format!("a whole number of bytes, 1 to {MAX_LIBRARY}"),
            )
        })?;
    let signature_obx = observation(
        message,
        SIGNATURE,
        "LIBRARY_SIGNATURE, the library's signature file",
    )?;
    let signature = encapsulated(signature_obx, 5, "the signature file", MAX_SIGNATURE)?;
    if signature.is_empty() {
        return Err(signature_obx.invalid(5, "the signature file", "the .sig file, not empty"));
    }
    Ok(LibraryOffer {
        offer_id,
        name,
        version,
        sha256,
        size,
        signature: STANDARD.encode(signature),
    })
}

/// QBP^Q11: asks for `length` bytes of offer `offer_id` from `offset`.
/// The query tag (QPD-2) is the message's control id.
pub fn chunk_query(
    sender: &Sender,
    offer_id: &str,
    offset: u32,
    length: u32,
    at: i64,
    control_id: &str,
) -> Message {
    Message::new(vec![
        header(sender, ["QBP", "Q11", "QBP_Q11"], control_id, at),
        Segment::new("QPD")
            .set(1, &CHUNK_QUERY)
            .set(2, &[control_id])
            .set(3, &[offer_id, &offset.to_string(), &length.to_string()]),
        Segment::new("RCP").set(1, &["I"]),
    ])
}

/// The gateway's answer to a chunk query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// The bytes it sent (to be checked against what was asked).
    Bytes(Vec<u8>),
    /// The gateway cannot give it (MSA AE/AR or QAK NF/AE): why.
    Refused(String),
}

/// Reads an RSP^K11 answering the query for offer `offer_id` at `offset`.
pub fn read_chunk(message: &Message, offer_id: &str, offset: u32) -> Result<Chunk, Hl7Error> {
    let msa = message.first("MSA", "the acknowledgement")?;
    let qak = message.first("QAK", "the query's status")?;
    let refused = match (msa.text(1).as_str(), qak.text(2).as_str()) {
        ("AA" | "CA", "OK") => false,
        ("AA" | "CA" | "AE" | "AR" | "CE" | "CR", _) => true,
        _ => {
            return Err(msa.invalid(1, "the acknowledgement code", "AA, AE or AR"));
        }
    };
    if refused {
        let why = message
            .all("ERR")
            .next()
            .map(|err| err.text(8))
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| format!("MSA-1 {}, QAK-2 {}", msa.text(1), qak.text(2)));
        return Ok(Chunk::Refused(why));
    }
    let qpd = message.first("QPD", "the query answered")?;
    if qpd.component(3, 1) != offer_id || qpd.component(3, 2) != offset.to_string() {
        return Err(qpd.invalid(
            3,
            "the query answered",
            format!("{offer_id}^{offset}^…, the query the pump sent"),
        ));
    }
    // The chunk comes in one OBX or in several pieces, in order, each
    // OBX-4 the offset of its first byte (a gateway whose OBX-5 is limited
    // in length sends pieces).
    observation(message, CHUNK_QUERY[0], "DRUGLIB_CHUNK, the chunk")?;
    let mut bytes = Vec::new();
    let mut next = u64::from(offset);
    for obx in message
        .all("OBX")
        .filter(|obx| obx.text(3) == CHUNK_QUERY[0])
    {
        if obx.text(4) != next.to_string() {
            return Err(obx.invalid(
                4,
                "the piece's offset",
                format!("{next}, where the chunk asked for or the piece before ends"),
            ));
        }
        let piece = encapsulated(obx, 5, "the chunk", CHUNK - bytes.len())?;
        next += piece.len() as u64;
        bytes.extend_from_slice(&piece);
    }
    Ok(Chunk::Bytes(bytes))
}

/// MFK^M01: the outcome of the offer carried by message `acknowledged`:
/// staged (AA, MFA-4 S), or refused with `refusal` (AE, ERR-8, MFA-4 U).
pub fn offer_answer(
    sender: &Sender,
    acknowledged: &str,
    offer: (&str, &str, &str),
    refusal: Option<&str>,
    at: i64,
    control_id: &str,
) -> Message {
    let (offer_id, name, version) = offer;
    let mut segments = vec![
        header(sender, ["MFK", "M01", "MFK_M01"], control_id, at),
        Segment::new("MSA")
            .set(1, &[if refusal.is_some() { "AE" } else { "AA" }])
            .set(2, &[acknowledged]),
    ];
    if let Some(refusal) = refusal {
        segments.push(
            Segment::new("ERR")
                .set(3, &["207", "Application internal error", "HL70357"])
                .set(4, &["E"])
                .set(8, &[refusal]),
        );
    }
    let result = match refusal {
        None => [
            "S",
            "Successful posting of the record defined by the MFE segment",
            "HL70181",
        ],
        Some(_) => [
            "U",
            "Unsuccessful posting of the record defined by the MFE segment",
            "HL70181",
        ],
    };
    segments.push(
        Segment::new("MFI")
            .set(1, &MASTER_FILE)
            .set(3, &["UPD"])
            .set(6, &["AL"]),
    );
    segments.push(
        Segment::new("MFA")
            .set(1, &["MAD"])
            .set(2, &[offer_id])
            .set(4, &result)
            .set(5, &[name, version])
            .set(6, &["CWE"]),
    );
    Message::new(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            pump_id: "PERFUSE-0001".into(),
            facility: "HOSP".into(),
        }
    }

    pub(crate) fn offer_er7(id: &str, sha: &str, size: &str, signature: &str) -> String {
        format!(
            "MSH|^~\\&|GW|HOSP|PERFUSE|HOSP|20261204100000||MFN^M01^MFN_M01|G8|P|2.6\r\
             MFI|DRUGLIB^Drug library^99PFS||UPD|||AL\r\
             MFE|MAD|{id}|20261204100000|icu-library^2026.12|CWE\r\
             OBX|1|ST|LIBRARY_SHA256^Drug library SHA-256^99PFS||{sha}||||||F\r\
             OBX|2|NM|LIBRARY_SIZE^Drug library size^99PFS||{size}|By^byte^UCUM|||||F\r\
             OBX|3|ED|LIBRARY_SIGNATURE^Drug library signature^99PFS||^text^plain^Base64^{signature}||||||F"
        )
    }

    fn parse(er7: &str) -> Message {
        Message::parse(er7.as_bytes()).unwrap()
    }

    #[test]
    fn an_offer_is_read_whole() {
        let sha = "AB".repeat(32);
        let offer = read_offer(&parse(&offer_er7("OFFER-7", &sha, "17134", "c2ln"))).unwrap();
        assert_eq!(offer.offer_id, "OFFER-7");
        assert_eq!(
            (offer.name.as_str(), offer.version.as_str()),
            ("icu-library", "2026.12")
        );
        assert_eq!(offer.sha256, "ab".repeat(32));
        assert_eq!(offer.size, 17134);
        assert_eq!(offer.signature, "c2ln");
    }

    #[test]
    fn each_bad_part_of_an_offer_is_named() {
        let sha = "ab".repeat(32);
        let cases = [
            (offer_er7("OFFER 7", &sha, "10", "c2ln"), "offer's id"),
            (offer_er7("O", "abc", "10", "c2ln"), "SHA-256"),
            (offer_er7("O", &sha, "0", "c2ln"), "size"),
            (offer_er7("O", &sha, "262145", "c2ln"), "size"),
            (offer_er7("O", &sha, "ten", "c2ln"), "size"),
            (offer_er7("O", &sha, "10", "!!!"), "signature file"),
            (
                offer_er7("O", &sha, "10", &"QUFB".repeat(400)),
                "signature file",
            ),
            (
                offer_er7("O", &sha, "10", "c2ln").replace("|MAD|", "|MDL|"),
                "record-level event",
            ),
            (
                offer_er7("O", &sha, "10", "c2ln").replace("MFI|DRUGLIB", "MFI|CDM"),
                "master file",
            ),
            (
                offer_er7("O", &sha, "10", "c2ln").replace("LIBRARY_SIZE", "SIZE"),
                "LIBRARY_SIZE",
            ),
        ];
        for (er7, named) in cases {
            let error = read_offer(&parse(&er7)).unwrap_err().to_string();
            assert!(error.contains(named), "{named}: {error}");
        }
    }

    #[test]
    fn a_chunk_query_and_its_answers() {
        let query = chunk_query(&sender(), "OFFER-7", 16384, 16384, 1_796_292_900, "PFS9");
        assert_eq!(
            query.to_er7().split('\r').nth(1),
            Some("QPD|DRUGLIB_CHUNK^Drug library chunk^99PFS|PFS9|OFFER-7^16384^16384")
        );
        let answer = |msa: &str, qak: &str, echo: &str, obx: &str| {
            parse(&format!(
                "MSH|^~\\&|GW|HOSP|PERFUSE|HOSP|20261204100000||RSP^K11^RSP_K11|G9|P|2.6\r\
                 MSA|{msa}|PFS9\rQAK|PFS9|{qak}|DRUGLIB_CHUNK^Drug library chunk^99PFS|1|1|0\r\
                 QPD|DRUGLIB_CHUNK^Drug library chunk^99PFS|PFS9|{echo}{obx}"
            ))
        };
        let good = answer(
            "AA",
            "OK",
            "OFFER-7^16384^16384",
            "\rOBX|1|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|16384|^application^toml^Base64^aGVsbG8=||||||F",
        );
        assert_eq!(
            read_chunk(&good, "OFFER-7", 16384),
            Ok(Chunk::Bytes(b"hello".to_vec()))
        );
        let wrong_offset = read_chunk(&good, "OFFER-7", 0).unwrap_err().to_string();
        assert!(wrong_offset.contains("QPD-3"), "{wrong_offset}");
        let not_found = answer(
            "AE",
            "NF",
            "OFFER-7^16384^16384",
            "\rERR|||207^x^HL70357|E||||no such offer",
        );
        assert_eq!(
            read_chunk(&not_found, "OFFER-7", 16384),
            Ok(Chunk::Refused("no such offer".into()))
        );
        let pieces = answer(
            "AA",
            "OK",
            "OFFER-7^16384^16384",
            "\rOBX|1|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|16384|^application^toml^Base64^aGVs||||||F\
             \rOBX|2|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|16387|^application^toml^Base64^bG8=||||||F",
        );
        assert_eq!(
            read_chunk(&pieces, "OFFER-7", 16384),
            Ok(Chunk::Bytes(b"hello".to_vec()))
        );
        let gap = answer(
            "AA",
            "OK",
            "OFFER-7^16384^16384",
            "\rOBX|1|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|16384|^application^toml^Base64^aGVs||||||F\
             \rOBX|2|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|16390|^application^toml^Base64^bG8=||||||F",
        );
        let error = read_chunk(&gap, "OFFER-7", 16384).unwrap_err().to_string();
        assert!(error.contains("16387"), "{error}");
        let no_data = answer("AA", "OK", "OFFER-7^16384^16384", "");
        assert!(read_chunk(&no_data, "OFFER-7", 16384).is_err());
    }

    #[test]
    fn the_outcome_names_the_offer_and_the_reason() {
        let staged = offer_answer(
            &sender(),
            "G8",
            ("OFFER-7", "icu", "2026.12"),
            None,
            0,
            "PFS10",
        );
        let er7 = staged.to_er7();
        assert!(er7.contains("\rMSA|AA|G8\r"), "{er7}");
        assert!(er7.contains("\rMFA|MAD|OFFER-7||S^"), "{er7}");
        let refused = offer_answer(
            &sender(),
            "G8",
            ("OFFER-7", "icu", "2026.12"),
            Some("the signature does not match"),
            0,
            "PFS11",
        )
        .to_er7();
        assert!(refused.contains("\rMSA|AE|G8\rERR|"), "{refused}");
        assert!(refused.contains("the signature does not match"));
        assert!(refused.contains("\rMFA|MAD|OFFER-7||U^"));
    }
}
