//! A small, strict HL7 v2 reader and writer (ER7, the pipe-delimited form).
//!
//! Strict means: a message is refused whole, with an error that names the
//! segment, the field and what is allowed, when it
//! - is longer than `MAX_MESSAGE` bytes, is not UTF-8, or holds a control
//!   character other than the segment terminator (carriage return);
//! - does not open with an MSH segment using the standard separators
//!   `|^~\&`;
//! - has an empty segment, a segment name that is not three capitals or
//!   digits, more than `MAX_SEGMENTS` segments or `MAX_FIELDS` fields;
//! - has an escape sequence other than `\F\ \S\ \T\ \R\ \E\` and `\Xhh..\`.
//!
//! Nothing is guessed or repaired: the pump answers a refused message with
//! an error acknowledgement and acts on nothing in it.

use std::fmt::Write as _;

/// The longest message read, bytes (as the MLLP limit).
pub const MAX_MESSAGE: usize = crate::mllp::MAX_MESSAGE;
/// The most segments in one message: a PCD-03 order has about a dozen.
pub const MAX_SEGMENTS: usize = 200;
/// The most fields in one segment (OBX has 25, MSH 25 in v2.6).
pub const MAX_FIELDS: usize = 64;

const FIELD: char = '|';
const COMPONENT: char = '^';
const REPETITION: char = '~';
const ESCAPE: char = '\\';
const SUBCOMPONENT: char = '&';
const ENCODING: &str = "^~\\&";

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error("the message is {length} bytes, more than the {limit} allowed")]
    TooLong { length: usize, limit: usize },
    #[error("the message is not UTF-8 (at byte {at})")]
    NotUtf8 { at: usize },
    #[error("segment {segment} holds the control character 0x{byte:02X}; only printable text and a carriage return between segments are allowed")]
    ControlCharacter { segment: usize, byte: u8 },
    #[error("the message must open with an MSH segment (it opens with {found:?})")]
    NoHeader { found: String },
    #[error("MSH must give the separators |^~\\& (found {found:?})")]
    Separators { found: String },
    #[error("segment {segment} is empty (two carriage returns in a row)")]
    EmptySegment { segment: usize },
    #[error(
        "segment {segment} is named {found:?}; a segment name is three capital letters or digits"
    )]
    SegmentName { segment: usize, found: String },
    #[error("more than {limit} segments")]
    TooManySegments { limit: usize },
    #[error("segment {segment} ({name}) has more than {limit} fields")]
    TooManyFields {
        segment: usize,
        name: String,
        limit: usize,
    },
    #[error("{name}-{field} holds the escape {found:?}; allowed are \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\Xhh\\")]
    Escape {
        name: String,
        field: usize,
        found: String,
    },
    #[error("{name}-{field} ({what}) is missing")]
    Missing {
        name: String,
        field: usize,
        what: &'static str,
    },
    #[error("{name}-{field} ({what}) is {found:?}; {allowed}")]
    Invalid {
        name: String,
        field: usize,
        what: &'static str,
        found: String,
        allowed: String,
    },
    #[error("the message has no {name} segment ({what})")]
    NoSegment {
        name: &'static str,
        what: &'static str,
    },
}

/// One segment: `fields[n]` is field n (`fields[0]` the name; for MSH,
/// `fields[1]` is the field separator itself, as the standard numbers it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    fields: Vec<String>,
}

/// A message, read or to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    segments: Vec<Segment>,
}

impl Message {
    /// Reads `bytes` strictly (see the module's header).
    pub fn parse(bytes: &[u8]) -> Result<Message, Hl7Error> {
        if bytes.len() > MAX_MESSAGE {
            return Err(Hl7Error::TooLong {
                length: bytes.len(),
                limit: MAX_MESSAGE,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|error| Hl7Error::NotUtf8 {
            at: error.valid_up_to(),
        })?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if !text.starts_with("MSH") {
            return Err(Hl7Error::NoHeader {
                found: text.chars().take(8).collect(),
            });
        }
        let separators: String = text.chars().skip(3).take(5).collect();
        if !separators.starts_with('|') || separators.get(1..) != Some(ENCODING) {
            return Err(Hl7Error::Separators { found: separators });
        }
        let mut segments = Vec::new();
        for (index, line) in text.split('\r').enumerate() {
            let number = index + 1;
            if segments.len() >= MAX_SEGMENTS {
                return Err(Hl7Error::TooManySegments {
                    limit: MAX_SEGMENTS,
                });
            }
            if line.is_empty() {
                return Err(Hl7Error::EmptySegment { segment: number });
            }
            if let Some(byte) = line.bytes().find(|byte| byte.is_ascii_control()) {
                return Err(Hl7Error::ControlCharacter {
                    segment: number,
                    byte,
                });
            }
            segments.push(Segment::read(number, line)?);
        }
        Ok(Message { segments })
    }

    /// A message of `segments` (the first must be MSH).
    pub fn new(segments: Vec<Segment>) -> Message {
        Message { segments }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The first segment named `name`.
    pub fn first(&self, name: &'static str, what: &'static str) -> Result<&Segment, Hl7Error> {
        self.segments
            .iter()
            .find(|segment| segment.name() == name)
            .ok_or(Hl7Error::NoSegment { name, what })
    }

    /// Every segment named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments
            .iter()
            .filter(move |segment| segment.name() == name)
    }

    /// The header (a parsed message always has one).
    pub fn header(&self) -> Result<&Segment, Hl7Error> {
        self.first("MSH", "the message header")
    }

    /// The ER7 text, each segment ended by a carriage return.
    pub fn to_er7(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            segment.write(&mut out);
            out.push('\r');
        }
        out
    }
}

impl Segment {
    /// A segment named `name` with no fields yet (MSH gets its separators).
    pub fn new(name: &str) -> Segment {
        let mut fields = vec![name.to_owned()];
        if name == "MSH" {
            fields.push(FIELD.to_string());
            fields.push(ENCODING.to_owned());
        }
        Segment { fields }
    }

    fn read(number: usize, line: &str) -> Result<Segment, Hl7Error> {
        let name = line.get(..3).unwrap_or(line);
        let named = name.len() == 3
            && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let rest = line.get(3..).unwrap_or("");
        if !named || !(rest.is_empty() || rest.starts_with(FIELD)) {
            return Err(Hl7Error::SegmentName {
                segment: number,
                found: line.chars().take(8).collect(),
            });
        }
        let mut fields: Vec<String> = vec![name.to_owned()];
        if name == "MSH" {
            fields.push(FIELD.to_string());
        }
        let values = rest.strip_prefix(FIELD).unwrap_or(rest);
        if !rest.is_empty() {
            for value in values.split(FIELD) {
                if fields.len() > MAX_FIELDS {
                    return Err(Hl7Error::TooManyFields {
                        segment: number,
                        name: name.to_owned(),
                        limit: MAX_FIELDS,
                    });
                }
                fields.push(value.to_owned());
            }
        }
        let segment = Segment { fields };
        // MSH-2 holds the separators themselves, not escaped text.
        let first_text = if name == "MSH" { 3 } else { 1 };
        for (field, value) in segment.fields.iter().enumerate().skip(first_text) {
            check_escapes(value).map_err(|found| Hl7Error::Escape {
                name: name.to_owned(),
                field,
                found,
            })?;
        }
        Ok(segment)
    }

    pub fn name(&self) -> &str {
        self.fields.first().map_or("", String::as_str)
    }

    /// Field `n` as it stands on the wire (separators and escapes in it);
    /// empty when absent.
    pub fn raw(&self, n: usize) -> &str {
        self.fields.get(n).map_or("", String::as_str)
    }

    /// Component `c` (from 1) of the first repetition of field `n`, with
    /// its escapes undone; empty when absent.
    pub fn component(&self, n: usize, c: usize) -> String {
        let first = self.raw(n).split(REPETITION).next().unwrap_or("");
        let component = first
            .split(COMPONENT)
            .nth(c.saturating_sub(1))
            .unwrap_or("");
        unescape(component)
    }

    /// The first component of field `n`, unescaped.
    pub fn text(&self, n: usize) -> String {
        self.component(n, 1)
    }

    /// Component `c` of field `n`, or an error naming it when empty.
    pub fn required(&self, n: usize, c: usize, what: &'static str) -> Result<String, Hl7Error> {
        let value = self.component(n, c);
        if value.is_empty() {
            Err(Hl7Error::Missing {
                name: self.name().to_owned(),
                field: n,
                what,
            })
        } else {
            Ok(value)
        }
    }

    /// An error about field `n` of this segment.
    pub fn invalid(&self, n: usize, what: &'static str, allowed: impl Into<String>) -> Hl7Error {
        Hl7Error::Invalid {
            name: self.name().to_owned(),
            field: n,
            what,
            found: self.raw(n).to_owned(),
            allowed: allowed.into(),
        }
    }

    /// Sets field `n` to the components `parts`, each escaped.
    pub fn set(mut self, n: usize, parts: &[&str]) -> Segment {
        let mut value = String::new();
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                value.push(COMPONENT);
            }
            escape_into(part, &mut value);
        }
        if self.fields.len() <= n {
            self.fields.resize(n + 1, String::new());
        }
        if let Some(field) = self.fields.get_mut(n) {
            *field = value;
        }
        self
    }

    fn write(&self, out: &mut String) {
        let msh = self.name() == "MSH";
        for (index, field) in self.fields.iter().enumerate() {
            match (msh, index) {
                (_, 0) => out.push_str(field),
                // MSH-1 is the separator written before MSH-2.
                (true, 1) => {}
                _ => {
                    out.push(FIELD);
                    out.push_str(field);
                }
            }
        }
    }
}

/// `text` escaped for a component: the separators and the escape character
/// become `\F\ \S\ \R\ \T\ \E\`; a control character (never meaningful in a
/// pump's text) becomes a space.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

fn escape_into(text: &str, out: &mut String) {
    for character in text.chars() {
        match character {
            FIELD => out.push_str("\\F\\"),
            COMPONENT => out.push_str("\\S\\"),
            REPETITION => out.push_str("\\R\\"),
            SUBCOMPONENT => out.push_str("\\T\\"),
            ESCAPE => out.push_str("\\E\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Checks every escape in a field (an unknown one is the error's text).
fn check_escapes(raw: &str) -> Result<(), String> {
    let mut rest = raw;
    while let Some(start) = rest.find(ESCAPE) {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find(ESCAPE) else {
            return Err(after.chars().take(8).collect::<String>().replace('\r', ""));
        };
        let sequence = after.get(..end).unwrap_or("");
        let known = matches!(sequence, "F" | "S" | "T" | "R" | "E")
            || (sequence.len() >= 3
                && sequence.len() % 2 == 1
                && sequence.starts_with('X')
                && sequence.bytes().skip(1).all(|b| b.is_ascii_hexdigit()));
        if !known {
            return Err(format!("\\{sequence}\\"));
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    Ok(())
}

/// `raw` with its escapes undone (they were checked when the message was
/// read; a `\Xhh\` that is not UTF-8 becomes the replacement character).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut parts = raw.split(ESCAPE);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut escaped = true;
    for part in parts {
        if escaped {
            match part {
                "F" => out.push(FIELD),
                "S" => out.push(COMPONENT),
                "T" => out.push(SUBCOMPONENT),
                "R" => out.push(REPETITION),
                "E" => out.push(ESCAPE),
                hex => {
                    let bytes: Vec<u8> = hex
                        .get(1..)
                        .unwrap_or("")
                        .as_bytes()
                        .chunks(2)
                        .filter_map(|pair| {
                            std::str::from_utf8(pair)
                                .ok()
                                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                        })
                        .collect();
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        } else {
            out.push_str(part);
        }
        escaped = !escaped;
    }
    out
}

/// The HL7 timestamp (DTM, to the second, UTC) of `unix_seconds`.
pub fn timestamp(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let seconds = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(20);
    let _ = write!(
        out,
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}+0000",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    out
}

/// Reads an HL7 DTM to the second (`YYYYMMDDHHMMSS`, an optional
/// fraction, and an optional `+hhmm`/`-hhmm` offset, UTC if none) as Unix
/// seconds; None if it is not one.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let (main, offset) = match text.find(['+', '-']) {
        Some(at) => (text.get(..at)?, Some(text.get(at..)?)),
        None => (text, None),
    };
    let main = main.split('.').next()?;
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> { main.get(range)?.parse().ok() };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(8..10)?, number(10..12)?, number(12..14)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    if let Some(offset) = offset {
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let digits = offset.get(1..)?;
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i64 = digits.get(..2)?.parse().ok()?;
        let minutes: i64 = digits.get(2..)?.parse().ok()?;
        seconds -= sign * (hours * 3600 + minutes * 60);
    }
    Some(seconds)
}

/// Howard Hinnant's days-from-civil (proleptic Gregorian), and back.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORDER: &str = "MSH|^~\\&|BCMA|HOSP|PERFUSE|PUMP|20261203101500+0000||RGV^O15^RGV_O15|MSG0001|P|2.6\rPID|||12345^^^HOSP^MR||Doe^Jane\rRXG|1||||Heparin 25000 units\\S\\250 mL^Heparin|10||mL/h\r";

    #[test]
    fn a_message_reads_into_segments_fields_and_components() {
        let message = Message::parse(ORDER.as_bytes()).unwrap();
        let names: Vec<_> = message.segments().iter().map(Segment::name).collect();
        assert_eq!(names, ["MSH", "PID", "RXG"]);
        let header = message.header().unwrap();
        assert_eq!(header.raw(1), "|");
        assert_eq!(header.raw(2), "^~\\&");
        assert_eq!(header.text(3), "BCMA");
        assert_eq!(header.component(9, 3), "RGV_O15");
        assert_eq!(header.text(10), "MSG0001");
        let pid = message.first("PID", "the patient").unwrap();
        assert_eq!(pid.component(5, 2), "Jane");
        let rxg = message.first("RXG", "the give").unwrap();
        assert_eq!(rxg.text(5), "Heparin 25000 units^250 mL");
        assert_eq!(rxg.component(5, 2), "Heparin");
        assert_eq!(rxg.text(12), "");
    }

    #[test]
    fn written_text_reads_back_the_same() {
        let message = Message::new(vec![
            Segment::new("MSH")
                .set(3, &["PERFUSE"])
                .set(9, &["ORU", "R01", "ORU_R01"]),
            Segment::new("OBX").set(5, &["a|b^c~d\\e&f"]),
        ]);
        let er7 = message.to_er7();
        assert!(er7.starts_with("MSH|^~\\&|PERFUSE||||||ORU^R01^ORU_R01\r"));
        let back = Message::parse(er7.as_bytes()).unwrap();
        assert_eq!(back, message);
        assert_eq!(back.first("OBX", "").unwrap().text(5), "a|b^c~d\\e&f");
    }

    #[test]
    fn each_way_a_message_can_be_malformed_is_refused_by_name() {
        let cases: Vec<(Vec<u8>, Hl7Error)> = vec![
            (
                b"PID|1".to_vec(),
                Hl7Error::NoHeader {
                    found: "PID|1".into(),
                },
            ),
            (
                b"MSH|^~\\#|A".to_vec(),
                Hl7Error::Separators {
                    found: "|^~\\#".into(),
                },
            ),
            (
                b"MSH#^~\\&|A".to_vec(),
                Hl7Error::Separators {
                    found: "#^~\\&".into(),
                },
            ),
            (
                b"MSH|^~\\&|A\r\rPID|1".to_vec(),
                Hl7Error::EmptySegment { segment: 2 },
            ),
            (
                b"MSH|^~\\&|A\rpid|1".to_vec(),
                Hl7Error::SegmentName {
                    segment: 2,
                    found: "pid|1".into(),
                },
            ),
            (
                b"MSH|^~\\&|A\rPIDX|1".to_vec(),
                Hl7Error::SegmentName {
                    segment: 2,
                    found: "PIDX|1".into(),
                },
            ),
            (
                b"MSH|^~\\&|A\rPID|1\n".to_vec(),
                Hl7Error::ControlCharacter {
                    segment: 2,
                    byte: b'\n',
                },
            ),
            (b"MSH|^~\\&|A\xff".to_vec(), Hl7Error::NotUtf8 { at: 10 }),
            (
                b"MSH|^~\\&|A\rPID|\\Q\\".to_vec(),
                Hl7Error::Escape {
                    name: "PID".into(),
                    field: 1,
                    found: "\\Q\\".into(),
                },
            ),
            (
                b"MSH|^~\\&|A\rPID|x\\F".to_vec(),
                Hl7Error::Escape {
                    name: "PID".into(),
                    field: 1,
                    found: "F".into(),
                },
            ),
        ];
        for (bytes, error) in cases {
            assert_eq!(
                Message::parse(&bytes),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let many = format!("MSH|^~\\&|A{}", "\rNTE|1".repeat(MAX_SEGMENTS));
        assert_eq!(
            Message::parse(many.as_bytes()),
            Err(Hl7Error::TooManySegments {
                limit: MAX_SEGMENTS
            })
        );
        let wide = format!("MSH|^~\\&|A\rOBX{}", "|".repeat(MAX_FIELDS + 1));
        assert!(matches!(
            Message::parse(wide.as_bytes()),
            Err(Hl7Error::TooManyFields { segment: 2, .. })
        ));
        let long = vec![b'A'; MAX_MESSAGE + 1];
        assert!(matches!(
            Message::parse(&long),
            Err(Hl7Error::TooLong { .. })
        ));
    }

    #[test]
    fn timestamps_read_and_write_in_utc() {
        assert_eq!(timestamp(0), "19700101000000+0000");
        assert_eq!(timestamp(1_796_292_900), "20261203101500+0000");
        assert_eq!(parse_timestamp("20261203101500+0000"), Some(1_796_292_900));
        assert_eq!(parse_timestamp("20261203111500+0100"), Some(1_796_292_900));
        assert_eq!(parse_timestamp("20261203101500.123"), Some(1_796_292_900));
        for bad in [
            "2026120310150",
            "20261303101500",
            "2026120310150x",
            "20261203101500+01",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    proptest! {
        /// No input makes the reader panic, and text the writer escaped
        /// always reads back as written.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut message = b"MSH|^~\\&|".to_vec();
            message.extend_from_slice(&bytes);
            let _ = Message::parse(&message);
            let _ = Message::parse(&bytes);
        }

        #[test]
        fn escaped_text_round_trips(text in "\\PC{0,60}") {
            let message = Message::new(vec![Segment::new("MSH"), Segment::new("NTE").set(3, &[&text])]);
            let back = Message::parse(message.to_er7().as_bytes()).unwrap();
            prop_assert_eq!(back.first("NTE", "").unwrap().text(3), text);
        }

        #[test]
        fn timestamps_round_trip(seconds in 0_i64..4_102_444_800) {
            prop_assert_eq!(parse_timestamp(&timestamp(seconds)), Some(seconds));
        }
    }
}
