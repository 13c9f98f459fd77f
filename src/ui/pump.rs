//! What the UI drives and where it records: the control thread (or, in UI
//! tests, a pump on a virtual clock: perfuse-testkit) and the event log. The UI only sends
//! intents and reads snapshots; it never touches the board.

use crate::control::api::{Command, ControlEvent, Snapshot};
use crate::control::thread::ControlHandle;
use crate::control::units::Nanolitres;
use crate::services::kept::{Interrupted, KeptProgram};
use crate::store::writer::StoreHandle;
use crate::store::Event;
use perfuse_link::local::{OrderOutcome, ProposedOrder};

/// Why a command from the touchscreen did not reach the control thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The command queue is full: the control thread is behind.
    QueueFull,
    /// The control thread has stopped.
    ControlStopped,
    /// The platform failed its check: no infusion is possible.
    PlatformNotVerified,
}

/// The pump as the UI sees it.
pub trait Pump {
    /// Sends a command; an error says why it could not be queued.
    fn send(&mut self, command: Command) -> Result<(), SendRefusal>;
    /// The latest state.
    fn snapshot(&mut self) -> Snapshot;
    /// Events since the last call (bounded).
    fn events(&mut self) -> Vec<ControlEvent>;
    /// The program interrupted before this start, if one was kept.
    fn interrupted(&mut self) -> Option<Interrupted> {
        None
    }
    /// Keeps `program` for a resume after an interruption (None forgets
    /// it); `delivered_before` carries the volume infused before a resume.
    fn keep(&mut self, program: Option<KeptProgram>, delivered_before: Nanolitres) {
        let _ = (program, delivered_before);
    }
    /// The next infusion order from the hospital link, if one arrived
    /// (a proposal for the nurse: `ui::session::order`).
    fn take_order(&mut self) -> Option<ProposedOrder> {
        None
    }
    /// The pump's answer to the order numbered `order_id`, back to the
    /// hospital.
    fn answer_order(&mut self, order_id: &str, outcome: OrderOutcome) {
        let _ = (order_id, outcome);
    }
    /// The drug library staged from the hospital, verified again (None:
    /// none is staged).
    fn staged_library(&mut self) -> Option<Result<crate::druglib::VerifiedLibrary, String>> {
        None
    }
    /// Activates the staged library while the pump is in `mode` (refused
    /// with a program loaded); the library now in use.
    fn activate_library(
        &mut self,
        mode: crate::control::api::Mode,
    ) -> Result<crate::druglib::VerifiedLibrary, String> {
        let _ = mode;
        Err("this pump takes no drug library from the hospital".into())
    }
    /// Whether a library from the hospital was staged or refused since the
    /// last call.
    fn library_news(&mut self) -> bool {
        false
    }
    /// The wall clock orders expire by, Unix seconds.
    fn wall_clock(&mut self) -> i64 {
        perfuse_link::local::wall_clock()
    }
}

/// Most control events taken per refresh (the queue behind is bounded too).
const EVENTS_PER_REFRESH: usize = 64;

impl Pump for ControlHandle {
    fn send(&mut self, command: Command) -> Result<(), SendRefusal> {
        ControlHandle::send(self, command).map_err(|_| SendRefusal::QueueFull)
    }

    fn snapshot(&mut self) -> Snapshot {
        ControlHandle::snapshot(self)
    }

    fn events(&mut self) -> Vec<ControlEvent> {
        ControlHandle::events(self, EVENTS_PER_REFRESH)
    }
}

/// Where the UI's records go.
pub trait Recorder {
    fn record(&mut self, event: Event);
}

impl Recorder for StoreHandle {
    fn record(&mut self, event: Event) {
        // A full queue is counted by the writer and recorded later.
        let _ = StoreHandle::record(self, event);
    }
}

/// Records kept in memory (UI tests, and a pump whose log cannot be opened:
/// then nothing is kept, but the pump still runs, stops and alarms).
#[derive(Debug, Default, Clone)]
pub struct MemoryRecorder {
    pub events: std::sync::Arc<std::sync::Mutex<Vec<Event>>>,
    /// When each was recorded, ms since the Unix epoch.
    pub times: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
}

/// Most events a memory recorder keeps: the oldest go first.
const MEMORY_EVENTS: usize = 10_000;

impl Recorder for MemoryRecorder {
    fn record(&mut self, event: Event) {
        if let (Ok(mut events), Ok(mut times)) = (self.events.lock(), self.times.lock()) {
            if events.len() >= MEMORY_EVENTS {
                events.remove(0);
                if !times.is_empty() {
                    times.remove(0);
                }
            }
            events.push(event);
            times.push(crate::store::now_ms());
        }
    }
}
