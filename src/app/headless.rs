//! `perfuse-headless`: the app without a screen, driven by line commands on
//! stdin; for fault-injection tests and scripted usability sessions. It
//! verifies the platform, runs the real control thread on the simulated
//! board with heartbeats to the supervisor, and prints events and status.
//!
//! Commands, one per line: `load <rate mL/h> <volume mL> [kvo <rate mL/h>]`,
//! `start`, `pause`, `resume`, `stop`, `titrate <rate mL/h>`,
//! `bolus <volume mL> <seconds>`, `secondary <rate mL/h> <volume mL>`,
//! `ack`, `silence`, `status`, `quit`. Output lines: `ready`, `event ...`,
//! `status {json}`, `error ...`. Every value goes through the therapy core,
//! which refuses it with the limit it broke.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use perfuse_drivers::annunciator::AlarmVolume;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_link::local::{wall_clock, OrderOutcome, Refusal};
use perfuse_sim::hardware::open_control;
use perfuse_sim::{Board, SimPaths};

use super::boot::{start, verify, NotReady, Prepared, VerifiedApp};
use crate::control::api::{Command, ControllerHardware, Snapshot};
use crate::control::program::program_from_plan;
use crate::control::thread::ControlHandle;
use crate::control::units::{Nanolitres, NanolitresPerHour};
use crate::services::records::record_of;
use crate::services::{LibraryNews, Services};
use crate::store::Event;
use crate::therapy::{
    parse_decimal, plan, plan_bolus, plan_secondary, BolusRequest, Delivery, EndOfInfusion,
    InfusionDuration, Medication, Millilitres, MillilitresPerHour, Program, SecondaryProgram,
    TherapyError,
};

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-headless",
    version,
    about = "The Perfuse app without a screen: line commands on stdin"
)]
pub struct Cli {
    /// The simulated board's folder (perfuse-sim --dir).
    #[arg(long)]
    pub sim_dir: PathBuf,
    /// The installed, signed mechanism profile.
    #[arg(long)]
    pub profile: PathBuf,
    #[arg(long)]
    pub keys: PathBuf,
    /// The supervisor's heartbeat socket (default: <sim-dir>/supervisor.sock).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The event log and kept program (default: <sim-dir>/events.db).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// The syringe loaded (syringe platforms).
    #[arg(long, default_value = "BD Plastipak 50 mL")]
    pub syringe: String,
    /// Load tests: a thread at normal priority draws the touchscreen's
    /// window offscreen without pause, as a busy UI thread would.
    #[arg(long)]
    pub busy_ui: bool,
    /// The CPU the control thread is pinned to (default: the last one).
    /// Tests that run several pumps on one machine spread them out.
    #[arg(long)]
    pub control_cpu: Option<usize>,
    /// The network link's local socket (perfuse-link --socket); without it
    /// the pump has no network link.
    #[arg(long)]
    pub link: Option<PathBuf>,
    /// The installed, signed drug library. With it the pump reports its
    /// library to the hospital, and stages and activates the libraries
    /// the hospital sends (`library`, `activate-library`).
    #[arg(long)]
    pub library: Option<PathBuf>,
}

fn status_json(snapshot: &Snapshot) -> String {
    let alarms: Vec<String> = snapshot
        .alarms
        .iter()
        .flatten()
        .map(|alarm| format!("\"{:?}\"", alarm.condition))
        .collect();
    format!(
        "{{\"mode\":\"{:?}\",\"rate_nl_h\":{},\"delivered_nl\":{},\"remaining_nl\":{},\"total_delivered_nl\":{},\"relieving\":{},\"steps\":{},\"downstream_tenths_mmhg\":{},\"alarms\":[{}]}}",
        snapshot.mode,
        snapshot.commanded_rate.0,
        snapshot.delivered.0,
        snapshot.remaining.0,
        snapshot.total_delivered.0,
        snapshot.relieving,
        snapshot.steps,
        snapshot.downstream_tenths_mmhg.map_or_else(|| "null".to_owned(), |value| value.to_string()),
        alarms.join(",")
    )
}

fn rate(text: Option<&str>) -> Result<MillilitresPerHour, String> {
    let text = text.ok_or("give a rate in mL/h")?;
    parse_decimal(text)
        .map(MillilitresPerHour::new)
        .map_err(|error: TherapyError| error.to_string())
}

fn volume(text: Option<&str>, what: &str) -> Result<Millilitres, String> {
    let text = text.ok_or_else(|| format!("give the {what} in mL"))?;
    parse_decimal(text)
        .map(Millilitres::new)
        .map_err(|error| error.to_string())
}

/// What follows `load <rate> <volume>`: nothing (stop at the end) or
/// `kvo <rate>` (keep the vein open, never above the programmed rate).
fn end_of_infusion<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<EndOfInfusion, String> {
    match (words.next(), words.next(), words.next()) {
        (None, _, _) => Ok(EndOfInfusion::Stop),
        (Some("kvo"), rate_text, None) => Ok(EndOfInfusion::KeepVeinOpen {
            rate: rate(rate_text)?,
        }),
        (Some(other), _, _) => Err(format!(
            "after the volume comes nothing or \"kvo <rate mL/h>\", not \"{other}\""
        )),
    }
}

/// Parses one line into a command for the control thread (through the therapy core).
fn command(line: &str, limits: &crate::therapy::RateLimits) -> Result<Option<Command>, String> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or_default();
    Ok(Some(match verb {
        "load" => {
            let rate = rate(words.next())?;
            let volume = volume(words.next(), "volume to be infused")?;
            let end = end_of_infusion(words)?;
            let program = Program { medication: Medication::Basic, delivery: Delivery::Rate { rate, volume }, end };
            let planned = plan(&program, limits).map_err(|error| error.to_string())?;
            Command::Load(program_from_plan(&planned).map_err(|error| error.to_string())?)
        }
        "titrate" => {
            let rate = rate(words.next())?;
            crate::therapy::rules::RATE.check(rate.value()).map_err(|error| error.to_string())?;
            Command::Titrate(NanolitresPerHour::from_rate(rate).map_err(|error| error.to_string())?)
        }
        "bolus" => {
            let volume = volume(words.next(), "bolus volume")?;
            let seconds = words.next().ok_or("give the bolus time in seconds")?;
            let seconds: u32 = seconds
                .parse()
                .ok()
                .filter(|seconds| *seconds > 0)
                .ok_or_else(|| format!("bolus time \"{seconds}\": give whole seconds, 1 or more"))?;
            let request = BolusRequest::Volume { volume, duration: InfusionDuration::from_seconds(seconds) };
            let segment = plan_bolus(&Medication::Basic, &request, limits).map_err(|error| error.to_string())?;
            Command::Bolus(crate::control::state::Segment {
                purpose: segment.purpose,
                rate: NanolitresPerHour::from_rate(segment.rate).map_err(|error| error.to_string())?,
                volume: crate::control::units::Nanolitres::from_millilitres(segment.volume).map_err(|error| error.to_string())?,
            })
        }
        "secondary" => {
            let rate = rate(words.next())?;
            let volume = volume(words.next(), "secondary volume")?;
            let program = SecondaryProgram { medication: Medication::Basic, delivery: Delivery::Rate { rate, volume } };
            let planned = plan_secondary(&program, limits).map_err(|error| error.to_string())?;
            Command::Secondary(program_from_plan(&planned).map_err(|error| error.to_string())?)
        }
        "start" => Command::Start,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "stop" => Command::Stop,
        "ack" => Command::AcknowledgeAlarms,
        "silence" => Command::SilenceAlarms,
        "volume" => {
            let level = words.next().ok_or("give the alarm volume, 1 (quietest) to 4 (loudest)")?;
            let volume = level.parse().ok().and_then(AlarmVolume::new);
            Command::SetAlarmVolume(volume.ok_or_else(|| format!("alarm volume \"{level}\": the levels are 1 (quietest) to 4 (loudest)"))?)
        }
        "status" | "latency" | "link" | "library" | "quit" | "help" | "" => return Ok(None),
        other => return Err(format!("unknown command \"{other}\": load, start, pause, resume, stop, titrate, bolus, secondary, ack, silence, volume, status, quit")),
    }))
}

/// Rounds nL down to whole hundredths of a mL, as text: a resumed volume
/// is never more than what was left.
fn millilitres_down(volume: Nanolitres) -> String {
    let hundredths = volume.0 / 10_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn serve(mut handle: ControlHandle, limits: crate::therapy::RateLimits, mut services: Services) {
    let (lines_sender, lines) = mpsc::sync_channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_sender.send(line).is_err() {
                break;
            }
        }
    });
    if let Some(interrupted) = &services.interrupted {
        match serde_json::to_string(interrupted) {
            Ok(json) => println!("interrupted {json}"),
            Err(error) => println!("error {error}"),
        }
    }
    println!("ready");
    let mut desk = crate::services::orders::OrderDesk::default();
    loop {
        // The order being confirmed by this line, answered once its load
        // went through the therapy core (or did not).
        let mut confirming: Option<String> = None;
        match lines.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed == "quit" {
                    break;
                }
                if trimmed == "help" {
                    println!("help load <rate mL/h> <volume mL> [kvo <rate mL/h>] | start | pause | resume | stop | titrate <rate mL/h> | bolus <volume mL> <seconds> | secondary <rate mL/h> <volume mL> | ack | silence | volume <1-4> | resume-interrupted | discard | confirm-order | decline-order (an order from the hospital link) | status | latency (the control thread's wake-up lateness histogram) | link (the hospital link's health) | library (the drug library in use and the one staged from the hospital) | activate-library (the staged one, with no program loaded) | quit");
                }
                if trimmed == "status" {
                    let status = status_json(&handle.snapshot());
                    let stats = &handle.stats;
                    let counter = |value: &std::sync::atomic::AtomicU64| {
                        value.load(std::sync::atomic::Ordering::Relaxed)
                    };
                    // The control thread's own counters, for load tests.
                    println!(
                        "status {},\"heartbeats_sent\":{},\"heartbeats_missed\":{},\"overruns\":{},\"max_lateness_us\":{}}}",
                        status.trim_end_matches('}'),
                        counter(&stats.heartbeats_sent),
                        counter(&stats.heartbeats_missed),
                        counter(&stats.overruns),
                        counter(&stats.max_lateness_us)
                    );
                }
                if trimmed == "latency" {
                    // The control thread's wake-up lateness so far, to the
                    // microsecond: load and storm tests take percentiles
                    // over a window from two of these.
                    let stats = &handle.stats;
                    let counts = stats.fine_counts();
                    let line = serde_json::json!({
                        "counts": counts.as_slice(),
                        "overruns": stats.overruns.load(std::sync::atomic::Ordering::Relaxed),
                        "max_us": stats.max_lateness_us.load(std::sync::atomic::Ordering::Relaxed),
                    });
                    println!("latency {line}");
                }
                if trimmed == "link" {
                    // The hospital link as the app sees it: its last health
                    // report and what each side of the socket dropped.
                    let line = match services.link.as_ref() {
                        Some(link) => serde_json::json!({
                            "connected": link.connected(),
                            "health": link.health,
                            "dropped_to_link": link.dropped(),
                            "dropped_from_link": link.orders_dropped(),
                            "refused": link.refused,
                        }),
                        None => serde_json::json!({ "connected": false, "off": true }),
                    };
                    println!("link {line}");
                }
                if trimmed == "library" {
                    println!("library {}", library_json(&services));
                }
                let mut words = trimmed.split_whitespace();
                let verb = words.next().unwrap_or_default();
                // An interrupted program: re-checked through the therapy core
                // as a new load of what was left; the nurse then starts it.
                let (line, resumed) = match verb {
                    "resume-interrupted" => match services.interrupted.take() {
                        Some(interrupted) => (
                            format!(
                                "load {} {}",
                                interrupted.program.rate.value(),
                                millilitres_down(interrupted.program.remaining)
                            ),
                            Some(interrupted),
                        ),
                        None => {
                            println!("error there is no interrupted program to resume");
                            continue;
                        }
                    },
                    "confirm-order" => {
                        let mode = handle.snapshot().mode;
                        match desk.confirm(mode, wall_clock()) {
                            Ok(order) => match order_load_line(&order) {
                                Ok(load) => {
                                    confirming = Some(order.order_id.clone());
                                    (load, None)
                                }
                                Err(refusal) => {
                                    println!(
                                        "order-refused {} {}",
                                        order.order_id,
                                        refusal_words(&refusal)
                                    );
                                    answer_order(
                                        &mut services,
                                        &order.order_id,
                                        OrderOutcome::Refused { refusal },
                                    );
                                    continue;
                                }
                            },
                            Err((id, refusal)) if id.is_empty() => {
                                println!("error {}", refusal_words(&refusal));
                                continue;
                            }
                            Err((id, refusal)) => {
                                println!("order-refused {id} {}", refusal_words(&refusal));
                                answer_order(&mut services, &id, OrderOutcome::Refused { refusal });
                                continue;
                            }
                        }
                    }
                    "decline-order" => {
                        match desk.decline() {
                            Some(id) => {
                                println!("order-declined {id}");
                                answer_order(
                                    &mut services,
                                    &id,
                                    OrderOutcome::Refused {
                                        refusal: Refusal::Declined,
                                    },
                                );
                            }
                            None => println!("error no order is waiting"),
                        }
                        continue;
                    }
                    "activate-library" => {
                        match services.activate_library(handle.snapshot().mode) {
                            Ok(verified) => {
                                let identity = &verified.library.identity;
                                println!(
                                    "library-activated {} {} {}",
                                    identity.name,
                                    identity.version,
                                    identity.hash_hex()
                                );
                            }
                            Err(error) => println!("error {error}"),
                        }
                        continue;
                    }
                    "discard" => {
                        if services.interrupted.take().is_some() {
                            services.save(None);
                            services.record(Event::ProgramStopped);
                            println!("discarded");
                        } else {
                            println!("error there is no interrupted program to discard");
                        }
                        continue;
                    }
                    _ => (trimmed.to_owned(), None),
                };
                let refuse_confirmation = |services: &mut Services, why: String| {
                    if let Some(id) = &confirming {
                        println!("order-refused {id} {why}");
                        answer_order(
                            services,
                            id,
                            OrderOutcome::Refused {
                                refusal: Refusal::LibraryCheck(why),
                            },
                        );
                    }
                };
                match command(&line, &limits) {
                    Ok(Some(command)) => {
                        let is_load = matches!(command, Command::Load(_));
                        match handle.send(command) {
                            Err(error) => {
                                println!("error {error}");
                                refuse_confirmation(&mut services, error.to_string());
                                services.interrupted = services.interrupted.take().or(resumed);
                            }
                            Ok(()) if is_load => {
                                // As `command` parsed them for the load.
                                let mut words = line.split_whitespace().skip(1);
                                let loaded_rate = rate(words.next());
                                let loaded_volume = volume(words.next(), "volume to be infused");
                                if let (Ok(loaded_rate), Ok(loaded_volume)) =
                                    (loaded_rate, loaded_volume)
                                {
                                    services.loaded(loaded_rate, loaded_volume, resumed);
                                }
                                if let Some(id) = &confirming {
                                    println!("order-loaded {id}: start it with `start`");
                                    answer_order(&mut services, id, OrderOutcome::Confirmed);
                                }
                            }
                            Ok(()) => {}
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        println!("error {error}");
                        refuse_confirmation(&mut services, error.to_string());
                        services.interrupted = services.interrupted.take().or(resumed);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for event in handle.events(64) {
            let program = services
                .kept()
                .map(|kept| format!("{} mL/h, {} mL", kept.rate.value(), kept.vtbi.value()))
                .unwrap_or_default();
            if let Some(record) = record_of(&event, &program) {
                services.record(record);
            }
            println!("event {event:?}");
        }
        let snapshot = handle.snapshot();
        services.follow(&snapshot);
        take_orders(&mut services, &mut desk, snapshot.mode);
        match services.take_library_news() {
            Some(LibraryNews::Staged { offer, identity }) => println!(
                "library-staged {offer} {} {} {}: activate it with `activate-library`",
                identity.name,
                identity.version,
                identity.hash_hex()
            ),
            Some(LibraryNews::Refused { offer, reason }) => {
                println!("library-refused {offer} {}", reason.replace('\n', " "))
            }
            None => {}
        }
        if let Some(fault) = services.storage_change() {
            if let Err(error) = handle.send(Command::StorageFault(fault)) {
                println!("error {error}");
            }
        }
    }
    services.record(Event::PowerOff);
    let _ = handle.stop();
}

/// Orders that arrived from the link: each put before the nurse (printed
/// as `order {json}`, to be confirmed with `confirm-order` or declined
/// with `decline-order`), or refused with its reason.
fn take_orders(
    services: &mut Services,
    desk: &mut crate::services::orders::OrderDesk,
    mode: crate::control::api::Mode,
) {
    let Some(link) = services.link.as_mut() else {
        return;
    };
    while let Some(order) = link.take_order() {
        let id = order.order_id.clone();
        let json = serde_json::to_string(&order).unwrap_or_default();
        match desk.arrive(order, mode, wall_clock()) {
            Ok(()) => {
                println!("order {json}");
                link.answer(&id, OrderOutcome::Shown);
            }
            Err(refusal) => {
                println!("order-refused {id} {}", refusal_words(&refusal));
                link.answer(&id, OrderOutcome::Refused { refusal });
            }
        }
    }
}

/// The library in use and the one staged, as one JSON line.
fn library_json(services: &Services) -> serde_json::Value {
    let identity = |identity: &crate::druglib::LibraryIdentity| {
        serde_json::json!({
            "name": identity.name,
            "version": identity.version,
            "effective": identity.effective.to_string(),
            "sha256": identity.hash_hex(),
        })
    };
    let staged = match services.staged_library() {
        None => serde_json::Value::Null,
        Some(Ok(verified)) => identity(&verified.library.identity),
        Some(Err(why)) => serde_json::json!({ "refused": why }),
    };
    serde_json::json!({
        "active": services.library_in_use.as_ref().map(identity),
        "staged": staged,
    })
}

fn answer_order(services: &mut Services, id: &str, outcome: OrderOutcome) {
    if let Some(link) = services.link.as_mut() {
        link.answer(id, outcome);
    }
}

fn refusal_words(refusal: &Refusal) -> String {
    perfuse_link::pcd::refusal_text(refusal).1
}

/// The load line of a confirmed order (a rate order; a dose order needs
/// the drug library, which the line-command app does not load).
fn order_load_line(order: &perfuse_link::local::ProposedOrder) -> Result<String, Refusal> {
    match order.rate {
        Some(rate) => Ok(format!("load {} {}", rate.value(), order.vtbi.value())),
        None => Err(Refusal::LibraryCheck(
            "a dose order needs the drug library: confirm it on the touchscreen".into(),
        )),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    run_on(&cli)
}

/// Runs the app on the simulated board in `cli.sim_dir` until `quit` or the
/// end of stdin.
pub fn run_on(cli: &Cli) -> Result<(), String> {
    let mut prepared = prepare(cli).map_err(|rejected| rejected.message())?;
    if let Some(installed) = &cli.library {
        let startup = crate::druglib::startup::start_library(
            installed,
            &cli.keys,
            &crate::druglib::startup::last_good_path(&store_path(cli)),
            crate::druglib::tool::today_utc(),
        );
        println!("library-start {}", startup.describe().replace('\n', " "));
        prepared.services.use_library(
            startup
                .library()
                .map(|verified| verified.library.identity.clone()),
        );
    }
    if cli.busy_ui {
        busy_ui()?;
    }
    serve(prepared.handle, prepared.limits, prepared.services);
    Ok(())
}

/// A thread at normal priority that draws the touchscreen's window
/// offscreen without pause (the software renderer, as on the Pi): the load
/// of a busy UI thread beside the control thread, for load tests.
fn busy_ui() -> Result<(), String> {
    let (ready, started) = mpsc::sync_channel::<Result<(), String>>(1);
    std::thread::Builder::new()
        .name("perfuse-busy-ui".to_owned())
        .spawn(move || {
            let setup = crate::ui::offscreen::Offscreen::install(800, 480).and_then(|screen| {
                let window = perfuse_ui::AppWindow::new().map_err(|error| error.to_string())?;
                slint::ComponentHandle::show(&window).map_err(|error| error.to_string())?;
                Ok((screen, window))
            });
            match setup {
                Ok((mut screen, window)) => {
                    let _ = ready.send(Ok(()));
                    let mut flip = false;
                    loop {
                        // A new page each frame, so every frame is drawn whole.
                        flip = !flip;
                        slint::ComponentHandle::global::<perfuse_ui::Navigation>(&window)
                            .set_repaint(flip);
                        screen.draw();
                    }
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            }
        })
        .map_err(|error| format!("cannot start the busy UI thread: {error}"))?;
    started
        .recv()
        .map_err(|_| "the busy UI thread stopped at start".to_owned())?
        .map_err(|error| format!("the busy UI thread: {error}"))
}

/// Verifies the platform and starts the control thread on the simulated
/// board in `cli.sim_dir`, heartbeating to the supervisor.
pub fn prepare(cli: &Cli) -> Result<Prepared, NotReady> {
    let paths = SimPaths::in_dir(&cli.sim_dir);
    let config = BoardConfig::from_toml(REFERENCE_TOML).map_err(|error| error.to_string())?;
    let verified = VerifiedApp {
        control_cpu: cli.control_cpu,
        ..verify(&paths.hat(), &cli.profile, &cli.keys, &cli.syringe, &config)?
    };
    let board = Board::open(&paths.board()).map_err(|error| error.to_string())?;
    let hardware = open_control(&board, &config);
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| cli.sim_dir.join("supervisor.sock"));
    let store = store_path(cli);
    let mut prepared = start(
        verified,
        ControllerHardware::from(hardware),
        &socket,
        &store,
    )?;
    super::boot::attach_link(&mut prepared, cli.link.as_deref());
    if let Some(installed) = &cli.library {
        prepared.services.library_files = Some(crate::druglib::staging::LibraryFiles::beside(
            &store, installed, &cli.keys,
        ));
    }
    Ok(prepared)
}

/// The event log (and beside it the kept and staged libraries).
fn store_path(cli: &Cli) -> PathBuf {
    cli.store
        .clone()
        .unwrap_or_else(|| cli.sim_dir.join("events.db"))
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    perfuse_logging::init("perfuse-headless");
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
