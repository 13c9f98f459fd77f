//! How every Perfuse process logs (DESIGN.md, "Processes").
//!
//! Diagnostics go through `tracing`. Under systemd, where the unit's
//! standard error is the journal (`JOURNAL_STREAM` names it), they go
//! straight to journald with their level and the process as its
//! identifier; on a desk, in tests and in CI they are formatted to stderr
//! as `perfuse-sim: WARN ...`. `PERFUSE_LOG` filters them (unless set,
//! Perfuse's own information and the libraries' warnings; for example
//! `PERFUSE_LOG=debug` or `PERFUSE_LOG=perfuse_sim=debug`).
//!
//! These are not the safety records: the event log (SQLite) and the
//! supervisor's fsynced trip log keep what happened to the patient's
//! infusion, whatever the logging does.

// Unsafe code lives in perfuse-os and the simulated board's shared memory only.
#![forbid(unsafe_code)]

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// The variable that filters what is logged (tracing's `EnvFilter` syntax).
pub const FILTER_VARIABLE: &str = "PERFUSE_LOG";

/// What is logged unless `PERFUSE_LOG` says otherwise: Perfuse's own
/// information, and only warnings from the libraries under it (the window
/// system's chatter is not the pump's).
pub const DEFAULT_FILTER: &str = "warn,perfuse=info,perfuse_sim=info,perfuse_supervisor=info,perfuse_heartbeat=info,perfuse_os=info,perfuse_core=info,perfuse_drivers=info,perfuse_logging=info";

/// Where a process's log went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The systemd journal.
    Journal,
    /// Standard error, one line per event.
    Stderr,
}

/// Sets up logging for `process` (its binary's name) once, at the start of
/// `main`. A second call, or a filter that does not parse, leaves logging
/// as it is and says so on stderr; it never stops the process.
pub fn init(process: &'static str) -> Destination {
    let (filter, bad_filter) = match std::env::var(FILTER_VARIABLE) {
        Ok(text) => match EnvFilter::try_new(&text) {
            Ok(filter) => (filter, None),
            Err(error) => (
                EnvFilter::new(DEFAULT_FILTER),
                Some(format!("{text:?}: {error}")),
            ),
        },
        Err(_) => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let journal = std::env::var_os("JOURNAL_STREAM")
        .is_some()
        .then(|| tracing_journald::layer().ok())
        .flatten();
    let (destination, installed) = match journal {
        Some(layer) => (
            Destination::Journal,
            tracing_subscriber::registry()
                .with(filter)
                .with(layer.with_syslog_identifier(process.to_owned()))
                .try_init(),
        ),
        None => (
            Destination::Stderr,
            tracing_subscriber::registry()
                .with(filter)
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_ansi(false)
                        .event_format(Line { process }),
                )
                .try_init(),
        ),
    };
    if let Err(error) = installed {
        eprintln!("{process}: logging was already set up: {error}");
    }
    if let Some(problem) = bad_filter {
        tracing::warn!("{FILTER_VARIABLE} {problem}; logging as by default instead");
    }
    destination
}

/// One line per event: `process: LEVEL message key=value`, with the level
/// left out for plain information, as a console tool would print it.
struct Line {
    process: &'static str,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "{}: ", self.process)?;
        let level = *event.metadata().level();
        if level != tracing::Level::INFO {
            write!(writer, "{level} ")?;
        }
        context
            .field_format()
            .format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_default_filter_parses() {
        assert!(EnvFilter::try_new(DEFAULT_FILTER).is_ok());
    }

    #[test]
    fn a_line_names_the_process_and_any_level_above_information() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .event_format(Line {
                    process: "perfuse-sim",
                }),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("board ready");
            tracing::warn!(pid = 42, "app is gone");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "perfuse-sim: board ready\nperfuse-sim: WARN app is gone pid=42\n"
        );
    }
}
