//! Whatever a gateway sends: the MLLP decoder, then the HL7 reader on every
//! frame, then each reading of a message the pump does (its type, an
//! acknowledgement, an order, a library offer, a library chunk). None may panic, and the decoder may never
//! hold more than its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfuse_link::hl7::Message;
use perfuse_link::local::MAX_LIBRARY;
use perfuse_link::mllp::{Decoder, MAX_MESSAGE};
use perfuse_link::pcd;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(4096);
    let mut frames = Vec::new();
    // Fed in two parts, as a stream arrives.
    let (first, second) = data.split_at(data.len() / 2);
    for part in [first, second] {
        decoder.push(part, |frame| {
            if let Ok(frame) = frame {
                frames.push(frame.to_vec());
            }
        });
        assert!(decoder.pending() <= 4096);
    }
    // The whole input as one message too, and each frame.
    frames.push(data.to_vec());
    for frame in frames {
        assert!(frame.len() <= MAX_MESSAGE.max(data.len()));
        if let Ok(message) = Message::parse(&frame) {
            let _ = pcd::message_type(&message);
            let _ = pcd::control_id(&message);
            let _ = pcd::read_acknowledgement(&message);
            let _ = pcd::read_order(&message);
            if let Ok(offer) = pcd::read_offer(&message) {
                assert!((1..=MAX_LIBRARY).contains(&(offer.size as usize)));
                assert_eq!(offer.sha256.len(), 64);
            }
            if let Ok(pcd::Chunk::Bytes(bytes)) = pcd::read_chunk(&message, "OFFER-7", 0) {
                assert!(bytes.len() <= pcd::CHUNK, "a chunk past its limit");
            }
            let again = Message::parse(message.to_er7().as_bytes());
            assert_eq!(
                again.as_ref().ok(),
                Some(&message),
                "a message read back differs"
            );
        }
    }
});
