//! The store's writer thread: whoever records (the app's services side,
//! never the control thread) hands events over a bounded queue and never
//! waits on the disk. A full queue drops the event and counts it; once the
//! queue has room again the writer records how many were lost. The program
//! is not queued: the latest one to save waits in a single slot, so a save
//! is never dropped and never stale.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{now_ms, Event, EventKind, EventLog, Recorded};

/// Events waiting for the disk at most.
pub const QUEUE_CAPACITY: usize = 1024;
/// Events written in one transaction at most.
const BATCH: usize = 256;

enum Message {
    Event(i64, Event),
    /// A program waits in the slot.
    Program,
    /// The newest events of these kinds (all if empty), for the history
    /// screen: the writer's connection is the only one while the pump runs.
    Latest {
        kinds: &'static [EventKind],
        limit: usize,
        reply: SyncSender<Result<Vec<Recorded>, String>>,
    },
    Stop,
}

/// How long a look at the history waits for the writer (which may be in
/// the middle of a durable write) before saying so.
pub const QUERY_DEADLINE: Duration = Duration::from_millis(750);

struct Shared {
    dropped: AtomicU64,
    written: AtomicU64,
    failures: AtomicU64,
    program: Mutex<Option<ProgramUpdate>>,
    last_error: Mutex<Option<String>>,
}

/// What the program slot holds for the writer.
enum ProgramUpdate {
    Save(String),
    /// The program ended (completed, stopped or discarded): forget it.
    Clear,
}

/// The recording side: cheap to clone, never blocks.
#[derive(Clone)]
pub struct StoreHandle {
    queue: SyncSender<Message>,
    shared: Arc<Shared>,
}

/// Counters, for the status line and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    pub written: u64,
    pub dropped: u64,
    pub failures: u64,
}

impl StoreHandle {
    /// Queues an event stamped now; false (and counted) if the queue was full.
    pub fn record(&self, event: Event) -> bool {
        match self.queue.try_send(Message::Event(now_ms(), event)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::AcqRel);
                false
            }
        }
    }

    /// Puts the program (as JSON) in the slot for the writer; a later call
    /// before the writer gets to it replaces it.
    pub fn save_program(&self, program_json: String) {
        self.update_program(ProgramUpdate::Save(program_json));
    }

    /// Forgets the program (it ended); replaces any save not yet written.
    pub fn clear_program(&self) {
        self.update_program(ProgramUpdate::Clear);
    }

    fn update_program(&self, update: ProgramUpdate) {
        if let Ok(mut slot) = self.shared.program.lock() {
            *slot = Some(update);
        }
        // If the queue is full the writer still finds the slot on its next turn.
        let _ = self.queue.try_send(Message::Program);
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            written: self.shared.written.load(Ordering::Acquire),
            dropped: self.shared.dropped.load(Ordering::Acquire),
            failures: self.shared.failures.load(Ordering::Acquire),
        }
    }

    /// The newest `limit` events of `kinds` (all if empty), read by the
    /// writer; an error if it is busy beyond `QUERY_DEADLINE` or gone.
    pub fn latest(
        &self,
        kinds: &'static [EventKind],
        limit: usize,
    ) -> Result<Vec<Recorded>, String> {
        let (reply, answer) = sync_channel(1);
        self.queue
            .try_send(Message::Latest {
                kinds,
                limit,
                reply,
            })
            .map_err(|_| "the event log is busy writing: look again in a moment".to_owned())?;
        match answer.recv_timeout(QUERY_DEADLINE) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                Err("the event log did not answer in time: look again in a moment".to_owned())
            }
            Err(RecvTimeoutError::Disconnected) => {
                Err("the event log writer has stopped".to_owned())
            }
        }
    }

    /// The last storage error, if any (for the storage-fault alarm).
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .ok()
            .and_then(|error| error.clone())
    }
}

/// The writer thread; stopping it writes what is queued first.
pub struct StoreWriter {
    handle: StoreHandle,
    thread: Option<JoinHandle<()>>,
}

impl StoreWriter {
    pub fn spawn(log: EventLog) -> Result<Self, String> {
        let (queue, receiver) = sync_channel(QUEUE_CAPACITY);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            program: Mutex::new(None),
            last_error: Mutex::new(None),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("perfuse-store".to_owned())
            .spawn(move || write_loop(log, &receiver, &thread_shared))
            .map_err(|error| format!("cannot start the store writer: {error}"))?;
        Ok(Self {
            handle: StoreHandle { queue, shared },
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> StoreHandle {
        self.handle.clone()
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        // A blocking send: the writer is draining, so there will be room.
        let _ = self.handle.queue.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(mut log: EventLog, receiver: &Receiver<Message>, shared: &Shared) {
    let mut batch: Vec<(i64, Event)> = Vec::with_capacity(BATCH + 1);
    let mut reported_dropped = 0_u64;
    let mut reported_failures = 0_u64;
    loop {
        let mut stop = false;
        let answer = |kinds: &[EventKind], limit: usize, reply: SyncSender<_>| {
            // Nobody waiting any more is not an error of the writer's.
            let _ = reply.try_send(log.latest(kinds, limit).map_err(|error| error.to_string()));
        };
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(Message::Event(at_ms, event)) => batch.push((at_ms, event)),
            Ok(Message::Latest {
                kinds,
                limit,
                reply,
            }) => answer(kinds, limit, reply),
            Ok(Message::Program) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => stop = true,
        }
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(Message::Event(at_ms, event)) => batch.push((at_ms, event)),
                Ok(Message::Latest {
                    kinds,
                    limit,
                    reply,
                }) => answer(kinds, limit, reply),
                Ok(Message::Program) => {}
                Ok(Message::Stop) => stop = true,
                Err(_) => break,
            }
        }
        // The queue has room again: say how many were lost meanwhile.
        let dropped = shared.dropped.load(Ordering::Acquire);
        if dropped > reported_dropped {
            batch.push((
                now_ms(),
                Event::EventsDropped {
                    count: dropped - reported_dropped,
                },
            ));
            reported_dropped = dropped;
        }
        // Writing again after failures: the log says what happened.
        let failures = shared.failures.load(Ordering::Acquire);
        if failures > reported_failures && !batch.is_empty() {
            let last = shared
                .last_error
                .lock()
                .ok()
                .and_then(|error| error.clone())
                .unwrap_or_default();
            batch.push((
                now_ms(),
                Event::StorageFault {
                    detail: format!(
                        "{} writes failed (the last: {last}); writing again",
                        failures - reported_failures
                    ),
                },
            ));
        }
        if !batch.is_empty() {
            match log.append_all(&batch) {
                Ok(_) => {
                    reported_failures = failures;
                    shared
                        .written
                        .fetch_add(u64::try_from(batch.len()).unwrap_or(0), Ordering::AcqRel);
                }
                Err(error) => {
                    // The batch is lost: its events count as dropped (and a
                    // drop report in it is owed again).
                    let owed: u64 = batch
                        .iter()
                        .map(|(_, event)| match event {
                            Event::EventsDropped { count } => *count,
                            _ => 0,
                        })
                        .sum();
                    let lost = batch
                        .iter()
                        .filter(|(_, event)| {
                            !matches!(
                                event,
                                Event::EventsDropped { .. } | Event::StorageFault { .. }
                            )
                        })
                        .count();
                    shared
                        .dropped
                        .fetch_add(u64::try_from(lost).unwrap_or(0), Ordering::AcqRel);
                    reported_dropped = reported_dropped.saturating_sub(owed);
                    fail(shared, &error.to_string());
                }
            }
            batch.clear();
        }
        let program = shared.program.lock().ok().and_then(|mut slot| slot.take());
        match program {
            Some(ProgramUpdate::Save(json)) => {
                let value: Result<serde_json::Value, _> = serde_json::from_str(&json);
                match value {
                    Ok(value) => {
                        if let Err(error) = log.save_program(&value) {
                            fail(shared, &error.to_string());
                        }
                    }
                    Err(error) => fail(shared, &format!("a program that is not JSON: {error}")),
                }
            }
            Some(ProgramUpdate::Clear) => {
                if let Err(error) = log.clear_program() {
                    fail(shared, &error.to_string());
                }
            }
            None => {}
        }
        if stop {
            return;
        }
    }
}

fn fail(shared: &Shared, message: &str) {
    shared.failures.fetch_add(1, Ordering::AcqRel);
    if let Ok(mut last) = shared.last_error.lock() {
        *last = Some(message.to_owned());
    }
}
