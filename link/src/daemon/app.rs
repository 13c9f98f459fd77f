//! The app side of the link: the local SOCK_SEQPACKET socket the pump app
//! connects to. One app at a time (a new connection replaces the old),
//! only from the configured user when one is set (SO_PEERCRED). Packets
//! are decoded strictly (`local`); a bad one is counted and dropped, and
//! never ends the connection.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use uds::tokio::{UnixSeqpacketConn, UnixSeqpacketListener};

use super::shared::Shared;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::local::{self, LibraryOffer, LibraryOutcome, ToApp, ToLink, LIBRARY_PACKET, MAX_PACKET};

/// How long one packet to the app may wait for room in its socket.
const SEND_DEADLINE: Duration = Duration::from_millis(500);
/// How long a whole library (at most 64 packets) may take to reach the app.
const LIBRARY_DEADLINE: Duration = Duration::from_secs(5);

/// The bound socket, removed when dropped.
pub struct Socket {
    listener: UnixSeqpacketListener,
    path: PathBuf,
}

impl Socket {
    /// Binds `path` (a stale socket file from an earlier run is replaced).
    pub fn bind(path: &Path) -> Result<Socket, String> {
        if path.exists() {
            std::fs::remove_file(path).map_err(|error| {
                format!("cannot replace the old socket {}: {error}", path.display())
            })?;
        }
        let listener = UnixSeqpacketListener::bind(path).map_err(|error| {
            format!(
                "cannot listen on the app socket {}: {error}",
                path.display()
            )
        })?;
        Ok(Socket {
            listener,
            path: path.to_owned(),
        })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves the app until the process stops.
pub async fn run(mut socket: Socket, app_uid: Option<u32>, shared: Arc<Shared>) {
    let mut connection: Option<UnixSeqpacketConn> = None;
    let mut buffer = vec![0_u8; MAX_PACKET + 1];
    loop {
        // Deliver what waits for the app.
        if let Some(conn) = connection.as_mut() {
            let pending: Vec<_> = {
                let mut state = shared.lock();
                std::iter::from_fn(|| state.to_app.pop()).collect()
            };
            for message in pending {
                match local::encode(&message) {
                    Ok(packet) => {
                        match tokio::time::timeout(SEND_DEADLINE, conn.send(&packet)).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(error)) => {
                                tracing::warn!("the app's connection failed: {error}");
                                connection = None;
                                shared.app_gone();
                                break;
                            }
                            Err(_) => tracing::warn!(
                                "the app did not take a message within 500 ms: dropped"
                            ),
                        }
                    }
                    Err(error) => {
                        tracing::error!("a message for the app cannot be encoded: {error}")
                    }
                }
            }
        }
        // A library checked against its offer goes to the app whole, in
        // order, or not at all.
        if let Some(conn) = connection.as_mut() {
            if let Some((offer, bytes)) = shared.library_for_app() {
                let offer_id = offer.offer_id.clone();
                if let Err(why) = send_library(conn, offer, &bytes).await {
                    tracing::warn!("library offer {offer_id}: {why}");
                    shared.library_answer(
                        &offer_id,
                        LibraryOutcome::Refused {
                            reason: format!("the pump app did not take the library: {why}"),
                        },
                    );
                }
            }
        }
        let received = match connection.as_mut() {
            Some(conn) => tokio::select! {
                accepted = socket.listener.accept() => Event::Accepted(accepted),
                received = conn.recv(&mut buffer) => Event::Received(received),
                () = shared.to_app.notified() => Event::Wake,
            },
            None => tokio::select! {
                accepted = socket.listener.accept() => Event::Accepted(accepted),
                () = shared.to_app.notified() => Event::Wake,
            },
        };
        match received {
            Event::Wake => {}
            Event::Accepted(Ok((conn, _))) => {
                let uid = conn
                    .initial_peer_credentials()
                    .map(|credentials| credentials.euid());
                match (app_uid, uid) {
                    (Some(expected), Ok(uid)) if uid != expected => {
                        tracing::warn!("refused a local connection from uid {uid} (the app runs as {expected})");
                    }
                    (Some(_), Err(error)) => {
                        tracing::warn!("refused a local connection without credentials: {error}")
                    }
                    (None, _) | (Some(_), Ok(_)) => {
                        tracing::info!("the pump app connected");
                        connection = Some(conn);
                        shared.lock().app_connected = true;
                        shared.health_changed();
                    }
                }
            }
            Event::Accepted(Err(error)) => {
                tracing::warn!("accepting the app's connection failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Event::Received(Ok(0)) | Event::Received(Err(_)) => {
                tracing::info!("the pump app disconnected");
                connection = None;
                shared.app_gone();
            }
            Event::Received(Ok(length)) => {
                match local::decode::<ToLink>(buffer.get(..length).unwrap_or(&[])) {
                    Ok(ToLink::Status { status }) => shared.status(status),
                    Ok(ToLink::OrderAnswer { order_id, outcome }) => {
                        shared.answer(order_id, outcome)
                    }
                    Ok(ToLink::LibraryAnswer { offer_id, outcome }) => {
                        shared.library_answer(&offer_id, outcome)
                    }
                    Err(error) => tracing::warn!("a packet from the app was refused: {error}"),
                }
            }
        }
    }
}

/// The offer, then its bytes in `LIBRARY_PACKET` pieces.
async fn send_library(
    conn: &mut UnixSeqpacketConn,
    offer: LibraryOffer,
    bytes: &[u8],
) -> Result<(), String> {
    let offer_id = offer.offer_id.clone();
    let mut packets = vec![ToApp::Library { offer }];
    for (index, piece) in bytes.chunks(LIBRARY_PACKET).enumerate() {
        packets.push(ToApp::LibraryChunk {
            offer_id: offer_id.clone(),
            offset: u32::try_from(index * LIBRARY_PACKET).unwrap_or(u32::MAX),
            data: STANDARD.encode(piece),
        });
    }
    let send = async {
        for message in &packets {
            let packet = local::encode(message).map_err(|error| error.to_string())?;
            conn.send(&packet)
                .await
                .map_err(|error| format!("the socket failed: {error}"))?;
        }
        Ok(())
    };
    tokio::time::timeout(LIBRARY_DEADLINE, send)
        .await
        .map_err(|_| format!("not taken within {} s", LIBRARY_DEADLINE.as_secs()))?
}

enum Event {
    Accepted(std::io::Result<(UnixSeqpacketConn, uds::UnixSocketAddr)>),
    Received(std::io::Result<usize>),
    Wake,
}
