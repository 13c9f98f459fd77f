//! `perfuse-supervisor`: the command line. It opens the board back-end,
//! verifies the installed mechanism profile (for the encoder's ratio), runs
//! the self-test, tells systemd it is ready (Type=notify), and supervises
//! until SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use perfuse_drivers::backend::sim::open_supervisor;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_drivers::sim::{Board, SimPaths, SimWatchdog};

use super::link::HeartbeatListener;
use super::supervisor::{Supervisor, SupervisorConfig};
use super::watch::Policy;
use crate::platform::MechanismProfile;
use crate::signing::{read_signed, verify_detached, TrustedKeys};

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-supervisor",
    version,
    about = "The Perfuse safety supervisor: holds the motor enable and the buzzer, watches the app's heartbeats"
)]
pub struct Cli {
    /// Supervise on the simulated board in this folder (perfuse-sim --dir).
    #[arg(long)]
    pub sim_dir: PathBuf,
    /// The installed, signed mechanism profile (for the encoder's ratio).
    #[arg(long)]
    pub profile: PathBuf,
    /// Trusted keys the profile must be signed by.
    #[arg(long)]
    pub keys: PathBuf,
    /// Heartbeat socket (default: <sim-dir>/supervisor.sock).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Append-only event log (default: <sim-dir>/supervisor.log).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Board configuration (default: the reference wiring).
    #[arg(long)]
    pub board_config: Option<PathBuf>,
    /// Watchdog timeout, ms.
    #[arg(long, default_value_t = 1000)]
    pub watchdog_ms: u32,
    /// Heartbeat deadline, ms.
    #[arg(long, default_value_t = 50)]
    pub deadline_ms: u64,
}

fn notify_systemd_ready() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let text = path.to_string_lossy();
    let _ = match text.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|address| socket.send_to_addr(b"READY=1", &address))
        }
        None => socket.send_to(b"READY=1", PathBuf::from(path)),
    };
}

/// SCHED_FIFO priority of the supervisor: above the app's control thread (80),
/// so a busy app can never starve the one process that may cut the motor.
pub const FIFO_PRIORITY: u8 = 90;

/// Asks for real-time scheduling and locked memory; warns once if refused.
fn go_realtime() {
    use thread_priority::unix::{
        set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy,
        ThreadSchedulePolicy,
    };
    let priority = thread_priority::ThreadPriorityValue::try_from(FIFO_PRIORITY)
        .map_err(|error| format!("{error:?}"))
        .and_then(|value| {
            set_thread_priority_and_policy(
                thread_native_id(),
                thread_priority::ThreadPriority::Crossplatform(value),
                ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
            )
            .map_err(|error| format!("{error:?}"))
        });
    if let Err(error) = priority {
        eprintln!("perfuse-supervisor: SCHED_FIFO {FIFO_PRIORITY} not permitted ({error}): running as a normal process");
    }
    use nix::sys::mman::{mlockall, MlockAllFlags};
    if let Err(error) = mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
        eprintln!("perfuse-supervisor: mlockall not permitted ({error}): memory may be paged");
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let (bytes, signature) = read_signed(&cli.profile)?;
    let keys_text = std::fs::read_to_string(&cli.keys)
        .map_err(|error| format!("{}: {error}", cli.keys.display()))?;
    let keys = TrustedKeys::from_toml(&keys_text).map_err(|error| error.to_string())?;
    verify_detached(&bytes, signature.as_deref(), &keys)
        .map_err(|error| format!("{}: the profile is refused: {error}", cli.profile.display()))?;
    let profile = MechanismProfile::parse(&bytes).map_err(|error| error.to_string())?;
    let board_config = match &cli.board_config {
        Some(path) => BoardConfig::load(path),
        None => BoardConfig::from_toml(REFERENCE_TOML),
    }
    .map_err(|error| error.to_string())?;
    let paths = SimPaths::in_dir(&cli.sim_dir);
    let board = Board::open(&paths.board()).map_err(|error| error.to_string())?;
    let hardware = open_supervisor(&board, &board_config);
    let watchdog = SimWatchdog::open(board.clone(), cli.watchdog_ms);
    let config = SupervisorConfig {
        socket: cli
            .socket
            .unwrap_or_else(|| cli.sim_dir.join("supervisor.sock")),
        allowed_uid: nix::unistd::geteuid().as_raw(),
        policy: Policy {
            deadline_us: cli.deadline_ms * 1000,
            stale_after_us: cli.deadline_ms * 1000,
            ..Policy::DEFAULT
        },
        log: cli
            .log
            .unwrap_or_else(|| cli.sim_dir.join("supervisor.log")),
        encoder_counts_per_turn: profile.sensors.encoder_counts_per_turn,
        microsteps_per_turn: profile.microsteps_per_turn(),
    };
    let listener = HeartbeatListener::bind(&config.socket, config.allowed_uid)?;
    let mut supervisor = Supervisor::start(
        hardware.motor_enable,
        hardware.buzzer,
        hardware.encoder,
        watchdog,
        config,
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|error| format!("cannot handle signals: {error}"))?;
    }
    go_realtime();
    notify_systemd_ready();
    eprintln!(
        "perfuse-supervisor: supervising; heartbeats on {}",
        listener.path().display()
    );
    let report = supervisor.run(&listener, &stop);
    eprintln!(
        "perfuse-supervisor: stopped after {} periods, {} trips, {} rejected messages, {} late periods",
        report.periods, report.trips, report.rejected, report.late_periods
    );
    Ok(())
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("perfuse-supervisor: {message}");
            ExitCode::FAILURE
        }
    }
}
