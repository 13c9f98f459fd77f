//! MLLP, the HL7 Minimal Lower Layer Protocol (HL7 v2.5.1 Appendix C): each
//! message travels as `<VT> message <FS><CR>` (0x0B, then 0x1C 0x0D).
//!
//! The decoder is strict and bounded. It holds at most `limit` bytes of one
//! frame; a frame that would grow past that, bytes outside a frame, a start
//! byte inside a frame, or an end byte not followed by a carriage return is
//! a typed error, counted, and the decoder hunts for the next start byte.
//! Nothing a peer sends can make it hold more, or stop it from finding the
//! next good frame.

/// Start block (VT).
pub const START: u8 = 0x0B;
/// End block (FS), followed by `CR`.
pub const END: u8 = 0x1C;
pub const CR: u8 = 0x0D;

/// The longest message Perfuse accepts, bytes: a PCD-03 order or a library
/// offer is well under 4 KiB; 64 KiB leaves room for a verbose peer and is
/// still a fixed cost.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Why bytes were thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{bytes} bytes outside a frame (a frame starts with 0x0B)")]
    OutsideFrame { bytes: usize },
    #[error("a frame longer than {limit} bytes (the most Perfuse accepts)")]
    TooLong { limit: usize },
    #[error("a start byte 0x0B inside a frame (the frame before it had no end 0x1C 0x0D)")]
    StartInsideFrame,
    #[error("the end byte 0x1C followed by 0x{found:02X}, not 0x0D")]
    BadEnd { found: u8 },
    #[error("an empty frame")]
    Empty,
}

/// Counters of what the decoder saw; they only ever count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts {
    pub frames: u64,
    pub rejected: u64,
    pub discarded_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: waiting for a start byte.
    Hunting { skipped: usize },
    /// Inside a frame, `buffer` holds its bytes so far.
    InFrame,
    /// The end byte seen: a carriage return must follow (`overflowed`: the
    /// frame was already refused as too long).
    Ending { overflowed: bool },
    /// A frame grew too long: skipping to its end (or the next start).
    Overflowing,
}

/// An MLLP stream decoder with a fixed buffer.
pub struct Decoder {
    buffer: Vec<u8>,
    limit: usize,
    state: State,
    pub counts: FrameCounts,
}

impl Decoder {
    /// A decoder that accepts frames of up to `limit` bytes (at most
    /// `MAX_MESSAGE`); it allocates its whole buffer now.
    pub fn new(limit: usize) -> Decoder {
        let limit = limit.clamp(1, MAX_MESSAGE);
        Decoder {
            buffer: Vec::with_capacity(limit),
            limit,
            state: State::Hunting { skipped: 0 },
            counts: FrameCounts::default(),
        }
    }

    /// Feeds `bytes` from the stream; `on` gets each whole frame's content
    /// (between the start and end bytes) or the error that dropped bytes,
    /// in stream order.
    pub fn push(&mut self, bytes: &[u8], mut on: impl FnMut(Result<&[u8], FrameError>)) {
        for &byte in bytes {
            self.state = match self.state {
                State::Hunting { skipped } => {
                    if byte == START {
                        self.report_skipped(skipped, &mut on);
                        self.buffer.clear();
                        State::InFrame
                    } else {
                        State::Hunting {
                            skipped: skipped.saturating_add(1),
                        }
                    }
                }
                State::InFrame => match byte {
                    END => State::Ending { overflowed: false },
                    START => {
                        self.reject(FrameError::StartInsideFrame, &mut on);
                        self.buffer.clear();
                        State::InFrame
                    }
                    _ if self.buffer.len() >= self.limit => {
                        self.reject(FrameError::TooLong { limit: self.limit }, &mut on);
                        self.buffer.clear();
                        State::Overflowing
                    }
                    _ => {
                        self.buffer.push(byte);
                        State::InFrame
                    }
                },
                State::Ending { overflowed: true } => {
                    if byte == START {
                        State::InFrame
                    } else {
                        State::Hunting {
                            skipped: usize::from(byte != CR),
                        }
                    }
                }
                State::Ending { overflowed: false } => {
                    if byte == CR {
                        if self.buffer.is_empty() {
                            self.reject(FrameError::Empty, &mut on);
                        } else {
                            self.counts.frames += 1;
                            on(Ok(&self.buffer));
                        }
                    } else {
                        self.reject(FrameError::BadEnd { found: byte }, &mut on);
                    }
                    self.buffer.clear();
                    if byte == START {
                        State::InFrame
                    } else {
                        State::Hunting { skipped: 0 }
                    }
                }
                State::Overflowing => match byte {
                    START => State::InFrame,
                    END => State::Ending { overflowed: true },
                    _ => {
                        self.counts.discarded_bytes += 1;
                        State::Overflowing
                    }
                },
            };
        }
        // A run of garbage is reported once the next frame starts, or now if
        // it is long: a stream of nothing but garbage is still counted.
        if let State::Hunting { skipped } = self.state {
            if skipped >= self.limit {
                self.report_skipped(skipped, &mut on);
                self.state = State::Hunting { skipped: 0 };
            }
        }
    }

    /// Bytes held for a frame not yet ended (a slowloris peer shows here).
    pub fn pending(&self) -> usize {
        match self.state {
            State::InFrame | State::Ending { .. } => self.buffer.len(),
            State::Hunting { .. } | State::Overflowing => 0,
        }
    }

    fn report_skipped(&mut self, skipped: usize, on: &mut impl FnMut(Result<&[u8], FrameError>)) {
        if skipped > 0 {
            self.counts.discarded_bytes += skipped as u64;
            self.counts.rejected += 1;
            on(Err(FrameError::OutsideFrame { bytes: skipped }));
        }
    }

    fn reject(&mut self, error: FrameError, on: &mut impl FnMut(Result<&[u8], FrameError>)) {
        self.counts.rejected += 1;
        self.counts.discarded_bytes += self.buffer.len() as u64;
        on(Err(error));
    }
}

/// Frames `message` for the wire. The message must not hold the framing
/// bytes themselves (HL7 text never does: the writer escapes nothing into
/// them, and `hl7` refuses control characters).
pub fn frame(message: &[u8], out: &mut Vec<u8>) {
    out.reserve(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.push(END);
    out.push(CR);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut out = Vec::new();
        decoder.push(bytes, |item| out.push(item.map(<[u8]>::to_vec)));
        out
    }

    #[test]
    fn frames_are_found_across_any_split() {
        let mut wire = Vec::new();
        frame(b"MSH|one", &mut wire);
        frame(b"MSH|two", &mut wire);
        for split in 0..wire.len() {
            let mut decoder = Decoder::new(100);
            let (a, b) = wire.split_at(split);
            let mut got = decode(&mut decoder, a);
            got.extend(decode(&mut decoder, b));
            assert_eq!(got, vec![Ok(b"MSH|one".to_vec()), Ok(b"MSH|two".to_vec())]);
            assert_eq!(decoder.counts.frames, 2);
            assert_eq!(decoder.counts.rejected, 0);
        }
    }

    #[test]
    fn each_kind_of_bad_framing_is_named_and_the_next_frame_still_arrives() {
        let mut decoder = Decoder::new(8);
        let mut cases: Vec<(&[u8], FrameError)> = vec![
            (b"junk\x0bA\x1c\x0d", FrameError::OutsideFrame { bytes: 4 }),
            (b"\x0bhalf\x0bA\x1c\x0d", FrameError::StartInsideFrame),
            (
                b"\x0bhalf\x1cX\x0bA\x1c\x0d",
                FrameError::BadEnd { found: b'X' },
            ),
            (b"\x0b\x1c\x0d\x0bA\x1c\x0d", FrameError::Empty),
        ];
        cases.push((
            b"\x0b123456789\x1c\x0d\x0bA\x1c\x0d",
            FrameError::TooLong { limit: 8 },
        ));
        for (bytes, error) in cases {
            let got = decode(&mut decoder, bytes);
            assert_eq!(got, vec![Err(error), Ok(b"A".to_vec())], "{bytes:?}");
        }
    }

    #[test]
    fn a_trickled_frame_is_held_only_up_to_the_limit() {
        let mut decoder = Decoder::new(16);
        let mut got = decode(&mut decoder, &[START]);
        for _ in 0..1000 {
            got.extend(decode(&mut decoder, b"x"));
            assert!(decoder.pending() <= 16);
        }
        assert_eq!(got, vec![Err(FrameError::TooLong { limit: 16 })]);
        assert!(decoder.buffer.capacity() <= 16);
    }

    #[test]
    fn a_stream_of_garbage_is_counted_without_waiting_for_a_frame() {
        let mut decoder = Decoder::new(64);
        let got = decode(&mut decoder, &[b'z'; 200]);
        assert_eq!(got, vec![Err(FrameError::OutsideFrame { bytes: 200 })]);
        assert_eq!(decoder.counts.discarded_bytes, 200);
    }

    proptest! {
        /// Whatever comes before it, a well-framed message is received
        /// whole once the stream is back in step, and the buffer never
        /// passes its limit.
        #[test]
        fn garbage_never_hides_the_next_good_frame(
            garbage in proptest::collection::vec(any::<u8>(), 0..300),
            body in "[A-Z|^]{1,40}",
        ) {
            let mut decoder = Decoder::new(64);
            let mut wire = garbage.clone();
            // A start byte resynchronises even an unfinished frame; an end
            // block closes an overflow.
            wire.extend_from_slice(&[END, CR]);
            frame(body.as_bytes(), &mut wire);
            let got = decode(&mut decoder, &wire);
            prop_assert_eq!(got.last(), Some(&Ok(body.as_bytes().to_vec())));
            prop_assert!(decoder.buffer.capacity() <= 64);
        }
    }
}
