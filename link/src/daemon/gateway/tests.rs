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
