//! What the app side and the gateway side of the link share: the latest
//! status, the alarm events and order answers waiting to go out, and the
//! messages waiting for the app. Each is bounded; a full queue drops its
//! oldest entry and counts it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::download::{Download, Progress};
use crate::local::{Alarm, LibraryOffer, LibraryOutcome, LinkHealth, OrderOutcome, Status, ToApp};
use crate::pcd::{Chunk, Phase};
use crate::queue::DropOldest;

/// Alarm events waiting for the gateway: more than every condition
/// starting and ending twice over.
pub const ALARM_EVENTS: usize = 64;
/// Order answers waiting for the gateway.
pub const ORDER_ANSWERS: usize = 16;
/// Messages waiting for the app.
pub const TO_APP: usize = 16;

/// An alarm starting or ending, to report as PCD-04.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmEvent {
    pub alarm: Alarm,
    pub phase: Phase,
    pub alert_id: String,
    pub at: i64,
}

/// An answer to an order, to send as RRG^O16.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAnswer {
    /// The control id of the RGV^O15 that carried the order.
    pub message: String,
    pub order_id: String,
    pub outcome: OrderOutcome,
}

/// Library outcomes waiting for the gateway.
pub const LIBRARY_ANSWERS: usize = 4;
/// How long the app may take to check a library before a new offer may
/// take its place.
pub const APP_CHECK: Duration = Duration::from_secs(60);

/// The outcome of a library offer, to send as MFK^M01.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryAnswer {
    /// The control id of the MFN^M01 that offered it.
    pub message: String,
    pub offer_id: String,
    pub name: String,
    pub version: String,
    /// None: staged on the pump.
    pub refusal: Option<String>,
}

impl LibraryAnswer {
    fn of(message: &str, offer: &LibraryOffer, refusal: Option<String>) -> LibraryAnswer {
        LibraryAnswer {
            message: message.to_owned(),
            offer_id: offer.offer_id.clone(),
            name: offer.name.clone(),
            version: offer.version.clone(),
            refusal,
        }
    }
}

/// The one library the link handles at a time.
#[derive(Debug)]
pub enum LibraryJob {
    Idle,
    /// Being fetched from the gateway.
    Fetching(Download),
    /// Every byte matched the offer: passed to the app (the bytes are
    /// taken by the app side), waiting for its answer.
    WithApp {
        message: String,
        offer: LibraryOffer,
        bytes: Option<Vec<u8>>,
        since: Instant,
    },
}

/// The next message for the gateway, most urgent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Alarm(AlarmEvent),
    Answer(OrderAnswer),
    Library(LibraryAnswer),
    /// Asks for the next chunk of the library being fetched.
    Query {
        offer_id: String,
        offset: u32,
        length: u32,
    },
    Status(Status),
}

pub struct State {
    latest: Option<Status>,
    /// The latest status has not been sent yet.
    status_due: bool,
    alarms: DropOldest<AlarmEvent>,
    answers: DropOldest<OrderAnswer>,
    pub to_app: DropOldest<ToApp>,
    /// The raised alarms and their alert ids.
    raised: BTreeMap<String, (Alarm, String)>,
    next_alert: u64,
    /// Orders shown on the pump, by order number: the message that carried each.
    pub orders: BTreeMap<String, String>,
    pub health: LinkHealth,
    pub app_connected: bool,
    pub library: LibraryJob,
    library_answers: DropOldest<LibraryAnswer>,
    /// A chunk query is out and not answered.
    query_out: bool,
}

/// The shared state and the wake-ups of its two sides.
pub struct Shared {
    state: Mutex<State>,
    /// Something new for the gateway.
    pub to_gateway: Notify,
    /// Something new for the app.
    pub to_app: Notify,
}

/// The most orders the link tracks between showing and answering.
pub const ORDERS_TRACKED: usize = 16;

impl Shared {
    pub fn new() -> Shared {
        Shared {
            state: Mutex::new(State {
                latest: None,
                status_due: false,
                alarms: DropOldest::new(ALARM_EVENTS),
                answers: DropOldest::new(ORDER_ANSWERS),
                to_app: DropOldest::new(TO_APP),
                raised: BTreeMap::new(),
                next_alert: 1,
                orders: BTreeMap::new(),
                health: LinkHealth::default(),
                app_connected: false,
                library: LibraryJob::Idle,
                library_answers: DropOldest::new(LIBRARY_ANSWERS),
                query_out: false,
            }),
            to_gateway: Notify::new(),
            to_app: Notify::new(),
        }
    }

    /// The state (a poisoned lock is taken over: every update leaves the
    /// state whole, so a panic elsewhere cannot leave it half-changed).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A status from the app: it replaces the one not yet sent (counted),
    /// and every alarm raised or ended since the last becomes an event. A
    /// status that changes the pump's state (mode, program, drug, library,
    /// alarms) is due at once; one that only moves the progress on is sent
    /// with the next periodic status.
    pub fn status(&self, status: Status) {
        let mut state = self.lock();
        if state.status_due {
            state.health.statuses_dropped += 1;
        }
        let now: BTreeMap<String, Alarm> = status
            .alarms
            .iter()
            .map(|alarm| (alarm.condition.clone(), alarm.clone()))
            .collect();
        let ended: Vec<String> = state
            .raised
            .keys()
            .filter(|condition| !now.contains_key(*condition))
            .cloned()
            .collect();
        for condition in ended {
            if let Some((alarm, alert_id)) = state.raised.remove(&condition) {
                state.alarms.push(AlarmEvent {
                    alarm,
                    phase: Phase::End,
                    alert_id,
                    at: status.at,
                });
            }
        }
        for (condition, alarm) in now {
            if !state.raised.contains_key(&condition) {
                let alert_id = format!("A{}", state.next_alert);
                state.next_alert += 1;
                state.alarms.push(AlarmEvent {
                    alarm: alarm.clone(),
                    phase: Phase::Start,
                    alert_id: alert_id.clone(),
                    at: status.at,
                });
                state.raised.insert(condition, (alarm, alert_id));
            }
        }
        // A change goes at once; progress alone (the volume, the time)
        // waits for the periodic status, at the pace the hospital set.
        let changed = state
            .latest
            .as_ref()
            .is_none_or(|latest| !same_state(latest, &status));
        state.latest = Some(status);
        if changed {
            state.status_due = true;
            drop(state);
            self.to_gateway.notify_one();
        }
    }

    /// The app's answer to an order it was shown.
    pub fn answer(&self, order_id: String, outcome: OrderOutcome) {
        let mut state = self.lock();
        let Some(message) = state.orders.get(&order_id).cloned() else {
            tracing::warn!("the app answered order {order_id}, which the link did not pass on");
            return;
        };
        match outcome {
            // Shown to the nurse: nothing to tell the gateway until she
            // decides (RRG^O16 carries the decision).
            OrderOutcome::Shown => return,
            OrderOutcome::Confirmed | OrderOutcome::Refused { .. } => {
                state.orders.remove(&order_id);
            }
        }
        state.answers.push(OrderAnswer {
            message,
            order_id,
            outcome,
        });
        drop(state);
        self.to_gateway.notify_one();
    }

    /// An answer the link gives itself (an order it refused before the app
    /// saw it).
    pub fn refuse(&self, answer: OrderAnswer) {
        self.lock().answers.push(answer);
        self.to_gateway.notify_one();
    }

    /// An order for the app; false if the app is not connected (the order
    /// is then refused, never kept for later).
    pub fn offer(&self, message: String, order: crate::local::ProposedOrder) -> bool {
        let mut state = self.lock();
        if !state.app_connected {
            return false;
        }
        if state.orders.len() >= ORDERS_TRACKED {
            if let Some(oldest) = state.orders.keys().next().cloned() {
                state.orders.remove(&oldest);
            }
        }
        state.orders.insert(order.order_id.clone(), message);
        state.to_app.push(ToApp::Order { order });
        drop(state);
        self.to_app.notify_one();
        true
    }

    /// The link's health changed: tell the app.
    pub fn health_changed(&self) {
        let mut state = self.lock();
        state.health.events_dropped =
            state.alarms.dropped + state.answers.dropped + state.to_app.dropped;
        let health = state.health;
        state.to_app.push(ToApp::Health { health });
        drop(state);
        self.to_app.notify_one();
    }

    /// The next message for the gateway: alarm events first, then order
    /// answers, then the status if it changed or `periodic` says it is due.
    pub fn next_outbound(&self, periodic: bool) -> Option<Outbound> {
        let mut state = self.lock();
        // A library the app was given and never answered: the hospital
        // hears so after `APP_CHECK`, not only when it offers another.
        if let LibraryJob::WithApp {
            message,
            offer,
            since,
            ..
        } = &state.library
        {
            if since.elapsed() >= APP_CHECK {
                let answer = LibraryAnswer::of(
                    message,
                    offer,
                    Some("the pump app did not answer within 60 s".into()),
                );
                tracing::warn!("library offer {}: the app did not answer", offer.offer_id);
                state.library = LibraryJob::Idle;
                state.library_answers.push(answer);
            }
        }
        if let Some(event) = state.alarms.pop() {
            return Some(Outbound::Alarm(event));
        }
        if let Some(answer) = state.answers.pop() {
            return Some(Outbound::Answer(answer));
        }
        if let Some(answer) = state.library_answers.pop() {
            return Some(Outbound::Library(answer));
        }
        if state.status_due || periodic {
            state.status_due = false;
            if let Some(status) = state.latest.clone() {
                return Some(Outbound::Status(status));
            }
        }
        if !state.query_out {
            if let LibraryJob::Fetching(download) = &state.library {
                let (offset, length) = download.request();
                let offer_id = download.offer.offer_id.clone();
                state.query_out = true;
                return Some(Outbound::Query {
                    offer_id,
                    offset,
                    length,
                });
            }
        }
        None
    }

    /// A library offered by the gateway in message `message`: fetched if
    /// the link holds no other and the app is there to check it; else
    /// refused at once (the MFK^M01 says why).
    pub fn offer_library(&self, message: &str, offer: LibraryOffer) {
        let mut state = self.lock();
        let busy = match &state.library {
            LibraryJob::Idle => None,
            LibraryJob::Fetching(download) => Some(format!(
                "the pump is downloading offer {} (byte {} of {}): offer this one when it is answered",
                download.offer.offer_id,
                download.received(),
                download.offer.size
            )),
            LibraryJob::WithApp { offer: held, since, .. } if since.elapsed() < APP_CHECK => {
                Some(format!(
                    "the pump is checking offer {}: offer this one when it is answered",
                    held.offer_id
                ))
            }
            LibraryJob::WithApp { .. } => None,
        };
        let refusal = busy.or_else(|| {
            (!state.app_connected).then(|| {
                "the pump app is not reachable, so no library can be checked now".to_owned()
            })
        });
        if let Some(refusal) = refusal {
            tracing::info!("library offer {} refused: {refusal}", offer.offer_id);
            state
                .library_answers
                .push(LibraryAnswer::of(message, &offer, Some(refusal)));
        } else {
            if let LibraryJob::WithApp {
                message: old,
                offer: held,
                ..
            } = &state.library
            {
                let answer = LibraryAnswer::of(
                    old,
                    held,
                    Some("the pump app did not answer within 60 s".into()),
                );
                state.library_answers.push(answer);
            }
            tracing::info!(
                "library offer {}: {} {}, {} bytes; downloading",
                offer.offer_id,
                offer.name,
                offer.version,
                offer.size
            );
            state.library = LibraryJob::Fetching(Download::new(message.to_owned(), offer));
            state.query_out = false;
        }
        drop(state);
        self.to_gateway.notify_one();
    }

    /// The gateway's answer to the chunk query for `asked`.
    pub fn chunk(&self, asked: (u32, u32), answer: Result<Chunk, String>) {
        let mut state = self.lock();
        state.query_out = false;
        let LibraryJob::Fetching(download) = &mut state.library else {
            return;
        };
        match download.answer(asked, answer) {
            Progress::More => {}
            Progress::Done(bytes) => {
                let message = download.message.clone();
                let offer = download.offer.clone();
                tracing::info!(
                    "library offer {}: {} bytes matched the offer; passing it to the app",
                    offer.offer_id,
                    bytes.len()
                );
                state.library = LibraryJob::WithApp {
                    message,
                    offer,
                    bytes: Some(bytes),
                    since: Instant::now(),
                };
                drop(state);
                self.to_app.notify_one();
                return;
            }
            Progress::Abandoned(why) => {
                let answer = LibraryAnswer::of(&download.message, &download.offer, Some(why));
                tracing::warn!("library offer {}: {:?}", answer.offer_id, answer.refusal);
                state.library = LibraryJob::Idle;
                state.library_answers.push(answer);
            }
        }
        drop(state);
        self.to_gateway.notify_one();
    }

    /// The library checked against its offer, for the app side to pass on
    /// (once).
    pub fn library_for_app(&self) -> Option<(LibraryOffer, Vec<u8>)> {
        let mut state = self.lock();
        match &mut state.library {
            LibraryJob::WithApp { offer, bytes, .. } => {
                bytes.take().map(|bytes| (offer.clone(), bytes))
            }
            LibraryJob::Idle | LibraryJob::Fetching(_) => None,
        }
    }

    /// The app's answer about the library it was passed (or the link's
    /// own, when the app could not be given it).
    pub fn library_answer(&self, offer_id: &str, outcome: LibraryOutcome) {
        let mut state = self.lock();
        let LibraryJob::WithApp { message, offer, .. } = &state.library else {
            tracing::warn!("an answer about library offer {offer_id}, which the app was not given");
            return;
        };
        if offer.offer_id != offer_id {
            tracing::warn!(
                "an answer about library offer {offer_id}; the app was given {}",
                offer.offer_id
            );
            return;
        }
        let refusal = match outcome {
            LibraryOutcome::Staged => None,
            LibraryOutcome::Refused { reason } => Some(reason),
        };
        tracing::info!(
            "library offer {offer_id}: {}",
            refusal.as_deref().unwrap_or("staged on the pump")
        );
        let answer = LibraryAnswer::of(message, offer, refusal);
        state.library = LibraryJob::Idle;
        state.library_answers.push(answer);
        drop(state);
        self.to_gateway.notify_one();
    }

    /// The app disconnected: a library it was given (or was about to be)
    /// will not be answered, so the hospital is told now.
    pub fn app_gone(&self) {
        let mut state = self.lock();
        state.app_connected = false;
        if let LibraryJob::WithApp { message, offer, .. } = &state.library {
            let answer = LibraryAnswer::of(
                message,
                offer,
                Some("the pump app disconnected before it checked the library".into()),
            );
            state.library = LibraryJob::Idle;
            state.library_answers.push(answer);
            drop(state);
            self.to_gateway.notify_one();
        }
    }

    /// A message taken but not delivered (the connection ended): back to
    /// the front of its queue, the status marked due again.
    pub fn undelivered(&self, message: Outbound) {
        let mut state = self.lock();
        match message {
            Outbound::Alarm(event) => state.alarms.unpop(event),
            Outbound::Answer(answer) => state.answers.unpop(answer),
            Outbound::Library(answer) => state.library_answers.unpop(answer),
            Outbound::Status(_) => state.status_due = true,
            // A download does not outlive its connection: the hospital is
            // told, and offers again.
            Outbound::Query {
                offer_id, offset, ..
            } => {
                state.query_out = false;
                if let LibraryJob::Fetching(download) = &state.library {
                    if download.offer.offer_id == offer_id {
                        let answer = LibraryAnswer::of(
                            &download.message,
                            &download.offer,
                            Some(format!(
                                "the connection ended during the download, at byte {offset} of {}",
                                download.offer.size
                            )),
                        );
                        state.library = LibraryJob::Idle;
                        state.library_answers.push(answer);
                    }
                }
            }
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new()
    }
}

/// Do two statuses describe the same state of the pump (only the progress
/// and the time moved on)?
fn same_state(a: &Status, b: &Status) -> bool {
    a.platform == b.platform
        && a.mode == b.mode
        && a.rate == b.rate
        && a.vtbi == b.vtbi
        && a.drug == b.drug
        && a.library == b.library
        && a.alarms == b.alarms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::{Mode, Priority};

    fn status(at: i64, alarms: &[&str]) -> Status {
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
            alarms: alarms
                .iter()
                .map(|condition| Alarm {
                    condition: (*condition).into(),
                    priority: Priority::High,
                    text: (*condition).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn alarms_raised_and_ended_become_events_before_the_status() {
        let shared = Shared::new();
        shared.status(status(10, &["door-open"]));
        shared.status(status(11, &["door-open", "downstream-occlusion"]));
        shared.status(status(12, &["downstream-occlusion"]));
        let mut out = Vec::new();
        while let Some(message) = shared.next_outbound(false) {
            out.push(message);
        }
        let events: Vec<(String, Phase, String)> = out
            .iter()
            .filter_map(|message| match message {
                Outbound::Alarm(event) => Some((
                    event.alarm.condition.clone(),
                    event.phase,
                    event.alert_id.clone(),
                )),
                Outbound::Answer(_)
                | Outbound::Library(_)
                | Outbound::Query { .. }
                | Outbound::Status(_) => None,
            })
            .collect();
        assert_eq!(
            events,
            [
                ("door-open".into(), Phase::Start, "A1".into()),
                ("downstream-occlusion".into(), Phase::Start, "A2".into()),
                ("door-open".into(), Phase::End, "A1".into()),
            ]
        );
        // Only the latest status goes; the two it replaced are counted.
        assert!(matches!(out.last(), Some(Outbound::Status(status)) if status.at == 12));
        assert_eq!(out.len(), 4);
        assert_eq!(shared.lock().health.statuses_dropped, 2);
        assert_eq!(shared.next_outbound(false), None);
        assert!(matches!(
            shared.next_outbound(true),
            Some(Outbound::Status(_))
        ));
    }

    #[test]
    fn a_library_the_app_never_answers_is_refused_to_the_hospital_after_a_minute() {
        let shared = Shared::new();
        let offer = LibraryOffer {
            offer_id: "L9".into(),
            name: "icu".into(),
            version: "2026.12".into(),
            sha256: "ab".repeat(32),
            size: 10,
            signature: String::new(),
        };
        let given = |ago: Duration| LibraryJob::WithApp {
            message: "M9".into(),
            offer: offer.clone(),
            bytes: None,
            since: Instant::now().checked_sub(ago).unwrap(),
        };
        // Within the minute the app is still checking it.
        shared.lock().library = given(Duration::from_secs(59));
        assert_eq!(shared.next_outbound(false), None);
        assert!(matches!(shared.lock().library, LibraryJob::WithApp { .. }));
        // Past it the hospital is told, once, and a new offer may come.
        shared.lock().library = given(APP_CHECK);
        match shared.next_outbound(false) {
            Some(Outbound::Library(answer)) => {
                assert_eq!(answer.offer_id, "L9");
                assert_eq!(answer.message, "M9");
                assert_eq!(
                    answer.refusal.as_deref(),
                    Some("the pump app did not answer within 60 s")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(shared.lock().library, LibraryJob::Idle));
        assert_eq!(shared.next_outbound(false), None);
    }

    #[test]
    fn progress_alone_waits_for_the_periodic_status_and_a_change_goes_at_once() {
        let shared = Shared::new();
        shared.status(status(10, &[]));
        assert!(matches!(shared.next_outbound(false), Some(Outbound::Status(s)) if s.at == 10));
        // The volume and the time move on, nothing else: not due...
        let mut progress = status(11, &[]);
        progress.delivered = "0.5".parse().unwrap();
        shared.status(progress);
        assert_eq!(shared.next_outbound(false), None);
        // ...until the periodic status, which carries the newest progress.
        assert!(matches!(
            shared.next_outbound(true),
            Some(Outbound::Status(s)) if s.at == 11 && s.delivered == "0.5".parse().unwrap()
        ));
        // A change of mode, rate or library is due at once.
        let mut paused = status(12, &[]);
        paused.mode = Mode::Paused;
        shared.status(paused);
        assert!(matches!(shared.next_outbound(false), Some(Outbound::Status(s)) if s.at == 12));
        let mut faster = status(13, &[]);
        faster.mode = Mode::Paused;
        faster.rate = "50".parse().unwrap();
        shared.status(faster);
        assert!(matches!(shared.next_outbound(false), Some(Outbound::Status(s)) if s.at == 13));
        let mut library = status(14, &[]);
        library.mode = Mode::Paused;
        library.rate = "50".parse().unwrap();
        library.library = Some(crate::local::LibraryIdentity {
            name: "icu".into(),
            version: "2026.12".into(),
            sha256: "ab".repeat(32),
        });
        shared.status(library);
        assert!(matches!(shared.next_outbound(false), Some(Outbound::Status(s)) if s.at == 14));
        assert_eq!(shared.next_outbound(false), None);
    }

    #[test]
    fn an_order_reaches_only_a_connected_app_and_its_answer_names_its_message() {
        let shared = Shared::new();
        let order: crate::local::ProposedOrder = serde_json::from_str(
            r#"{"order_id":"O1","pump_id":"P","patient_id":"M","patient_name":"J","drug":"D","concentration":null,"rate":"5","dose":null,"vtbi":"50","weight":null,"sent_at":0,"expires_at":10}"#,
        )
        .unwrap();
        assert!(!shared.offer("MSG1".into(), order.clone()));
        shared.lock().app_connected = true;
        assert!(shared.offer("MSG1".into(), order));
        shared.answer("O1".into(), OrderOutcome::Shown);
        shared.answer("O1".into(), OrderOutcome::Confirmed);
        shared.answer("O1".into(), OrderOutcome::Confirmed);
        let answers: Vec<_> = std::iter::from_fn(|| shared.next_outbound(false)).collect();
        assert_eq!(answers.len(), 1, "{answers:?}");
        assert!(answers
            .iter()
            .all(|answer| matches!(answer, Outbound::Answer(a) if a.message == "MSG1")));
    }
}
