//! The `perfuse-sim` command line: `run` starts the simulator; `ctl` sends it
//! one command (fault injection, ground truth) and prints the JSON answer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use super::physics::{Mechanism, Syringe};
use super::service::{run, SimClient, SimIdentity, SimOptions, SimPaths};
use super::simulator::SimWiring;
use perfuse_drivers::config::BoardConfig;

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-sim",
    version,
    about = "The Perfuse simulated pump board: physics, chips, watchdog and fault injection"
)]
pub struct Cli {
    /// Folder for the board and control socket (default: $PERFUSE_SIM_DIR or /dev/shm/perfuse-sim).
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: SimCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MechanismChoice {
    Syringe,
    Volumetric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IdentityChoice {
    /// The carrier board of the simulated mechanism.
    Matching,
    /// A board this software does not support.
    Unknown,
    /// No identity EEPROM.
    Missing,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run the simulated board until stopped (Ctrl-C or SIGTERM).
    Run {
        #[arg(long, value_enum, default_value = "syringe")]
        mechanism: MechanismChoice,
        /// Syringe size in mL (10, 20, 30 or 50), for the syringe mechanism.
        #[arg(long, default_value_t = 50)]
        syringe: u32,
        /// Fluid loaded: mL in the syringe or bag (default: a full syringe, or a 1000 mL bag).
        #[arg(long)]
        reservoir: Option<f64>,
        /// What the board identity EEPROM says.
        #[arg(long, value_enum, default_value = "matching")]
        identity: IdentityChoice,
        /// Board configuration whose wiring the simulated board follows (default: the reference wiring).
        #[arg(long)]
        board_config: Option<PathBuf>,
        /// Play the buzzer through the sound card, as the Pi's would sound
        /// (a build with the `sound` feature; silent, saying so, otherwise
        /// or without a sound device).
        #[arg(long)]
        sound: bool,
    },
    /// Send one command to a running simulator, e.g. `ctl occlude downstream full` or `ctl truth`.
    Ctl {
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        words: Vec<String>,
    },
}

/// What `run` was asked to simulate.
struct RunArguments {
    mechanism: MechanismChoice,
    syringe: u32,
    reservoir: Option<f64>,
    identity: IdentityChoice,
    board_config: Option<PathBuf>,
    sound: bool,
}

fn options(arguments: RunArguments) -> Result<SimOptions, String> {
    let config = match &arguments.board_config {
        Some(path) => BoardConfig::load(path),
        None => BoardConfig::from_toml(perfuse_drivers::config::REFERENCE_TOML),
    }
    .map_err(|error| error.to_string())?;
    let wiring = SimWiring::from(config.pins);
    let identity = match arguments.identity {
        IdentityChoice::Matching => SimIdentity::Matching,
        IdentityChoice::Unknown => SimIdentity::Unknown,
        IdentityChoice::Missing => SimIdentity::Missing,
    };
    if let Some(reservoir) = arguments.reservoir {
        if !reservoir.is_finite() || reservoir < 0.0 {
            return Err(format!(
                "--reservoir {reservoir}: give the mL loaded, 0 or more"
            ));
        }
    }
    let (mechanism, full) = match arguments.mechanism {
        MechanismChoice::Syringe => {
            let size = Syringe::ALL
                .into_iter()
                .find(|candidate| candidate.capacity_ml == f64::from(arguments.syringe))
                .ok_or_else(|| {
                    format!(
                        "no {} mL syringe: the mechanism takes 10, 20, 30 or 50 mL",
                        arguments.syringe
                    )
                })?;
            (Mechanism::reference_syringe(size), size.capacity_ml)
        }
        MechanismChoice::Volumetric => (Mechanism::reference_peristaltic(), 1000.0),
    };
    Ok(SimOptions {
        mechanism,
        reservoir_ml: arguments.reservoir.unwrap_or(full),
        wiring,
        identity,
        sound: arguments.sound,
    })
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    perfuse_logging::init("perfuse-sim");
    let cli = Cli::parse();
    let paths = cli.dir.map_or_else(SimPaths::from_env, SimPaths::in_dir);
    match cli.command {
        SimCommand::Run {
            mechanism,
            syringe,
            reservoir,
            identity,
            board_config,
            sound,
        } => {
            let arguments = RunArguments {
                mechanism,
                syringe,
                reservoir,
                identity,
                board_config,
                sound,
            };
            let options = match options(arguments) {
                Ok(options) => options,
                Err(message) => {
                    tracing::error!("{message}");
                    return ExitCode::FAILURE;
                }
            };
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                if let Err(error) = signal_hook::flag::register(signal, stop.clone()) {
                    tracing::error!("cannot handle signal {signal}: {error}");
                    return ExitCode::FAILURE;
                }
            }
            tracing::info!(
                "board {}, control socket {}",
                paths.board().display(),
                paths.socket().display()
            );
            match run(&paths, options, &stop) {
                Ok(stats) => {
                    tracing::info!(
                        "stopped after {} steps ({} late), {} commands, {} watchdog resets",
                        stats.steps,
                        stats.late_steps,
                        stats.commands,
                        stats.watchdog_resets
                    );
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    tracing::error!("{message}");
                    ExitCode::FAILURE
                }
            }
        }
        SimCommand::Ctl { words } => {
            let answer =
                SimClient::connect(&paths).and_then(|mut client| client.send(&words.join(" ")));
            match answer {
                Ok(value) => {
                    println!("{value}");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    tracing::error!("{message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
