//! A library download driven by whatever a gateway answers: chunks of any
//! length, for any offset, refusals and unreadable answers, in any order.
//! The download never holds more than the announced size, and only ever
//! finishes with exactly the bytes whose SHA-256 the offer announced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfuse_link::download::{Download, Progress};
use perfuse_link::local::LibraryOffer;
use perfuse_link::pcd::Chunk;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let Some((head, mut rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let size = 1 + (u16::from_le_bytes(*head) as usize % 40_000);
    // The true library: the announced hash is of these bytes.
    let library: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let offer = LibraryOffer {
        offer_id: "OFFER-7".into(),
        name: "icu".into(),
        version: "1".into(),
        sha256: hex::encode(Sha256::digest(&library)),
        size: size as u32,
        signature: "c2ln".into(),
    };
    let mut download = Download::new("M1".into(), offer);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let asked = download.request();
        let answer = match op % 5 {
            // The bytes asked for, true.
            0 | 1 => {
                let (offset, length) = (asked.0 as usize, asked.1 as usize);
                Ok(Chunk::Bytes(library[offset..offset + length].to_vec()))
            }
            // The bytes asked for, one flipped.
            2 => {
                let (offset, length) = (asked.0 as usize, asked.1 as usize);
                let mut bytes = library[offset..offset + length].to_vec();
                if let Some(byte) = bytes.get_mut(usize::from(op) % length.max(1)) {
                    *byte ^= 1;
                }
                Ok(Chunk::Bytes(bytes))
            }
            // Some of the input, as any chunk.
            3 => {
                let take = usize::from(op).min(rest.len());
                let (bytes, tail) = rest.split_at(take);
                rest = tail;
                Ok(Chunk::Bytes(bytes.to_vec()))
            }
            _ => Err("unreadable".to_owned()),
        };
        // Sometimes answered for another request than the one asked.
        let asked = if op & 0x80 != 0 {
            (asked.0 ^ 1, asked.1)
        } else {
            asked
        };
        match download.answer(asked, answer) {
            Progress::More => assert!(download.received() <= size),
            Progress::Done(bytes) => {
                assert_eq!(bytes, library, "finished with other bytes");
                return;
            }
            Progress::Abandoned(why) => {
                assert!(!why.is_empty());
                return;
            }
        }
    }
});
