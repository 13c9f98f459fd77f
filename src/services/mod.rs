//! What both front-ends share, under the touchscreen and the headless
//! app alike: the event log's writer, the kept program that follows the
//! control thread, and the storage watch that raises the storage-fault
//! alarm.
//!
//! - `kept`: the program kept for a resume, and what the next start says
//!   about an interruption;
//! - `records`: which control events and mode changes become records;
//! - `link`: the app's end of the local link to `perfuse-link` (status
//!   out, orders in), when the pump has one; `orders`: orders before the
//!   nurse.

pub mod kept;
pub mod link;
pub mod orders;
pub mod records;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::control::api::{Mode, Snapshot};
use crate::control::units::Nanolitres;
use crate::store::writer::{StoreWriter, WriterStats};
use crate::store::{Event, EventLog};
use crate::therapy::{Millilitres, MillilitresPerHour};
use kept::{interrupted, progress, Interrupted, KeptProgram, PROGRESS_EVERY_MS};
use records::record_of_mode;

/// The store as the app uses it: absent if the database cannot be opened
/// (the pump still runs, stops and alarms; the reason is logged).
pub struct Services {
    store: Option<StoreWriter>,
    /// The program interrupted before this start, until the nurse resumes
    /// or discards it, or a new program replaces it.
    pub interrupted: Option<Interrupted>,
    kept: Option<KeptProgram>,
    delivered_before: Nanolitres,
    last_mode: Mode,
    last_saved: Instant,
    /// The storage-fault alarm as last told to the controller, and the
    /// writer's counters then.
    storage_fault: bool,
    seen: WriterStats,
    /// The network link, when one is configured.
    pub link: Option<link::LinkClient>,
}

impl Services {
    /// Opens (or recovers) the event log at `path`, finds any interrupted
    /// program, and records the power-on with the verified `platform`.
    pub fn open(path: &Path, platform: &str) -> Self {
        let mut services = Services {
            store: None,
            interrupted: None,
            kept: None,
            delivered_before: Nanolitres(0),
            last_mode: Mode::SelfTest,
            last_saved: Instant::now(),
            storage_fault: false,
            seen: WriterStats {
                written: 0,
                dropped: 0,
                failures: 0,
            },
            link: None,
        };
        let log = match EventLog::open_or_recover(path) {
            Ok((log, None)) => log,
            Ok((log, Some(aside))) => {
                tracing::error!(
                    "the event database was corrupt: it was moved to {} and a fresh one started; no interrupted program can be offered",
                    aside.display()
                );
                log
            }
            Err(error) => {
                tracing::error!("the event log cannot be used, nothing will be kept: {error}");
                return services;
            }
        };
        match interrupted(&log) {
            Ok(found) => services.interrupted = found,
            Err(error) => tracing::error!("the kept program cannot be read: {error}"),
        }
        match StoreWriter::spawn(log) {
            Ok(writer) => services.store = Some(writer),
            Err(error) => tracing::error!("the event log writer cannot start: {error}"),
        }
        services.record(Event::PowerOn);
        services.record(Event::PlatformCheck {
            verified: true,
            detail: platform.to_owned(),
        });
        services
    }

    /// Records `event` (nowhere if the log could not be opened).
    pub fn record(&self, event: Event) {
        if let Some(store) = &self.store {
            store.handle().record(event);
        }
    }

    /// Keeps `kept` for a resume after an interruption (None forgets it).
    pub fn save(&mut self, kept: Option<KeptProgram>) {
        self.kept = kept;
        self.last_saved = Instant::now();
        let Some(store) = &self.store else { return };
        match &self.kept {
            Some(kept) => match serde_json::to_string(kept) {
                Ok(json) => store.handle().save_program(json),
                Err(error) => tracing::error!("cannot keep the program: {error}"),
            },
            None => store.handle().clear_program(),
        }
    }

    /// A program of `rate` mL/h for `volume` mL was loaded: keep it,
    /// continuing the totals of `resumed` if it is an interrupted one.
    pub fn loaded(
        &mut self,
        rate: MillilitresPerHour,
        volume: Millilitres,
        resumed: Option<Interrupted>,
    ) {
        let kept = match resumed {
            Some(interrupted) => {
                self.delivered_before = interrupted.program.delivered;
                self.record(Event::ProgramChanged {
                    program: format!(
                        "resumed after an interruption ({}): {} mL/h, {} mL left",
                        interrupted.why,
                        rate.value(),
                        volume.value()
                    ),
                });
                KeptProgram {
                    mode: Mode::Ready,
                    ..interrupted.program
                }
            }
            None => {
                // A new program replaces any interrupted one.
                self.interrupted = None;
                self.delivered_before = Nanolitres(0);
                // The load was converted to whole nanolitres before it was
                // sent, so this cannot fail for a loaded program.
                let remaining = Nanolitres::from_millilitres(volume).unwrap_or(Nanolitres(0));
                KeptProgram {
                    rate,
                    vtbi: volume,
                    delivered: Nanolitres(0),
                    remaining,
                    mode: Mode::Ready,
                    therapy: None,
                }
            }
        };
        self.save(Some(kept));
    }

    /// The storage-fault alarm, when it changes: on while the log cannot
    /// be opened or its last writes failed, off once a write succeeds.
    pub fn storage_change(&mut self) -> Option<bool> {
        let fault = match &self.store {
            None => true,
            Some(writer) => {
                let stats = writer.handle().stats();
                let fault = if stats.failures > self.seen.failures {
                    if let Some(error) = writer.handle().last_error() {
                        tracing::error!("the event log cannot be written: {error}");
                    }
                    true
                } else if stats.written > self.seen.written {
                    false
                } else {
                    self.storage_fault
                };
                self.seen = stats;
                fault
            }
        };
        (fault != self.storage_fault).then(|| {
            self.storage_fault = fault;
            fault
        })
    }

    /// After each turn: mode changes recorded, progress kept while flow
    /// runs, the program forgotten once it has ended.
    pub fn follow(&mut self, snapshot: &Snapshot) {
        if let Some(link) = self.link.as_mut() {
            let facts = link::ProgramFacts {
                vtbi: self.kept.as_ref().map(|kept| kept.vtbi),
                drug: self
                    .kept
                    .as_ref()
                    .and_then(|kept| kept.therapy.as_ref())
                    .and_then(|therapy| therapy.drug_name.clone()),
            };
            link.follow(snapshot, self.delivered_before, &facts);
        }
        let mode = snapshot.mode;
        if let Some(event) = record_of_mode(self.last_mode, mode) {
            self.record(event);
        }
        let before = self.last_mode;
        let changed = mode != before;
        self.last_mode = mode;
        let Some(kept) = self.kept.clone() else {
            return;
        };
        let had_program = matches!(
            before,
            Mode::Ready | Mode::Delivering | Mode::KeepVeinOpen | Mode::Paused | Mode::AlarmStopped
        );
        match mode {
            // Ended (stopped by the nurse, or completed): nothing to resume.
            // Idle after the self-test is only the pump coming up.
            Mode::Completed | Mode::Idle if changed && had_program => self.save(None),
            Mode::Delivering | Mode::KeepVeinOpen | Mode::Paused | Mode::AlarmStopped
                if changed
                    || self.last_saved.elapsed() >= Duration::from_millis(PROGRESS_EVERY_MS) =>
            {
                self.save(Some(progress(&kept, self.delivered_before, snapshot)));
            }
            _ => {}
        }
    }

    /// The touchscreen keeps `program` (None: forgets it, and records the
    /// stop of an interrupted one); `delivered_before` carries the
    /// volume infused before a resume.
    pub fn keep(&mut self, program: Option<KeptProgram>, delivered_before: Nanolitres) {
        if program.is_none() && self.interrupted.is_some() {
            self.record(Event::ProgramStopped);
        }
        self.interrupted = None;
        self.delivered_before = delivered_before;
        self.save(program);
    }

    /// The program kept now, if any.
    pub fn kept(&self) -> Option<&KeptProgram> {
        self.kept.as_ref()
    }

    /// The event log's writer, if the log could be opened.
    pub fn store(&self) -> Option<&StoreWriter> {
        self.store.as_ref()
    }
}
