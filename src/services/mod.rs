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
use crate::druglib::staging::{self, LibraryFiles};
use crate::druglib::VerifiedLibrary;
use crate::store::writer::{StoreWriter, WriterStats};
use crate::store::{Event, EventLog};
use crate::therapy::{Millilitres, MillilitresPerHour};
use kept::{interrupted, progress, Interrupted, KeptProgram, PROGRESS_EVERY_MS};
use perfuse_link::local::LibraryOutcome;
use records::record_of_mode;

/// Activates the staged library in `files` while the pump is in `mode`:
/// only idle, with no program loaded; verified again with today's date.
pub fn activate_staged(
    files: &LibraryFiles,
    mode: Mode,
) -> Result<VerifiedLibrary, ActivationRefused> {
    match mode {
        Mode::Idle => {}
        Mode::Ready
        | Mode::Delivering
        | Mode::KeepVeinOpen
        | Mode::Paused
        | Mode::AlarmStopped
        | Mode::Completed => return Err(ActivationRefused::ProgramLoaded(mode_name(mode))),
        Mode::SelfTest | Mode::PlatformRejected | Mode::Fault => {
            return Err(ActivationRefused::NotReady(mode_name(mode)))
        }
    }
    staging::activate(files, crate::druglib::tool::today_utc()).map_err(ActivationRefused::Refused)
}

/// A mode as the activation refusal names it.
fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::SelfTest => "testing itself",
        Mode::PlatformRejected => "on an unverified platform",
        Mode::Idle => "idle",
        Mode::Ready => "holding a program, ready to start",
        Mode::Delivering => "infusing",
        Mode::KeepVeinOpen => "keeping the vein open",
        Mode::Paused => "paused",
        Mode::AlarmStopped => "stopped by an alarm",
        Mode::Completed => "holding a completed program",
        Mode::Fault => "in a fault",
    }
}

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
    /// Where libraries from the hospital are checked against and staged
    /// (none: a library offered is refused).
    pub library_files: Option<LibraryFiles>,
    /// The library in use (None: basic infusions only), as the link
    /// reports it.
    pub library_in_use: Option<crate::druglib::LibraryIdentity>,
    /// What became of the last library the hospital sent, until the
    /// front-end takes it.
    library_news: Option<LibraryNews>,
}

/// What became of a library the hospital sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryNews {
    Staged {
        offer: String,
        identity: crate::druglib::LibraryIdentity,
    },
    Refused {
        offer: String,
        reason: String,
    },
}

/// Why a staged library was not activated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationRefused {
    #[error("a drug library can only be activated with no infusion loaded: stop the program first (the pump is {0})")]
    ProgramLoaded(&'static str),
    #[error("a drug library cannot be activated while the pump is {0}")]
    NotReady(&'static str),
    #[error("this pump has no library files to activate into")]
    NoFiles,
    #[error("{0}")]
    Refused(String),
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
            library_files: None,
            library_in_use: None,
            library_news: None,
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
            if let Some(offered) = link.take_library() {
                self.stage_offered(offered);
            }
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

    /// A library the hospital sent: verified and staged, or refused; the
    /// hospital is answered and the history says which.
    fn stage_offered(&mut self, offered: link::OfferedLibrary) {
        let offer_id = offered.offer.offer_id.clone();
        let result = match &self.library_files {
            Some(files) => staging::stage(
                files,
                &offered.bytes,
                &offered.signature,
                crate::druglib::tool::today_utc(),
            ),
            None => Err("this pump takes no library over the network (no library files)".into()),
        };
        let (outcome, event) = match result {
            Ok(verified) => {
                self.library_news = Some(LibraryNews::Staged {
                    offer: offer_id.clone(),
                    identity: verified.library.identity.clone(),
                });
                let identity = &verified.library.identity;
                tracing::info!(
                    "library offer {offer_id}: {verified} staged; activate it on the settings page"
                );
                (
                    LibraryOutcome::Staged,
                    Event::LibraryOffer {
                        offer: offer_id.clone(),
                        outcome: "staged".into(),
                        detail: format!(
                            "{} {}, {}",
                            identity.name,
                            identity.version,
                            identity.hash_hex()
                        ),
                    },
                )
            }
            Err(reason) => {
                tracing::warn!("library offer {offer_id} refused: {reason}");
                self.library_news = Some(LibraryNews::Refused {
                    offer: offer_id.clone(),
                    reason: reason.clone(),
                });
                (
                    LibraryOutcome::Refused {
                        reason: reason.clone(),
                    },
                    Event::LibraryOffer {
                        offer: offer_id.clone(),
                        outcome: "refused".into(),
                        detail: reason,
                    },
                )
            }
        };
        self.record(event);
        if let Some(link) = self.link.as_mut() {
            link.answer_library(&offer_id, outcome);
        }
    }

    /// What became of the last library the hospital sent (once).
    pub fn take_library_news(&mut self) -> Option<LibraryNews> {
        self.library_news.take()
    }

    /// The library in use from now on: recorded for the link's statuses.
    pub fn use_library(&mut self, library: Option<crate::druglib::LibraryIdentity>) {
        if let Some(link) = self.link.as_mut() {
            link.set_library(library.as_ref().map(|identity| {
                perfuse_link::local::LibraryIdentity {
                    name: identity.name.clone(),
                    version: identity.version.clone(),
                    sha256: identity.hash_hex(),
                }
            }));
        }
        self.library_in_use = library;
    }

    /// The staged library, verified again (None: none is staged).
    pub fn staged_library(&self) -> Option<Result<VerifiedLibrary, String>> {
        staging::staged(
            self.library_files.as_ref()?,
            crate::druglib::tool::today_utc(),
        )
    }

    /// Activates the staged library while the pump is in `mode`: only with
    /// no program loaded. The activation is recorded and the link reports
    /// the new library from its next status.
    pub fn activate_library(&mut self, mode: Mode) -> Result<VerifiedLibrary, ActivationRefused> {
        let files = self
            .library_files
            .as_ref()
            .ok_or(ActivationRefused::NoFiles)?;
        let verified = activate_staged(files, mode)?;
        let identity = &verified.library.identity;
        self.record(Event::LibraryActivated {
            name: identity.name.clone(),
            version: identity.version.clone(),
            hash: identity.hash_hex(),
        });
        self.use_library(Some(verified.library.identity.clone()));
        Ok(verified)
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
