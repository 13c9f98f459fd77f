use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::local::{Mode, Status, ToApp};

fn limits() -> Limits {
    Limits {
        ack: Duration::from_millis(400),
        write: Duration::from_millis(400),
        frame: Duration::from_millis(400),
        status_every: Duration::from_secs(60),
    }
}

fn session() -> Session {
    Session::new(
        Sender {
            pump_id: "PERFUSE-0001".into(),
            facility: "HOSP".into(),
        },
        limits(),
    )
}

fn status(at: i64) -> Status {
    Status {
        sequence: 1,
        at,
        platform: "Perfuse S50 syringe".into(),
        mode: Mode::Delivering,
        rate: "25".parse().unwrap(),
        vtbi: None,
        delivered: "0".parse().unwrap(),
        remaining: None,
        drug: None,
        library: None,
        alarms: vec![],
    }
}

/// The gateway's end of the connection.
struct Peer {
    stream: DuplexStream,
    decoder: Decoder,
    frames: std::collections::VecDeque<Vec<u8>>,
}

impl Peer {
    async fn next(&mut self) -> Message {
        let mut buffer = [0_u8; 4096];
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Message::parse(&frame).unwrap();
            }
            let frames = &mut self.frames;
            let count = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buffer))
                .await
                .expect("a message from the pump")
                .unwrap();
            assert!(count > 0, "the pump closed the connection");
            self.decoder.push(&buffer[..count], |frame| {
                frames.push_back(frame.unwrap().to_vec())
            });
        }
    }

    async fn send(&mut self, er7: &str) {
        let mut wire = Vec::new();
        mllp::frame(er7.as_bytes(), &mut wire);
        self.stream.write_all(&wire).await.unwrap();
    }

    async fn ack(&mut self, message: &Message) {
        let id = message.header().unwrap().text(10);
        self.send(&format!(
            "MSH|^~\\&|GW|HOSP|||20261203101500||ACK^R01^ACK|G{id}|P|2.6\rMSA|CA|{id}"
        ))
        .await;
    }
}

fn start(shared: Arc<Shared>) -> (Peer, tokio::task::JoinHandle<End>) {
    let (pump, gateway) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        let mut seen = Seen::new(16);
        session().serve(pump, &shared, &mut seen).await
    });
    (
        Peer {
            stream: gateway,
            decoder: Decoder::new(mllp::MAX_MESSAGE),
            frames: Default::default(),
        },
        task,
    )
}

/// An order from the IHE example, for this pump, sent now.
fn order(id: &str, pump: &str) -> String {
    let now = crate::hl7::timestamp(now());
    crate::pcd::tests::ORDER
        .replace("20261203092000+0000", &now)
        .replace("ORD777", id)
        .replace("MSG0003", &format!("M{id}"))
        .replace("PERFUSE-0001^^PERFUSE-0001", &format!("{pump}^^{pump}"))
}

#[tokio::test]
async fn a_status_goes_out_and_the_next_waits_for_its_acknowledgement() {
    let shared = Arc::new(Shared::new());
    shared.status(status(1));
    let (mut peer, _task) = start(shared.clone());
    let first = peer.next().await;
    assert_eq!(first.header().unwrap().raw(9), "ORU^R01^ORU_R01");
    shared.status(status(2));
    // Not acknowledged yet: nothing more comes.
    let mut buffer = [0_u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(150), peer.stream.read(&mut buffer))
            .await
            .is_err()
    );
    peer.ack(&first).await;
    let second = peer.next().await;
    assert_eq!(second.header().unwrap().raw(9), "ORU^R01^ORU_R01");
    assert_eq!(shared.lock().health.messages_sent, 1);
}

#[tokio::test]
async fn an_order_is_acknowledged_passed_to_the_app_and_answered_when_the_nurse_confirms() {
    let shared = Arc::new(Shared::new());
    shared.lock().app_connected = true;
    let (mut peer, _task) = start(shared.clone());
    peer.send(&order("O1", "PERFUSE-0001")).await;
    let ack = peer.next().await;
    assert_eq!(ack.header().unwrap().raw(9), "ACK^O15^ACK");
    assert_eq!(ack.first("MSA", "").unwrap().text(1), "CA");
    let to_app = shared.lock().to_app.pop();
    match to_app {
        Some(ToApp::Order { order }) => assert_eq!(order.order_id, "O1"),
        other => panic!("{other:?}"),
    }
    shared.answer("O1".into(), OrderOutcome::Shown);
    shared.answer("O1".into(), OrderOutcome::Confirmed);
    let answer = peer.next().await;
    assert_eq!(answer.header().unwrap().raw(9), "RRG^O16^RRG_O16");
    let msa = answer.first("MSA", "").unwrap();
    assert_eq!((msa.text(1), msa.text(2)), ("AA".into(), "MO1".into()));
}

#[tokio::test]
async fn orders_for_another_pump_replayed_or_unreadable_are_refused_with_reasons() {
    let shared = Arc::new(Shared::new());
    shared.lock().app_connected = true;
    let (mut peer, _task) = start(shared.clone());
    peer.send(&order("O2", "PERFUSE-0002")).await;
    assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
    let refusal = peer.next().await;
    assert_eq!(refusal.first("MSA", "").unwrap().text(1), "AR");
    assert!(refusal
        .first("ERR", "")
        .unwrap()
        .text(8)
        .contains("PERFUSE-0002"));
    peer.ack(&refusal).await;

    peer.send(&order("O3", "PERFUSE-0001")).await;
    assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
    peer.send(&order("O3", "PERFUSE-0001").replace("MO3", "MO3b"))
        .await;
    assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
    let replay = peer.next().await;
    assert!(
        replay
            .first("ERR", "")
            .unwrap()
            .text(8)
            .contains("already received"),
        "{replay:?}"
    );
    peer.ack(&replay).await;

    peer.send(&order("O4", "PERFUSE-0001").replace("|5|265619^", "|fast|265619^"))
        .await;
    let unreadable = peer.next().await;
    assert_eq!(unreadable.first("MSA", "").unwrap().text(1), "CE");
    assert!(unreadable
        .first("ERR", "")
        .unwrap()
        .text(8)
        .contains("RXG-15"));
    // Only O3 reached the app.
    let orders: Vec<_> = std::iter::from_fn(|| shared.lock().to_app.pop()).collect();
    assert_eq!(orders.len(), 1);
}

#[tokio::test]
async fn garbage_is_counted_a_readable_header_gets_the_reason_and_the_connection_stays() {
    let shared = Arc::new(Shared::new());
    let (mut peer, task) = start(shared.clone());
    peer.stream
        .write_all(b"\x00\xffnot hl7 at all\x0bNOPE\x1c\x0d")
        .await
        .unwrap();
    peer.send("MSH|^~\\&|GW|HOSP|||20261203101500||ADT^A01^ADT_A01|X1|P|2.6\rPID|\\Q\\")
        .await;
    let refused = peer.next().await;
    assert_eq!(refused.first("MSA", "").unwrap().text(1), "CE");
    assert!(refused.first("ERR", "").unwrap().text(8).contains("escape"));
    peer.send("MSH|^~\\&|GW|HOSP|||20261203101500||ADT^A01^ADT_A01|X2|P|2.6\rPID|1")
        .await;
    let unsupported = peer.next().await;
    assert_eq!(unsupported.first("MSA", "").unwrap().text(1), "CR");
    assert!(shared.lock().health.messages_refused >= 3);
    assert!(!task.is_finished());
}

#[tokio::test]
async fn acknowledgements_of_the_links_own_messages_do_not_count_against_the_gateways_rate() {
    // 120 status changes in well under a second, each acknowledged at once:
    // every one is delivered on the same connection (counted, the 51st
    // waited out the acknowledgement deadline and the connection dropped).
    let shared = Arc::new(Shared::new());
    let (mut peer, task) = start(shared.clone());
    let started = std::time::Instant::now();
    for at in 0..120 {
        // A change each time (a status of progress alone waits for the
        // periodic one).
        let mut changed = status(at);
        if at % 2 == 1 {
            changed.mode = Mode::Paused;
        }
        shared.status(changed);
        let message = peer.next().await;
        assert_eq!(message.header().unwrap().text(9), "ORU");
        peer.ack(&message).await;
    }
    // The last acknowledgement is taken in.
    let settle = std::time::Instant::now();
    while shared.lock().health.messages_sent < 120 && settle.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(shared.lock().health.messages_sent, 120);
    assert_eq!(shared.lock().health.messages_refused, 0);
    assert!(!task.is_finished(), "the connection ended");
}

#[tokio::test]
async fn a_gateway_that_does_not_acknowledge_trickles_or_floods_is_disconnected() {
    let shared = Arc::new(Shared::new());
    shared.status(status(1));
    let (mut peer, task) = start(shared.clone());
    peer.next().await;
    assert_eq!(task.await.unwrap(), End::NoAcknowledgement);
    // The unacknowledged status is due again for the next connection.
    assert!(matches!(
        shared.next_outbound(false),
        Some(Outbound::Status(_))
    ));

    let shared = Arc::new(Shared::new());
    let (mut peer, task) = start(shared.clone());
    peer.stream.write_all(b"\x0bMSH|^~\\&|GW").await.unwrap();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = peer.stream.write_all(b"|").await;
    }
    assert_eq!(task.await.unwrap(), End::Trickle);

    let shared = Arc::new(Shared::new());
    let (mut peer, task) = start(shared.clone());
    let mut flood = Vec::new();
    for n in 0..(MESSAGES_PER_SECOND * 10 + 5) {
        mllp::frame(
            format!("MSH|^~\\&|GW|HOSP|||20261203101500||ACK^R01^ACK|F{n}|P|2.6\rMSA|CA|none")
                .as_bytes(),
            &mut flood,
        );
    }
    let _ = peer.stream.write_all(&flood).await;
    assert_eq!(task.await.unwrap(), End::Flood);
}

mod library {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::daemon::shared::LibraryJob;
    use crate::local::LibraryOutcome;

    fn offer(id: &str, sha: &str, size: usize) -> String {
        format!(
            "MSH|^~\\&|GW|HOSP|PERFUSE|HOSP|20261204100000||MFN^M01^MFN_M01|M{id}|P|2.6\r\
             MFI|DRUGLIB^Drug library^99PFS||UPD|||AL\r\
             MFE|MAD|{id}|20261204100000|icu-library^2026.12|CWE\r\
             OBX|1|ST|LIBRARY_SHA256^Drug library SHA-256^99PFS||{sha}||||||F\r\
             OBX|2|NM|LIBRARY_SIZE^Drug library size^99PFS||{size}|By^byte^UCUM|||||F\r\
             OBX|3|ED|LIBRARY_SIGNATURE^Drug library signature^99PFS||^text^plain^Base64^c2ln||||||F"
        )
    }

    fn library() -> Vec<u8> {
        (0..40_000_u32).map(|i| (i % 251) as u8).collect()
    }

    /// Answers one chunk query from `bytes`; the (offset, length) asked.
    async fn serve_chunk(peer: &mut Peer, query: &Message, bytes: &[u8]) -> (usize, usize) {
        assert_eq!(query.header().unwrap().raw(9), "QBP^Q11^QBP_Q11");
        let id = query.header().unwrap().text(10);
        let qpd = query.first("QPD", "").unwrap();
        let offer = qpd.component(3, 1);
        let offset: usize = qpd.component(3, 2).parse().unwrap();
        let length: usize = qpd.component(3, 3).parse().unwrap();
        let data = STANDARD.encode(&bytes[offset..offset + length]);
        peer.send(&format!(
            "MSH|^~\\&|GW|HOSP|PERFUSE|HOSP|20261204100000||RSP^K11^RSP_K11|R{id}|P|2.6\r\
             MSA|AA|{id}\rQAK|{id}|OK|DRUGLIB_CHUNK^Drug library chunk^99PFS|1|1|0\r\
             QPD|DRUGLIB_CHUNK^Drug library chunk^99PFS|{id}|{offer}^{offset}^{length}\r\
             OBX|1|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|{offset}|^application^toml^Base64^{data}||||||F"
        ))
        .await;
        (offset, length)
    }

    fn outcome(answer: &Message) -> (String, String, String) {
        let msa = answer.first("MSA", "").unwrap();
        let error = answer
            .all("ERR")
            .next()
            .map(|err| err.text(8))
            .unwrap_or_default();
        let mfa = answer.first("MFA", "").unwrap();
        (msa.text(1), mfa.component(4, 1), error)
    }

    #[tokio::test]
    async fn an_offer_is_fetched_in_chunks_in_order_passed_to_the_app_and_its_outcome_sent() {
        let shared = Arc::new(Shared::new());
        shared.lock().app_connected = true;
        let (mut peer, _task) = start(shared.clone());
        let bytes = library();
        let sha = hex::encode(Sha256::digest(&bytes));
        peer.send(&offer("OFFER-1", &sha, bytes.len())).await;
        let ack = peer.next().await;
        assert_eq!(ack.header().unwrap().raw(9), "ACK^M01^ACK");
        assert_eq!(ack.first("MSA", "").unwrap().text(1), "CA");
        let mut asked = Vec::new();
        while asked.iter().map(|(_, length)| length).sum::<usize>() < bytes.len() {
            let query = peer.next().await;
            asked.push(serve_chunk(&mut peer, &query, &bytes).await);
        }
        assert_eq!(asked, [(0, 16384), (16384, 16384), (32768, 7232)]);
        // The app side takes it once.
        let mut given = None;
        for _ in 0..50 {
            given = shared.library_for_app();
            if given.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (held, received) = given.expect("the library for the app");
        assert_eq!(received, bytes);
        assert_eq!(held.offer_id, "OFFER-1");
        assert!(shared.library_for_app().is_none());
        shared.library_answer("OFFER-1", LibraryOutcome::Staged);
        let answer = peer.next().await;
        assert_eq!(answer.header().unwrap().raw(9), "MFK^M01^MFK_M01");
        assert_eq!(answer.first("MSA", "").unwrap().text(2), "MOFFER-1");
        assert_eq!(outcome(&answer), ("AA".into(), "S".into(), String::new()));
    }

    #[tokio::test]
    async fn a_library_whose_hash_does_not_match_is_fetched_again_once_then_refused() {
        let shared = Arc::new(Shared::new());
        shared.lock().app_connected = true;
        let (mut peer, _task) = start(shared.clone());
        let bytes = library();
        let announced = hex::encode(Sha256::digest(b"another library"));
        peer.send(&offer("OFFER-2", &announced, bytes.len())).await;
        assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
        let mut queries = 0;
        let answer = loop {
            let message = peer.next().await;
            if message.header().unwrap().raw(9) == "MFK^M01^MFK_M01" {
                break message;
            }
            serve_chunk(&mut peer, &message, &bytes).await;
            queries += 1;
        };
        assert_eq!(queries, 6, "two whole downloads of three chunks");
        let (code, result, error) = outcome(&answer);
        assert_eq!((code.as_str(), result.as_str()), ("AE", "U"));
        assert!(error.contains("SHA-256"), "{error}");
        assert!(error.contains(&announced), "{error}");
        assert!(shared.library_for_app().is_none());
    }

    #[tokio::test]
    async fn a_download_cut_off_is_abandoned_and_the_next_connection_says_so() {
        let shared = Arc::new(Shared::new());
        shared.lock().app_connected = true;
        let (mut peer, task) = start(shared.clone());
        let bytes = library();
        let sha = hex::encode(Sha256::digest(&bytes));
        peer.send(&offer("OFFER-3", &sha, bytes.len())).await;
        assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
        let first = peer.next().await;
        serve_chunk(&mut peer, &first, &bytes).await;
        let _second = peer.next().await;
        drop(peer);
        assert_eq!(task.await.unwrap(), End::Closed);
        assert!(matches!(shared.lock().library, LibraryJob::Idle));

        let (mut peer, _task) = start(shared.clone());
        let answer = peer.next().await;
        assert_eq!(answer.header().unwrap().raw(9), "MFK^M01^MFK_M01");
        let (code, result, error) = outcome(&answer);
        assert_eq!((code.as_str(), result.as_str()), ("AE", "U"));
        assert!(error.contains("at byte 16384 of 40000"), "{error}");
        assert!(shared.library_for_app().is_none());
    }

    #[tokio::test]
    async fn an_unreadable_offer_is_refused_in_its_acknowledgement_and_a_second_waits_its_turn() {
        let shared = Arc::new(Shared::new());
        shared.lock().app_connected = true;
        let (mut peer, _task) = start(shared.clone());
        peer.send(&offer("OFFER 4", &"ab".repeat(32), 10)).await;
        let ack = peer.next().await;
        assert_eq!(ack.first("MSA", "").unwrap().text(1), "CE");
        assert!(ack.first("ERR", "").unwrap().text(8).contains("offer's id"));

        let bytes = library();
        let sha = hex::encode(Sha256::digest(&bytes));
        peer.send(&offer("OFFER-5", &sha, bytes.len())).await;
        assert_eq!(peer.next().await.first("MSA", "").unwrap().text(1), "CA");
        let query = peer.next().await;
        peer.send(&offer("OFFER-6", &sha, bytes.len())).await;
        serve_chunk(&mut peer, &query, &bytes).await;
        // The second offer is acknowledged and refused while the first downloads.
        let mut seen = Vec::new();
        for _ in 0..3 {
            let message = peer.next().await;
            let kind = message.header().unwrap().raw(9);
            if kind == "MFK^M01^MFK_M01" {
                let (code, _, error) = outcome(&message);
                assert_eq!(code, "AE");
                assert!(error.contains("downloading offer OFFER-5"), "{error}");
                peer.ack(&message).await;
            } else if kind == "QBP^Q11^QBP_Q11" {
                serve_chunk(&mut peer, &message, &bytes).await;
            }
            seen.push(kind.to_string());
        }
        assert!(seen.contains(&"MFK^M01^MFK_M01".to_string()), "{seen:?}");
    }
}
