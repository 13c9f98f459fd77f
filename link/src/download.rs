//! One drug library fetched from the gateway in bounded chunks, in order,
//! and checked against its offer: every byte, then the size and the
//! SHA-256 announced. The buffer is allocated once, at the announced size
//! (at most `MAX_LIBRARY`), and never grows past it.
//!
//! A chunk that is unreadable or not the bytes asked for is asked again; a
//! library whose hash does not match is fetched once more from the start
//! (a byte damaged on the way); past `MAX_FAILURES` the download is
//! abandoned with the reason.

use sha2::{Digest, Sha256};

use crate::local::LibraryOffer;
use crate::pcd::{Chunk, CHUNK};

/// Failed chunks and failed whole-file checks one download may have.
pub const MAX_FAILURES: u32 = 3;
/// Whole downloads (the first and one more) before a hash mismatch is final.
pub const MAX_ATTEMPTS: u32 = 2;

/// A library being fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The control id of the MFN^M01 that offered it (the MFK answers it).
    pub message: String,
    pub offer: LibraryOffer,
    data: Vec<u8>,
    failures: u32,
    attempts: u32,
}

/// Where a download stands after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Ask for the next chunk (or the same one again).
    More,
    /// Every byte arrived and matched: the library.
    Done(Vec<u8>),
    /// Abandoned: why, for the hospital.
    Abandoned(String),
}

impl Download {
    pub fn new(message: String, offer: LibraryOffer) -> Download {
        let size = offer.size as usize;
        Download {
            message,
            offer,
            data: Vec::with_capacity(size),
            failures: 0,
            attempts: 1,
        }
    }

    /// The next chunk to ask for: its offset and length.
    pub fn request(&self) -> (u32, u32) {
        let offset = self.data.len();
        let left = (self.offer.size as usize).saturating_sub(offset);
        (
            u32::try_from(offset).unwrap_or(u32::MAX),
            u32::try_from(left.min(CHUNK)).unwrap_or(0),
        )
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.data.len()
    }

    fn failed(&mut self, why: String) -> Progress {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            Progress::Abandoned(format!(
                "the download failed {} times, last: {why}",
                self.failures
            ))
        } else {
            Progress::More
        }
    }

    /// The gateway's answer to the request for `asked` (offset, length),
    /// or why it could not be read.
    pub fn answer(&mut self, asked: (u32, u32), answer: Result<Chunk, String>) -> Progress {
        let (offset, length) = asked;
        if (offset, length) != self.request() {
            return self.failed(format!(
                "an answer for byte {offset}, while byte {} was due",
                self.data.len()
            ));
        }
        let bytes = match answer {
            Ok(Chunk::Bytes(bytes)) => bytes,
            Ok(Chunk::Refused(why)) => {
                return Progress::Abandoned(format!("the gateway refused the download: {why}"))
            }
            Err(why) => return self.failed(format!("the chunk at byte {offset}: {why}")),
        };
        if bytes.len() != length as usize {
            return self.failed(format!(
                "the chunk at byte {offset} held {} bytes, {length} were asked for",
                bytes.len()
            ));
        }
        self.data.extend_from_slice(&bytes);
        if self.data.len() < self.offer.size as usize {
            return Progress::More;
        }
        let found = hex::encode(Sha256::digest(&self.data));
        if found == self.offer.sha256 {
            return Progress::Done(std::mem::take(&mut self.data));
        }
        let why = format!(
            "the SHA-256 of the {} bytes received is {found}; the offer announced {}",
            self.data.len(),
            self.offer.sha256
        );
        if self.attempts >= MAX_ATTEMPTS {
            return Progress::Abandoned(why);
        }
        self.attempts += 1;
        self.data.clear();
        tracing::warn!("{why}: fetching it again from the start");
        Progress::More
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(bytes: &[u8]) -> LibraryOffer {
        LibraryOffer {
            offer_id: "OFFER-7".into(),
            name: "icu".into(),
            version: "2026.12".into(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u32,
            signature: "c2ln".into(),
        }
    }

    fn library() -> Vec<u8> {
        (0..40_000_u32).map(|n| (n % 251) as u8).collect()
    }

    fn serve(download: &mut Download, file: &[u8]) -> Progress {
        let (offset, length) = download.request();
        let end = (offset + length) as usize;
        download.answer(
            (offset, length),
            Ok(Chunk::Bytes(file[offset as usize..end].to_vec())),
        )
    }

    #[test]
    fn a_library_arrives_in_chunks_of_at_most_16_kib_and_is_checked_whole() {
        let file = library();
        let mut download = Download::new("G8".into(), offer(&file));
        let mut asked = Vec::new();
        loop {
            asked.push(download.request());
            match serve(&mut download, &file) {
                Progress::More => continue,
                Progress::Done(bytes) => {
                    assert_eq!(bytes, file);
                    break;
                }
                Progress::Abandoned(why) => panic!("{why}"),
            }
        }
        assert_eq!(asked, [(0, 16384), (16384, 16384), (32768, 7232)]);
    }

    #[test]
    fn a_short_or_unreadable_chunk_is_asked_again_then_the_download_is_abandoned() {
        let file = library();
        let mut download = Download::new("G8".into(), offer(&file));
        assert_eq!(
            download.answer((0, 16384), Ok(Chunk::Bytes(vec![0; 100]))),
            Progress::More
        );
        assert_eq!(download.request(), (0, 16384));
        assert_eq!(
            download.answer((0, 16384), Err("not base64".into())),
            Progress::More
        );
        match download.answer((0, 16384), Ok(Chunk::Bytes(vec![]))) {
            Progress::Abandoned(why) => assert!(why.contains("3 times"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_hash_is_fetched_once_more_then_refused() {
        let file = library();
        let mut announced = offer(&file);
        announced.sha256 = "00".repeat(32);
        let mut download = Download::new("G8".into(), announced);
        let mut outcomes = Vec::new();
        for _ in 0..10 {
            let progress = serve(&mut download, &file);
            let finished = !matches!(progress, Progress::More);
            outcomes.push(progress);
            if finished {
                break;
            }
        }
        // Three chunks, again three chunks, then the refusal.
        assert_eq!(outcomes.len(), 6);
        match outcomes.last() {
            Some(Progress::Abandoned(why)) => {
                assert!(why.contains("the offer announced 0000"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_byte_damaged_on_the_way_is_fixed_by_the_second_download() {
        let file = library();
        let mut download = Download::new("G8".into(), offer(&file));
        let mut damaged = file.clone();
        damaged[20_000] ^= 1;
        for _ in 0..3 {
            assert_eq!(serve(&mut download, &damaged), Progress::More);
        }
        assert_eq!(download.received(), 0);
        let mut last = Progress::More;
        for _ in 0..3 {
            last = serve(&mut download, &file);
        }
        assert_eq!(last, Progress::Done(file));
    }

    #[test]
    fn a_refusal_from_the_gateway_ends_the_download() {
        let file = library();
        let mut download = Download::new("G8".into(), offer(&file));
        assert!(matches!(
            download.answer((0, 16384), Ok(Chunk::Refused("no such offer".into()))),
            Progress::Abandoned(why) if why.contains("no such offer")
        ));
    }
}
