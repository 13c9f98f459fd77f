//! The heartbeat link: the app's sender never blocks, opens every connection
//! with a hello, and drops (counting) when the supervisor's socket is full;
//! the supervisor sees the peer's credentials and the moment it goes away.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_heartbeat::link::{HeartbeatListener, HeartbeatSender, Received, Sent, Status};
use perfuse_heartbeat::protocol::{AlarmLevel, AlarmVolume, Kind, Message, PumpMode, MESSAGE_LEN};

fn status(now_us: u64) -> Status {
    Status {
        now_us,
        mode: PumpMode::Delivering,
        rate_nl_per_h: 25_000_000,
        forward_steps: 100,
        reverse_steps: 0,
        alarm: AlarmLevel::None,
        audible: false,
        volume: AlarmVolume::new(2).unwrap(),
    }
}

fn receive_all(peer: &perfuse_heartbeat::link::Peer) -> Vec<Message> {
    let mut messages = Vec::new();
    let mut buffer = [0_u8; 2 * MESSAGE_LEN];
    loop {
        match peer.receive(&mut buffer) {
            Received::Bytes(length) => messages.push(Message::decode(&buffer[..length]).unwrap()),
            Received::Nothing | Received::Closed => return messages,
        }
    }
}

fn my_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

#[test]
fn hello_then_heartbeats_in_sequence_from_a_known_peer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("supervisor.sock");
    let listener = HeartbeatListener::bind(&path, my_uid()).unwrap();
    let mut sender = HeartbeatSender::new(&path).unwrap();
    assert_eq!(sender.send(Kind::Heartbeat, &status(1)), Sent::Delivered);
    assert_eq!(sender.send(Kind::Heartbeat, &status(2)), Sent::Delivered);
    let peer = listener.accept().unwrap().unwrap();
    assert_eq!(peer.uid, my_uid());
    assert_eq!(peer.pid, std::process::id());
    let messages = receive_all(&peer);
    let kinds: Vec<Kind> = messages.iter().map(|message| message.kind).collect();
    assert_eq!(kinds, vec![Kind::Hello, Kind::Heartbeat, Kind::Heartbeat]);
    let sequences: Vec<u64> = messages.iter().map(|message| message.sequence).collect();
    assert_eq!(sequences, vec![1, 2, 3]);
    assert!(messages
        .iter()
        .all(|message| message.session == sender.session()));
    drop(sender);
    let mut buffer = [0_u8; 2 * MESSAGE_LEN];
    assert_eq!(
        peer.receive(&mut buffer),
        Received::Closed,
        "the app's end closing is seen at once"
    );
}

#[test]
fn peers_of_another_user_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("supervisor.sock");
    let listener = HeartbeatListener::bind(&path, my_uid().wrapping_add(4242)).unwrap();
    let mut sender = HeartbeatSender::new(&path).unwrap();
    sender.send(Kind::Heartbeat, &status(1));
    let refused = listener.accept().err().unwrap();
    assert_eq!(refused.uid, my_uid());
}

#[test]
fn a_full_supervisor_socket_drops_and_counts_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("supervisor.sock");
    let _listener = HeartbeatListener::bind(&path, my_uid()).unwrap();
    let mut sender = HeartbeatSender::new(&path).unwrap();
    let started = std::time::Instant::now();
    let mut dropped = 0;
    for tick in 0..100_000 {
        if sender.send(Kind::Heartbeat, &status(tick)) == Sent::Dropped {
            dropped += 1;
        }
    }
    assert!(dropped > 0, "nothing was dropped: the socket never filled?");
    assert_eq!(sender.dropped, dropped);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "sending blocked"
    );
}

#[test]
fn without_a_supervisor_the_sender_retries_and_connects_when_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("supervisor.sock");
    let mut sender = HeartbeatSender::new(&path).unwrap();
    assert_eq!(sender.send(Kind::Heartbeat, &status(1)), Sent::NotConnected);
    let listener = HeartbeatListener::bind(&path, my_uid()).unwrap();
    let mut delivered = false;
    for tick in 0..20 {
        delivered |= sender.send(Kind::Heartbeat, &status(tick)) == Sent::Delivered;
    }
    assert!(delivered);
    let peer = listener.accept().unwrap().unwrap();
    assert_eq!(
        receive_all(&peer).first().map(|message| message.kind),
        Some(Kind::Hello)
    );
}

#[test]
fn the_socket_belongs_to_the_app_user_alone() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("own.sock");
    let listener = HeartbeatListener::bind(&path, my_uid()).unwrap();
    let metadata = std::fs::metadata(&path).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    assert_eq!(metadata.uid(), my_uid());
    drop(listener);
    // A supervisor running as root hands the socket to the app's user.
    if my_uid() == 0 {
        let path = dir.path().join("app.sock");
        let _listener = HeartbeatListener::bind(&path, 4242).unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        assert_eq!(metadata.uid(), 4242);
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    }
}
