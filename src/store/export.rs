//! `perfuse-log`: the pump's history for biomedical engineers and usability
//! teams, as CSV or JSON, filtered by time and kind. It opens the database
//! read-only, once the pump has quit (a running pump holds it alone: the
//! error says so).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{EventKind, EventLog, Recorded};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-log",
    version,
    about = "Export the Perfuse event log as CSV or JSON"
)]
pub struct Cli {
    /// The event database (events.db).
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Events at or after this time (RFC 3339, e.g. 2026-11-21T08:00:00Z).
    #[arg(long)]
    pub from: Option<String>,
    /// Events at or before this time (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    /// Only these kinds, comma-separated (e.g. alarm_raised,supervisor_trip).
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Usability metrics from the interaction records instead of the events:
    /// each programming task's time, touches, refusals, backs and outcome,
    /// and each alarm's time to silence and to acknowledge.
    #[arg(long)]
    pub metrics: bool,
}

/// Writes usability metrics in `format` to `out`.
pub fn write_metrics(
    metrics: &crate::store::metrics::Metrics,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), String> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, metrics).map_err(|error| error.to_string())?;
            writeln!(out).map_err(|error| error.to_string())
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            let text = |value: Option<u64>| value.map(|ms| ms.to_string()).unwrap_or_default();
            writer
                .write_record([
                    "record",
                    "what",
                    "at_ms",
                    "duration_ms",
                    "touches",
                    "refusals",
                    "backs",
                    "outcome",
                    "silenced_after_ms",
                    "acknowledged_after_ms",
                ])
                .map_err(|error| error.to_string())?;
            for task in &metrics.tasks {
                writer
                    .write_record([
                        "task".to_owned(),
                        task.kind.clone(),
                        task.started_ms.to_string(),
                        task.duration_ms.to_string(),
                        task.touches.to_string(),
                        task.refusals.to_string(),
                        task.backs.to_string(),
                        format!("{:?}", task.outcome).to_lowercase(),
                        String::new(),
                        String::new(),
                    ])
                    .map_err(|error| error.to_string())?;
            }
            for alarm in &metrics.alarms {
                writer
                    .write_record([
                        "alarm".to_owned(),
                        alarm.condition.clone(),
                        alarm.shown_ms.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        text(alarm.silenced_after_ms),
                        text(alarm.acknowledged_after_ms),
                    ])
                    .map_err(|error| error.to_string())?;
            }
            writer.flush().map_err(|error| error.to_string())
        }
    }
}

fn instant(option: &str, text: &str) -> Result<i64, String> {
    let time = OffsetDateTime::parse(text, &Rfc3339).map_err(|error| {
        format!(
            "--{option} {text}: not an RFC 3339 time ({error}); write e.g. 2026-11-21T08:00:00Z"
        )
    })?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| format!("--{option} {text}: out of range"))
}

fn time_text(at_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| at_ms.to_string())
}

/// The fields of an event, without its kind, as JSON text.
fn fields(recorded: &Recorded) -> Result<serde_json::Value, String> {
    let mut value = serde_json::to_value(&recorded.event).map_err(|error| error.to_string())?;
    if let Some(object) = value.as_object_mut() {
        object.remove("kind");
    }
    Ok(value)
}

/// Writes `events` in `format` to `out`.
pub fn write(events: &[Recorded], format: Format, out: &mut dyn Write) -> Result<(), String> {
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer
                .write_record(["id", "time_utc", "kind", "details"])
                .map_err(|error| error.to_string())?;
            for recorded in events {
                writer
                    .write_record([
                        recorded.id.to_string(),
                        time_text(recorded.at_ms),
                        recorded.event.kind().name().to_owned(),
                        fields(recorded)?.to_string(),
                    ])
                    .map_err(|error| error.to_string())?;
            }
            writer.flush().map_err(|error| error.to_string())
        }
        Format::Json => {
            let rows = events
                .iter()
                .map(|recorded| {
                    Ok(serde_json::json!({
                        "id": recorded.id,
                        "time_utc": time_text(recorded.at_ms),
                        "kind": recorded.event.kind().name(),
                        "details": fields(recorded)?,
                    }))
                })
                .collect::<Result<Vec<_>, String>>()?;
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(|error| error.to_string())?;
            writeln!(out).map_err(|error| error.to_string())
        }
    }
}

fn run(cli: &Cli) -> Result<usize, String> {
    let mut kinds = Vec::with_capacity(cli.kind.len());
    for name in &cli.kind {
        let Some(kind) = EventKind::from_name(name) else {
            let known: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.name()).collect();
            return Err(format!(
                "--kind {name}: no such kind; the kinds are {}",
                known.join(", ")
            ));
        };
        kinds.push(kind);
    }
    let from = cli
        .from
        .as_deref()
        .map(|text| instant("from", text))
        .transpose()?
        .unwrap_or(0);
    let to = cli
        .to
        .as_deref()
        .map(|text| instant("to", text))
        .transpose()?
        .unwrap_or(i64::MAX);
    if from > to {
        return Err("--from is after --to: nothing could match".to_owned());
    }
    if !cli.db.exists() {
        return Err(format!("{}: no such event database", cli.db.display()));
    }
    let log = EventLog::open_read_only(&cli.db).map_err(|error| error.to_string())?;
    let events = log
        .events(from, to, &kinds)
        .map_err(|error| error.to_string())?;
    let mut file;
    let mut stdout;
    let out: &mut dyn Write = match &cli.out {
        Some(path) => {
            file = std::fs::File::create(path)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            &mut file
        }
        None => {
            stdout = std::io::stdout().lock();
            &mut stdout
        }
    };
    if cli.metrics {
        let metrics = crate::store::metrics::metrics(events.iter().map(|recorded| &recorded.event));
        write_metrics(&metrics, cli.format, out)?;
    } else {
        write(&events, cli.format, out)?;
    }
    Ok(events.len())
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(count) => {
            eprintln!("perfuse-log: {count} events");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("perfuse-log: {message}");
            ExitCode::FAILURE
        }
    }
}
