//! The store: a crash-safe event log and the persisted program, in SQLite
//! (WAL, synchronous=FULL: a committed event survives a crash or power
//! loss). The control thread never touches it: events reach it through a
//! bounded queue and a writer thread on the services side (`writer`).
//!
//! Schema changes are numbered migrations; the database's `user_version`
//! says how many have run, so an older file is brought forward on open and
//! a newer one is refused rather than misread.

pub mod export;
pub mod metrics;
pub mod writer;

mod event;

pub use event::{Action, Event, EventKind, Page, Recorded, SavedProgram};

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The newest events kept; older ones are deleted first.
pub const RETAINED_EVENTS: i64 = 100_000;

/// Schema migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: the event log and the one persisted program.
    "CREATE TABLE events (
         id INTEGER PRIMARY KEY,
         at_ms INTEGER NOT NULL,
         kind TEXT NOT NULL,
         detail TEXT NOT NULL
     );
     CREATE INDEX events_kind ON events (kind, at_ms);
     CREATE INDEX events_time ON events (at_ms);
     CREATE TABLE program (
         slot INTEGER PRIMARY KEY CHECK (slot = 1),
         generation INTEGER NOT NULL,
         saved_at_ms INTEGER NOT NULL,
         body TEXT NOT NULL
     );",
];

/// Why the store failed, in words for the log and the alarm.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the event database {path} is in use by the running pump, which keeps it to itself (so that a failing disk cannot stop it): quit Perfuse, then read it")]
    InUse { path: String },
    #[error("the event database {path}: {error}")]
    Database {
        path: String,
        error: rusqlite::Error,
    },
    #[error("the event database {path} has schema version {found}; this Perfuse knows up to {known}: refusing to misread it")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("the event database {path} has schema version {found}, older than this Perfuse's {known}: start the pump once to bring it forward")]
    TooOld {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("cannot move the corrupt event database {path} aside: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("cannot encode or decode a stored record: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// Whether an error means the file itself is damaged.
fn is_corruption(error: &StoreError) -> bool {
    match error {
        StoreError::Database { error, .. } => matches!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ),
        StoreError::InUse { .. }
        | StoreError::TooNew { .. }
        | StoreError::TooOld { .. }
        | StoreError::Io { .. }
        | StoreError::Encoding(_) => false,
    }
}

/// Wall-clock now, ms since the Unix epoch.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The open event database.
pub struct EventLog {
    connection: Connection,
    path: String,
}

impl EventLog {
    /// Opens (creating if needed) the database at `path`, in WAL mode with
    /// full synchronisation, and runs any migrations it lacks.
    ///
    /// The connection holds the database alone (locking_mode=EXCLUSIVE, set
    /// before WAL is entered), so SQLite keeps the WAL index in its heap
    /// instead of memory-mapping a `-shm` file. A mapped file on a disk that
    /// fills up or turns read-only (an SD card's file system remounted
    /// read-only after errors) raises SIGBUS, which would take the whole
    /// app down with its control thread; write(2) only returns an error,
    /// which becomes the storage alarm. While the pump runs, others read
    /// through its writer (`writer::StoreHandle::latest`).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let database = |error| StoreError::Database {
            path: name.clone(),
            error,
        };
        let connection = Connection::open(path).map_err(database)?;
        connection
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(database)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(database)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(database)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(2))
            .map_err(database)?;
        let mut log = Self {
            connection,
            path: name,
        };
        log.migrate()?;
        Ok(log)
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            error,
        }
    }

    /// The schema version: the number of migrations applied.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|error| self.error(error))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        let found = self.schema_version()?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (index, migration) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
            let transaction =
                self.connection
                    .transaction()
                    .map_err(|error| StoreError::Database {
                        path: self.path.clone(),
                        error,
                    })?;
            transaction
                .execute_batch(migration)
                .and_then(|()| transaction.pragma_update(None, "user_version", version))
                .and_then(|()| transaction.commit())
                .map_err(|error| StoreError::Database {
                    path: self.path.clone(),
                    error,
                })?;
        }
        Ok(())
    }

    /// Opens the database as `open` does; a corrupt one (unreadable, not a
    /// database, or failing SQLite's quick check) is moved aside with its
    /// journal, a fresh one started and the fault recorded in it. Returns
    /// the log and, after a recovery, where the corrupt file went. Other
    /// failures (permissions, a read-only or full disk) are returned.
    pub fn open_or_recover(path: &Path) -> Result<(Self, Option<PathBuf>), StoreError> {
        let problem = match Self::open(path) {
            Ok(log) => match log.quick_check() {
                Ok(verdict) if verdict == "ok" => return Ok((log, None)),
                Ok(verdict) => verdict,
                Err(error) if is_corruption(&error) => error.to_string(),
                Err(error) => return Err(error),
            },
            Err(error) if is_corruption(&error) => error.to_string(),
            Err(error) => return Err(error),
        };
        let aside = PathBuf::from(format!("{}.corrupt-{}", path.display(), now_ms()));
        let move_aside = |from: &Path, to: &Path| match std::fs::rename(from, to) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(StoreError::Io {
                path: from.display().to_string(),
                error,
            }),
        };
        move_aside(path, &aside)?;
        for suffix in ["-wal", "-shm"] {
            move_aside(
                Path::new(&format!("{}{suffix}", path.display())),
                Path::new(&format!("{}{suffix}", aside.display())),
            )?;
        }
        let mut log = Self::open(path)?;
        log.append(&Event::StorageFault {
            detail: format!(
                "the event database was corrupt ({problem}); it was moved to {} and a fresh one started",
                aside.display()
            ),
        })?;
        Ok((log, Some(aside)))
    }

    /// Caps the database at `pages` pages (SQLite's max_page_count, 4 KiB
    /// each): a quota, and how the tests make the disk "full". Returns the
    /// cap in force (never below the pages already used).
    pub fn limit_pages(&self, pages: u32) -> Result<i64, StoreError> {
        self.connection
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| {
                row.get(0)
            })
            .map_err(|error| self.error(error))
    }

    /// Pages the database holds now (4 KiB each).
    pub fn pages_used(&self) -> Result<i64, StoreError> {
        self.connection
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .map_err(|error| self.error(error))
    }

    /// SQLite's quick consistency check: "ok" or the first problem.
    pub fn quick_check(&self) -> Result<String, StoreError> {
        self.connection
            .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
            .map_err(|error| self.error(error))
    }

    /// Opens an existing database without writing to it (for export); a
    /// missing file is an error, not a new database.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let connection =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
                |error| StoreError::Database {
                    path: name.clone(),
                    error,
                },
            )?;
        let log = Self {
            connection,
            path: name,
        };
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        let found = log.schema_version().map_err(|error| match error {
            StoreError::Database {
                path,
                error: rusqlite::Error::SqliteFailure(failure, _),
            } if failure.code == rusqlite::ErrorCode::DatabaseBusy => StoreError::InUse { path },
            other => other,
        })?;
        if found > known {
            return Err(StoreError::TooNew {
                path: log.path.clone(),
                found,
                known,
            });
        }
        if found < known {
            return Err(StoreError::TooOld {
                path: log.path.clone(),
                found,
                known,
            });
        }
        Ok(log)
    }

    /// Appends events in one transaction; when it returns, they are durable.
    /// The oldest events beyond `RETAINED_EVENTS` are deleted in the same
    /// transaction. Returns the id of the last one.
    pub fn append_all(&mut self, events: &[(i64, Event)]) -> Result<i64, StoreError> {
        let path = self.path.clone();
        let database = |error| StoreError::Database {
            path: path.clone(),
            error,
        };
        let transaction = self.connection.transaction().map_err(database)?;
        let mut last = 0;
        {
            let mut insert = transaction
                .prepare_cached("INSERT INTO events (at_ms, kind, detail) VALUES (?1, ?2, ?3)")
                .map_err(database)?;
            for (at_ms, event) in events {
                let detail = serde_json::to_string(event)?;
                insert
                    .execute(params![at_ms, event.kind().name(), detail])
                    .map_err(database)?;
                last = transaction.last_insert_rowid();
            }
        }
        transaction
            .execute(
                "DELETE FROM events WHERE id <= ?1",
                params![last.saturating_sub(RETAINED_EVENTS)],
            )
            .map_err(database)?;
        transaction.commit().map_err(database)?;
        Ok(last)
    }

    /// Appends one event now; durable when it returns.
    pub fn append(&mut self, event: &Event) -> Result<i64, StoreError> {
        self.append_all(&[(now_ms(), event.clone())])
    }

    /// Events in `from_ms..=to_ms`, optionally of the given kinds, oldest first.
    /// The newest `limit` events of the given kinds (all kinds if none),
    /// newest first: what the history screen shows.
    pub fn latest(&self, kinds: &[EventKind], limit: usize) -> Result<Vec<Recorded>, StoreError> {
        let filter = if kinds.is_empty() {
            String::new()
        } else {
            format!("WHERE kind IN ({})", vec!["?"; kinds.len()].join(", "))
        };
        let sql =
            format!("SELECT id, at_ms, detail FROM events {filter} ORDER BY id DESC LIMIT {limit}");
        let mut query = self
            .connection
            .prepare(&sql)
            .map_err(|error| self.error(error))?;
        let rows = query
            .query_map(
                rusqlite::params_from_iter(kinds.iter().map(|kind| kind.name())),
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .map_err(|error| self.error(error))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, at_ms, detail) = row.map_err(|error| self.error(error))?;
            events.push(Recorded {
                id,
                at_ms,
                event: serde_json::from_str(&detail)?,
            });
        }
        Ok(events)
    }

    pub fn events(
        &self,
        from_ms: i64,
        to_ms: i64,
        kinds: &[EventKind],
    ) -> Result<Vec<Recorded>, StoreError> {
        let mut query = self
            .connection
            .prepare_cached(
                "SELECT id, at_ms, detail, kind FROM events WHERE at_ms BETWEEN ?1 AND ?2 ORDER BY id",
            )
            .map_err(|error| self.error(error))?;
        let rows = query
            .query_map(params![from_ms, to_ms], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(|error| self.error(error))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, at_ms, detail, kind) = row.map_err(|error| self.error(error))?;
            if kinds.is_empty() || kinds.iter().any(|wanted| wanted.name() == kind) {
                events.push(Recorded {
                    id,
                    at_ms,
                    event: serde_json::from_str(&detail)?,
                });
            }
        }
        Ok(events)
    }

    /// How many events are kept.
    pub fn count(&self) -> Result<i64, StoreError> {
        self.connection
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .map_err(|error| self.error(error))
    }

    /// Saves the program (replacing the previous one) atomically: a reader,
    /// or the next start after a crash, sees the old one or the new one.
    pub fn save_program<T: Serialize>(&mut self, program: &T) -> Result<i64, StoreError> {
        let body = serde_json::to_string(program)?;
        let path = self.path.clone();
        let database = |error| StoreError::Database {
            path: path.clone(),
            error,
        };
        let transaction = self.connection.transaction().map_err(database)?;
        let generation: i64 = transaction
            .query_row(
                "SELECT coalesce(max(generation), 0) + 1 FROM program",
                [],
                |row| row.get(0),
            )
            .map_err(database)?;
        transaction
            .execute(
                "INSERT OR REPLACE INTO program (slot, generation, saved_at_ms, body) VALUES (1, ?1, ?2, ?3)",
                params![generation, now_ms(), body],
            )
            .map_err(database)?;
        transaction.commit().map_err(database)?;
        Ok(generation)
    }

    /// The persisted program, if any.
    pub fn load_program<T: DeserializeOwned>(&self) -> Result<Option<SavedProgram<T>>, StoreError> {
        let row = self
            .connection
            .query_row(
                "SELECT generation, saved_at_ms, body FROM program WHERE slot = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|error| self.error(error))?;
        match row {
            Some((generation, saved_at_ms, body)) => Ok(Some(SavedProgram {
                generation,
                saved_at_ms,
                program: serde_json::from_str(&body)?,
            })),
            None => Ok(None),
        }
    }

    /// Forgets the program (completed, or discarded by the nurse).
    pub fn clear_program(&mut self) -> Result<(), StoreError> {
        self.connection
            .execute("DELETE FROM program", [])
            .map(|_| ())
            .map_err(|error| self.error(error))
    }

    /// SQLite's own consistency check: "ok" or what is wrong.
    pub fn integrity(&self) -> Result<String, StoreError> {
        self.connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|error| self.error(error))
    }
}

#[cfg(test)]
mod tests;
