//! `perfuse-headless`: the app without a screen, driven by line commands on
//! stdin; for fault-injection tests and scripted usability sessions. It
//! verifies the platform, runs the real control thread on the simulated
//! board with heartbeats to the supervisor, and prints events and status.
//!
//! Commands, one per line: `load <rate mL/h> <volume mL>`, `start`, `pause`,
//! `resume`, `stop`, `titrate <rate mL/h>`, `ack`, `silence`, `status`,
//! `quit`. Output lines: `ready`, `event ...`, `status {json}`, `error ...`.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use perfuse_drivers::backend::sim::open_control;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_drivers::hat::HatIdentity;
use perfuse_drivers::sim::{Board, SimPaths};

use crate::control::controller::{Command, Controller, ControllerHardware, Snapshot};
use crate::control::program::program_from_plan;
use crate::control::settings::controller_settings;
use crate::control::thread::{spawn, ControlHandle, ThreadConfig};
use crate::control::units::NanolitresPerHour;
use crate::platform::{read_installed_profile, verify_platform, MechanismKind};
use crate::signing::TrustedKeys;
use crate::supervision::link::HeartbeatSender;
use crate::therapy::{
    parse_decimal, plan, Delivery, EndOfInfusion, Medication, Millilitres, MillilitresPerHour,
    Program, TherapyError,
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
    /// The syringe loaded (syringe platforms).
    #[arg(long, default_value = "BD Plastipak 50 mL")]
    pub syringe: String,
}

fn status_json(snapshot: &Snapshot) -> String {
    let alarms: Vec<String> = snapshot
        .alarms
        .iter()
        .flatten()
        .map(|alarm| format!("\"{:?}\"", alarm.condition))
        .collect();
    format!(
        "{{\"mode\":\"{:?}\",\"rate_nl_h\":{},\"delivered_nl\":{},\"remaining_nl\":{},\"steps\":{},\"downstream_tenths_mmhg\":{},\"alarms\":[{}]}}",
        snapshot.mode,
        snapshot.commanded_rate.0,
        snapshot.delivered.0,
        snapshot.remaining.0,
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

/// Parses one line into a command for the control thread (through the therapy core).
fn command(line: &str, limits: &crate::therapy::RateLimits) -> Result<Option<Command>, String> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or_default();
    Ok(Some(match verb {
        "load" => {
            let rate = rate(words.next())?;
            let volume = words.next().ok_or("give the volume to be infused in mL")?;
            let volume = parse_decimal(volume).map(Millilitres::new).map_err(|error| error.to_string())?;
            let program = Program { medication: Medication::Basic, delivery: Delivery::Rate { rate, volume }, end: EndOfInfusion::Stop };
            let planned = plan(&program, limits).map_err(|error| error.to_string())?;
            Command::Load(program_from_plan(&planned).map_err(|error| error.to_string())?)
        }
        "titrate" => {
            let rate = rate(words.next())?;
            crate::therapy::rules::RATE.check(rate.value()).map_err(|error| error.to_string())?;
            Command::Titrate(NanolitresPerHour::from_rate(rate).map_err(|error| error.to_string())?)
        }
        "start" => Command::Start,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "stop" => Command::Stop,
        "ack" => Command::AcknowledgeAlarms,
        "silence" => Command::SilenceAlarms,
        "status" | "quit" | "help" | "" => return Ok(None),
        other => return Err(format!("unknown command \"{other}\": load, start, pause, resume, stop, titrate, ack, silence, status, quit")),
    }))
}

fn serve(mut handle: ControlHandle, limits: crate::therapy::RateLimits) {
    let (lines_sender, lines) = mpsc::sync_channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_sender.send(line).is_err() {
                break;
            }
        }
    });
    println!("ready");
    loop {
        match lines.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed == "quit" {
                    break;
                }
                if trimmed == "help" {
                    println!("help load <rate mL/h> <volume mL> | start | pause | resume | stop | titrate <rate mL/h> | ack | silence | status | quit");
                }
                if trimmed == "status" {
                    println!("status {}", status_json(&handle.snapshot()));
                }
                match command(trimmed, &limits) {
                    Ok(Some(command)) => {
                        if let Err(error) = handle.send(command) {
                            println!("error {error}");
                        }
                    }
                    Ok(None) => {}
                    Err(error) => println!("error {error}"),
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for event in handle.events(64) {
            println!("event {event:?}");
        }
    }
    let _ = handle.stop();
}

fn run(cli: Cli) -> Result<(), String> {
    run_on(&cli)
}

/// Runs the app on the simulated board in `cli.sim_dir` until `quit` or the
/// end of stdin.
pub fn run_on(cli: &Cli) -> Result<(), String> {
    let keys_text = std::fs::read_to_string(&cli.keys)
        .map_err(|error| format!("{}: {error}", cli.keys.display()))?;
    let keys = TrustedKeys::from_toml(&keys_text).map_err(|error| error.to_string())?;
    let paths = SimPaths::in_dir(&cli.sim_dir);
    let verified = verify_platform(
        HatIdentity::read_from(&paths.hat()),
        read_installed_profile(&cli.profile),
        &keys,
    )
    .map_err(|rejection| format!("platform not verified: {rejection}. {}", rejection.action()))?;
    println!(
        "platform {} verified on {}",
        verified.platform.name, verified.identity
    );
    let profile = verified.profile;
    let syringe =
        (profile.profile.mechanism == MechanismKind::Syringe).then_some(cli.syringe.as_str());
    let config = BoardConfig::from_toml(REFERENCE_TOML).map_err(|error| error.to_string())?;
    let settings = controller_settings(&profile, syringe, 1, 1000, config.debounce_samples)
        .map_err(|error| error.to_string())?;
    let limits = profile.rate_limits(
        syringe.and_then(|name| profile.syringes.iter().find(|spec| spec.name == name)),
    );
    let board = Board::open(&paths.board()).map_err(|error| error.to_string())?;
    let hardware = open_control(&board, &config);
    let controller = Controller::start(
        ControllerHardware {
            step: hardware.step,
            direction: hardware.direction,
            air_sensor: hardware.air_sensor,
            door: hardware.door,
            light_red: hardware.light_red,
            light_yellow: hardware.light_yellow,
            stepper: hardware.stepper,
            adc: hardware.adc,
            encoder: None,
        },
        settings,
        true,
    );
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| cli.sim_dir.join("supervisor.sock"));
    let sender = HeartbeatSender::new(&socket)?;
    let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
    let handle = spawn(controller, ThreadConfig::pump(cpus), Some(sender))?;
    serve(handle, limits);
    Ok(())
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
