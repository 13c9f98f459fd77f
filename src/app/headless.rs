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

use perfuse_drivers::annunciator::AlarmVolume;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rust_decimal::prelude::ToPrimitive as _;

use clap::Parser;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_drivers::hat::HatIdentity;
use perfuse_sim::hardware::open_control;
use perfuse_sim::{Board, SimPaths};

use crate::app::persist::{
    interrupted, progress, record_of, record_of_mode, Interrupted, KeptProgram, PROGRESS_EVERY_MS,
};
use crate::control::controller::{Command, Controller, ControllerHardware, Mode, Snapshot};
use crate::control::program::program_from_plan;
use crate::control::settings::controller_settings;
use crate::control::thread::{spawn, ControlHandle, ThreadConfig};
use crate::control::units::NanolitresPerHour;
use crate::platform::{read_installed_profile, verify_platform, MechanismKind};
use crate::signing::TrustedKeys;
use crate::store::writer::{StoreWriter, WriterStats};
use crate::store::{Event, EventLog};
use crate::supervision::link::HeartbeatSender;
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
        "status" | "quit" | "help" | "" => return Ok(None),
        other => return Err(format!("unknown command \"{other}\": load, start, pause, resume, stop, titrate, bolus, secondary, ack, silence, volume, status, quit")),
    }))
}

/// The store as the app uses it: absent if the database cannot be opened
/// (the pump still runs, stops and alarms; the reason is printed).
struct Services {
    store: Option<StoreWriter>,
    interrupted: Option<Interrupted>,
    kept: Option<KeptProgram>,
    delivered_before_nl: u64,
    last_mode: Mode,
    last_saved: Instant,
    /// The storage-fault alarm as last told to the controller, and the
    /// writer's counters then.
    storage_fault: bool,
    seen: WriterStats,
}

impl Services {
    fn open(path: &std::path::Path, platform: &str) -> Self {
        let mut services = Services {
            store: None,
            interrupted: None,
            kept: None,
            delivered_before_nl: 0,
            last_mode: Mode::SelfTest,
            last_saved: Instant::now(),
            storage_fault: false,
            seen: WriterStats {
                written: 0,
                dropped: 0,
                failures: 0,
            },
        };
        let log = match EventLog::open_or_recover(path) {
            Ok((log, None)) => log,
            Ok((log, Some(aside))) => {
                println!(
                    "error the event database was corrupt: it was moved to {} and a fresh one started; no interrupted program can be offered",
                    aside.display()
                );
                log
            }
            Err(error) => {
                println!("error the event log cannot be used, nothing will be kept: {error}");
                return services;
            }
        };
        match interrupted(&log) {
            Ok(found) => services.interrupted = found,
            Err(error) => println!("error the kept program cannot be read: {error}"),
        }
        match StoreWriter::spawn(log) {
            Ok(writer) => services.store = Some(writer),
            Err(error) => println!("error {error}"),
        }
        services.record(Event::PowerOn);
        services.record(Event::PlatformCheck {
            verified: true,
            detail: platform.to_owned(),
        });
        services
    }

    fn record(&self, event: Event) {
        if let Some(store) = &self.store {
            store.handle().record(event);
        }
    }

    fn save(&mut self, kept: Option<KeptProgram>) {
        self.kept = kept;
        self.last_saved = Instant::now();
        let Some(store) = &self.store else { return };
        match &self.kept {
            Some(kept) => match serde_json::to_string(kept) {
                Ok(json) => store.handle().save_program(json),
                Err(error) => println!("error cannot keep the program: {error}"),
            },
            None => store.handle().clear_program(),
        }
    }

    /// A program was loaded from `line` (`load <rate> <volume>`): keep it,
    /// continuing the totals of `resumed` if it is an interrupted one.
    fn loaded(&mut self, line: &str, resumed: Option<Interrupted>) {
        let mut words = line.split_whitespace().skip(1);
        let rate = words.next().unwrap_or_default().to_owned();
        let volume = words.next().unwrap_or_default().to_owned();
        let kept = match resumed {
            Some(interrupted) => {
                self.delivered_before_nl = interrupted.program.delivered_nl;
                self.record(Event::ProgramChanged {
                    program: format!(
                        "resumed after an interruption ({}): {rate} mL/h, {volume} mL left",
                        interrupted.why
                    ),
                });
                KeptProgram {
                    mode: "Ready".to_owned(),
                    ..interrupted.program
                }
            }
            None => {
                // A new program replaces any interrupted one.
                self.interrupted = None;
                self.delivered_before_nl = 0;
                let remaining_nl = parse_decimal(&volume)
                    .ok()
                    .and_then(|ml| (ml * rust_decimal::Decimal::from(1_000_000)).to_u64())
                    .unwrap_or(0);
                KeptProgram {
                    rate_ml_h: rate,
                    vtbi_ml: volume,
                    delivered_nl: 0,
                    remaining_nl,
                    mode: "Ready".to_owned(),
                    therapy: None,
                }
            }
        };
        self.save(Some(kept));
    }

    /// The storage-fault alarm, when it changes: on while the log cannot
    /// be opened or its last writes failed, off once a write succeeds.
    fn storage_change(&mut self) -> Option<bool> {
        let fault = match &self.store {
            None => true,
            Some(writer) => {
                let stats = writer.handle().stats();
                let fault = if stats.failures > self.seen.failures {
                    if let Some(error) = writer.handle().last_error() {
                        println!("error the event log cannot be written: {error}");
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
    fn follow(&mut self, snapshot: &Snapshot) {
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
                self.save(Some(progress(&kept, self.delivered_before_nl, snapshot)));
            }
            _ => {}
        }
    }
}

/// Rounds nL down to whole hundredths of a mL, as text: a resumed volume
/// is never more than what was left.
fn millilitres_down(nanolitres: u64) -> String {
    let hundredths = nanolitres / 10_000;
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
    loop {
        match lines.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed == "quit" {
                    break;
                }
                if trimmed == "help" {
                    println!("help load <rate mL/h> <volume mL> [kvo <rate mL/h>] | start | pause | resume | stop | titrate <rate mL/h> | bolus <volume mL> <seconds> | secondary <rate mL/h> <volume mL> | ack | silence | volume <1-4> | resume-interrupted | discard | status | quit");
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
                let mut words = trimmed.split_whitespace();
                let verb = words.next().unwrap_or_default();
                // An interrupted program: re-checked through the therapy core
                // as a new load of what was left; the nurse then starts it.
                let (line, resumed) = match verb {
                    "resume-interrupted" => match services.interrupted.take() {
                        Some(interrupted) => (
                            format!(
                                "load {} {}",
                                interrupted.program.rate_ml_h,
                                millilitres_down(interrupted.program.remaining_nl)
                            ),
                            Some(interrupted),
                        ),
                        None => {
                            println!("error there is no interrupted program to resume");
                            continue;
                        }
                    },
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
                match command(&line, &limits) {
                    Ok(Some(command)) => {
                        let is_load = matches!(command, Command::Load(_));
                        match handle.send(command) {
                            Err(error) => {
                                println!("error {error}");
                                services.interrupted = services.interrupted.take().or(resumed);
                            }
                            Ok(()) if is_load => services.loaded(&line, resumed),
                            Ok(()) => {}
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        println!("error {error}");
                        services.interrupted = services.interrupted.take().or(resumed);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for event in handle.events(64) {
            let program = services
                .kept
                .as_ref()
                .map(|kept| format!("{} mL/h, {} mL", kept.rate_ml_h, kept.vtbi_ml))
                .unwrap_or_default();
            if let Some(record) = record_of(&event, &program) {
                services.record(record);
            }
            println!("event {event:?}");
        }
        services.follow(&handle.snapshot());
        if let Some(fault) = services.storage_change() {
            if let Err(error) = handle.send(Command::StorageFault(fault)) {
                println!("error {error}");
            }
        }
    }
    services.record(Event::PowerOff);
    let _ = handle.stop();
}

fn run(cli: Cli) -> Result<(), String> {
    run_on(&cli)
}

/// Runs the app on the simulated board in `cli.sim_dir` until `quit` or the
/// end of stdin.
pub fn run_on(cli: &Cli) -> Result<(), String> {
    let prepared = prepare(cli).map_err(|rejected| rejected.message())?;
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

/// Why the app could not come up.
#[derive(Debug)]
pub enum NotReady {
    /// The platform failed its check: why, and what to do.
    Platform {
        why: String,
        action: String,
    },
    Other(String),
}

impl NotReady {
    pub fn message(&self) -> String {
        match self {
            NotReady::Platform { why, action } => format!("platform not verified: {why}. {action}"),
            NotReady::Other(message) => message.clone(),
        }
    }
}

impl From<String> for NotReady {
    fn from(message: String) -> Self {
        NotReady::Other(message)
    }
}

/// The app, up: the control thread running and heartbeating, the store open.
pub struct Prepared {
    pub handle: ControlHandle,
    pub limits: crate::therapy::RateLimits,
    services: Services,
    /// The verified platform's name.
    pub platform: String,
}

/// A platform that passed its check, with what the control thread needs.
pub struct VerifiedApp {
    pub platform: String,
    pub settings: crate::control::controller::ControllerSettings,
    pub limits: crate::therapy::RateLimits,
    /// The CPU for the control thread (None: the last one).
    pub control_cpu: Option<usize>,
}

/// Checks the board's identity (the HAT folder `identity`) against the
/// installed, signed mechanism profile before any hardware is opened.
pub fn verify(
    identity: &std::path::Path,
    profile: &std::path::Path,
    keys: &std::path::Path,
    syringe: &str,
    board: &BoardConfig,
) -> Result<VerifiedApp, NotReady> {
    let keys_text =
        std::fs::read_to_string(keys).map_err(|error| format!("{}: {error}", keys.display()))?;
    let keys = TrustedKeys::from_toml(&keys_text).map_err(|error| error.to_string())?;
    let verified = verify_platform(
        HatIdentity::read_from(identity),
        read_installed_profile(profile),
        &keys,
    )
    .map_err(|rejection| NotReady::Platform {
        why: rejection.to_string(),
        action: rejection.action().to_owned(),
    })?;
    println!(
        "platform {} verified on {}",
        verified.platform.name, verified.identity
    );
    let profile = verified.profile;
    let syringe = (profile.profile.mechanism == MechanismKind::Syringe).then_some(syringe);
    let settings = controller_settings(&profile, syringe, 1, 1000, board.debounce_samples)
        .map_err(|error| error.to_string())?;
    let limits = profile.rate_limits(
        syringe.and_then(|name| profile.syringes.iter().find(|spec| spec.name == name)),
    );
    Ok(VerifiedApp {
        platform: verified.platform.name.to_owned(),
        settings,
        limits,
        control_cpu: None,
    })
}

/// Starts the control thread on `hardware` (any board back-end),
/// heartbeating to the supervisor at `socket`, with the store at `store`.
pub fn start<OUT, IN, SPI>(
    verified: VerifiedApp,
    hardware: ControllerHardware<OUT, IN, SPI>,
    socket: &std::path::Path,
    store: &std::path::Path,
) -> Result<Prepared, NotReady>
where
    OUT: embedded_hal::digital::OutputPin + Send + 'static,
    IN: embedded_hal::digital::InputPin + Send + 'static,
    SPI: embedded_hal::spi::SpiDevice + Send + 'static,
{
    let controller = Controller::start(hardware, verified.settings, true);
    let sender = HeartbeatSender::new(socket)?;
    let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
    let services = Services::open(store, &verified.platform);
    let mut config = ThreadConfig::pump(cpus);
    if let Some(cpu) = verified.control_cpu {
        config.cpu = Some(cpu);
    }
    let handle = spawn(controller, config, Some(sender))?;
    Ok(Prepared {
        handle,
        limits: verified.limits,
        services,
        platform: verified.platform,
    })
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
    let store = cli
        .store
        .clone()
        .unwrap_or_else(|| cli.sim_dir.join("events.db"));
    start(
        verified,
        ControllerHardware::from(hardware),
        &socket,
        &store,
    )
}

/// The control thread with the services that follow it (event records,
/// the kept program, the storage-fault alarm), as the window drives it.
pub struct AppPump {
    handle: Option<ControlHandle>,
    services: Services,
}

impl AppPump {
    pub fn new(prepared: Prepared) -> (AppPump, crate::therapy::RateLimits, String) {
        let Prepared {
            handle,
            limits,
            services,
            platform,
        } = prepared;
        (
            AppPump {
                handle: Some(handle),
                services,
            },
            limits,
            platform,
        )
    }

    /// Where the window records interactions: the event log, or nowhere if
    /// it could not be opened (the storage-fault alarm then says so).
    /// Where the touchscreen records, and where its history screen reads:
    /// the event log's writer, or memory when the log cannot be used.
    pub fn recorder(
        &self,
    ) -> (
        Box<dyn crate::ui::pump::Recorder>,
        Box<dyn crate::ui::history::History>,
    ) {
        match &self.services.store {
            Some(writer) => (
                Box::new(writer.handle()),
                Box::new(crate::ui::history::LogHistory {
                    store: writer.handle(),
                }),
            ),
            None => {
                let memory = crate::ui::pump::MemoryRecorder::default();
                (Box::new(memory.clone()), Box::new(memory))
            }
        }
    }
}

impl crate::ui::pump::Pump for AppPump {
    fn interrupted(&mut self) -> Option<Interrupted> {
        self.services.interrupted.clone()
    }

    fn keep(&mut self, program: Option<KeptProgram>, delivered_before_nl: u64) {
        if program.is_none() && self.services.interrupted.is_some() {
            self.services.record(Event::ProgramStopped);
        }
        self.services.interrupted = None;
        self.services.delivered_before_nl = delivered_before_nl;
        self.services.save(program);
    }

    fn send(&mut self, command: Command) -> Result<(), String> {
        match self.handle.as_mut() {
            Some(handle) => handle.send(command).map_err(|error| error.to_string()),
            None => Err("the control thread has stopped".to_owned()),
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let Some(handle) = self.handle.as_mut() else {
            return Snapshot::default();
        };
        let snapshot = handle.snapshot();
        self.services.follow(&snapshot);
        if let Some(fault) = self.services.storage_change() {
            let _ = handle.send(Command::StorageFault(fault));
        }
        snapshot
    }

    fn events(&mut self) -> Vec<crate::control::controller::ControlEvent> {
        self.handle
            .as_mut()
            .map(|handle| handle.events(64))
            .unwrap_or_default()
    }
}

impl Drop for AppPump {
    fn drop(&mut self) {
        self.services.record(Event::PowerOff);
        if let Some(handle) = self.handle.take() {
            let _ = handle.stop();
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("perfuse-headless: {message}");
            ExitCode::FAILURE
        }
    }
}
