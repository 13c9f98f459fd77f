//! The `perfuse-sim` command line: `run` starts the simulator; `ctl` sends it
//! one command (fault injection, ground truth) and prints the JSON answer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use super::physics::{Mechanism, Syringe};
use super::service::{run, SimClient, SimOptions, SimPaths};

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

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run the simulated board until stopped (Ctrl-C or SIGTERM).
    Run {
        #[arg(long, value_enum, default_value = "syringe")]
        mechanism: MechanismChoice,
        /// Syringe size in mL (10, 20, 30 or 50), for the syringe mechanism.
        #[arg(long, default_value_t = 50)]
        syringe: u32,
        /// Fluid loaded: mL in the syringe or bag (default: a full 50 mL syringe, or a 1000 mL bag).
        #[arg(long)]
        reservoir: Option<f64>,
    },
    /// Send one command to a running simulator, e.g. `ctl occlude downstream full` or `ctl truth`.
    Ctl {
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        words: Vec<String>,
    },
}

fn options(
    mechanism: MechanismChoice,
    syringe: u32,
    reservoir: Option<f64>,
) -> Result<SimOptions, String> {
    match mechanism {
        MechanismChoice::Syringe => {
            let size = Syringe::ALL
                .into_iter()
                .find(|candidate| candidate.capacity_ml == f64::from(syringe))
                .ok_or_else(|| {
                    format!("no {syringe} mL syringe: the mechanism takes 10, 20, 30 or 50 mL")
                })?;
            let reservoir_ml = reservoir.unwrap_or(size.capacity_ml);
            Ok(SimOptions {
                mechanism: Mechanism::reference_syringe(size),
                reservoir_ml,
            })
        }
        MechanismChoice::Volumetric => Ok(SimOptions {
            mechanism: Mechanism::reference_peristaltic(),
            reservoir_ml: reservoir.unwrap_or(1000.0),
        }),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let paths = cli.dir.map_or_else(SimPaths::from_env, SimPaths::in_dir);
    match cli.command {
        SimCommand::Run {
            mechanism,
            syringe,
            reservoir,
        } => {
            let options = match options(mechanism, syringe, reservoir) {
                Ok(options) => options,
                Err(message) => {
                    eprintln!("perfuse-sim: {message}");
                    return ExitCode::FAILURE;
                }
            };
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                if let Err(error) = signal_hook::flag::register(signal, stop.clone()) {
                    eprintln!("perfuse-sim: cannot handle signal {signal}: {error}");
                    return ExitCode::FAILURE;
                }
            }
            eprintln!(
                "perfuse-sim: board {} , control socket {}",
                paths.board().display(),
                paths.socket().display()
            );
            match run(&paths, options, &stop) {
                Ok(stats) => {
                    eprintln!(
                        "perfuse-sim: stopped after {} steps ({} late), {} commands, {} watchdog resets",
                        stats.steps, stats.late_steps, stats.commands, stats.watchdog_resets
                    );
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("perfuse-sim: {message}");
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
                    eprintln!("perfuse-sim: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
