//! `perfuse-supervisor`: the command line. It opens the board back-end,
//! verifies the installed mechanism profile (for the encoder's ratio), runs
//! the self-test, tells systemd it is ready (Type=notify), and supervises
//! until SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use perfuse_drivers::backend::{Backend, SupervisorHardware};
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_sim::{Board, SimPaths, SimWatchdog};

use super::supervisor::{Supervisor, SupervisorConfig, Watchdog};
use super::watch::Policy;
use perfuse_core::platform::MechanismProfile;
use perfuse_core::signing::{read_signed, verify_detached, TrustedKeys};
use perfuse_heartbeat::link::HeartbeatListener;
use perfuse_os::watchdog::DeviceWatchdog;

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-supervisor",
    version,
    about = "The Perfuse safety supervisor: holds the motor enable and the buzzer, watches the app's heartbeats"
)]
pub struct Cli {
    /// The board to supervise.
    #[arg(long, value_enum, default_value_t = Backend::Sim)]
    pub backend: Backend,
    /// The simulated board's folder (perfuse-sim --dir); with --backend sim only.
    #[arg(long)]
    pub sim_dir: Option<PathBuf>,
    /// The installed, signed mechanism profile (for the encoder's ratio).
    #[arg(long)]
    pub profile: PathBuf,
    /// Trusted keys the profile must be signed by.
    #[arg(long)]
    pub keys: PathBuf,
    /// Heartbeat socket (default: <sim-dir>/supervisor.sock, or
    /// /run/perfuse/supervisor.sock on a real board).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Append-only event log (default: <sim-dir>/supervisor.log, or
    /// /var/lib/perfuse/supervisor.log on a real board).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Board configuration (default: the reference wiring).
    #[arg(long)]
    pub board_config: Option<PathBuf>,
    /// Watchdog timeout, ms (a real board's watchdog takes whole seconds, 1000 to 15000).
    #[arg(long, default_value_t = 1000)]
    pub watchdog_ms: u32,
    /// The hardware watchdog device [default: /dev/watchdog on a real
    /// board; with --backend sim, the simulated board's own watchdog unless
    /// a device is named, as the emulated-machine boot test names the
    /// kernel's softdog].
    #[arg(long)]
    pub watchdog_device: Option<PathBuf>,
    /// The GPIO character device (--backend linux).
    #[arg(long, default_value = "/dev/gpiochip0")]
    pub gpio_chip: PathBuf,
    /// The user id the app runs as; heartbeats from any other user are
    /// refused (default: the supervisor's own).
    #[arg(long, conflicts_with = "app_user")]
    pub app_uid: Option<u32>,
    /// The user the app runs as, by name (as in a systemd unit).
    #[arg(long)]
    pub app_user: Option<String>,
    /// Heartbeat deadline, ms.
    #[arg(long, default_value_t = 50)]
    pub deadline_ms: u64,
}

/// Default locations on a real board (the systemd units create them).
pub use perfuse_heartbeat::DEVICE_SOCKET;
pub const DEVICE_LOG: &str = "/var/lib/perfuse/supervisor.log";
pub const DEVICE_WATCHDOG: &str = "/dev/watchdog";

/// The whole seconds a hardware watchdog takes for `--watchdog-ms`.
pub fn device_watchdog_seconds(watchdog_ms: u32) -> Result<u32, String> {
    if !watchdog_ms.is_multiple_of(1000) || !(1000..=15000).contains(&watchdog_ms) {
        return Err(format!(
            "--watchdog-ms {watchdog_ms}: a hardware watchdog takes whole seconds, 1000 to 15000 ms"
        ));
    }
    Ok(watchdog_ms / 1000)
}

/// Tells systemd the self-test passed (Type=notify); nothing outside systemd.
fn notify_systemd_ready() {
    if let Err(error) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!("cannot tell systemd it is ready: {error}");
    }
}

/// SCHED_FIFO priority of the supervisor: above the app's control thread (80),
/// so a busy app can never starve the one process that may cut the motor.
pub const FIFO_PRIORITY: u8 = 90;

/// Asks for locked memory and real-time scheduling (the whole process is
/// the loop); warns once for each refusal.
fn go_realtime() {
    let status = perfuse_os::realtime::go_realtime(perfuse_os::realtime::RealtimeRequest {
        lock_memory: true,
        cpu: None,
        fifo_priority: Some(FIFO_PRIORITY),
        // Not for the pump: CPUs kept polling cost power on battery, and
        // the Pi 4's kernel idles in WFI, which wakes at once. The storm
        // test asks for it on a virtual machine, as cyclictest does.
        no_deep_idle: false,
    });
    for warning in &status.warnings {
        tracing::warn!("{warning}");
    }
}

/// The uid whose heartbeats are accepted.
fn app_uid(cli: &Cli) -> Result<u32, String> {
    match (&cli.app_user, cli.app_uid) {
        (Some(name), _) => match nix::unistd::User::from_name(name) {
            Ok(Some(user)) => Ok(user.uid.as_raw()),
            Ok(None) => Err(format!("--app-user {name}: no such user on this system")),
            Err(error) => Err(format!("--app-user {name}: cannot look it up: {error}")),
        },
        (None, Some(uid)) => Ok(uid),
        (None, None) => Ok(nix::unistd::geteuid().as_raw()),
    }
}

/// What the supervisor needs besides the board.
struct Prepared {
    config: SupervisorConfig,
    board_config: BoardConfig,
}

fn prepare(cli: &Cli, default_dir: Option<&Path>) -> Result<Prepared, String> {
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
    let default_path = |name: &str, device: &str| match default_dir {
        Some(dir) => dir.join(name),
        None => PathBuf::from(device),
    };
    let config = SupervisorConfig {
        socket: cli
            .socket
            .clone()
            .unwrap_or_else(|| default_path("supervisor.sock", DEVICE_SOCKET)),
        allowed_uid: app_uid(cli)?,
        policy: Policy {
            deadline_us: cli.deadline_ms * 1000,
            stale_after_us: cli.deadline_ms * 1000,
            // The grace after the supervisor's own stall: never beyond two
            // deadlines of silence.
            excused_silence_us: cli.deadline_ms * 2000,
            ..Policy::DEFAULT
        },
        log: cli
            .log
            .clone()
            .unwrap_or_else(|| default_path("supervisor.log", DEVICE_LOG)),
        encoder_counts_per_turn: profile.sensors.encoder_counts_per_turn,
        microsteps_per_turn: profile.microsteps_per_turn(),
    };
    Ok(Prepared {
        config,
        board_config,
    })
}

/// Self-test, ready, supervise until SIGTERM: the same on every board.
fn supervise<OUT, TONE, SPI, W>(
    hardware: SupervisorHardware<OUT, TONE, SPI>,
    watchdog: W,
    config: SupervisorConfig,
) -> Result<(), String>
where
    OUT: embedded_hal::digital::OutputPin + embedded_hal::digital::StatefulOutputPin,
    TONE: perfuse_drivers::tone::ToneOutput,
    SPI: embedded_hal::spi::SpiDevice,
    W: Watchdog,
{
    if let Some(parent) = config.socket.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let listener = HeartbeatListener::bind(&config.socket, config.allowed_uid)?;
    let mut supervisor = Supervisor::start(hardware, watchdog, config)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|error| format!("cannot handle signals: {error}"))?;
    }
    go_realtime();
    notify_systemd_ready();
    tracing::info!("supervising; heartbeats on {}", listener.path().display());
    let report = supervisor.run(&listener, &stop);
    tracing::info!(
        "stopped after {} periods, {} trips, {} rejected messages, {} late periods",
        report.periods,
        report.trips,
        report.rejected,
        report.late_periods
    );
    Ok(())
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.backend {
        Backend::Sim => {
            let Some(sim_dir) = cli.sim_dir.clone() else {
                return Err(
                    "--backend sim needs --sim-dir (the folder perfuse-sim --dir made)".to_owned(),
                );
            };
            let prepared = prepare(&cli, Some(&sim_dir))?;
            let board = Board::open(&SimPaths::in_dir(&sim_dir).board())
                .map_err(|error| error.to_string())?;
            let hardware = perfuse_sim::hardware::open_supervisor(&board, &prepared.board_config);
            match &cli.watchdog_device {
                // The simulated carrier with a real watchdog: the kernel's
                // (softdog in the emulated machine) resets the machine.
                Some(device) => {
                    let seconds = device_watchdog_seconds(cli.watchdog_ms)?;
                    supervise(hardware, open_watchdog(device, seconds)?, prepared.config)
                }
                None => {
                    let watchdog = SimWatchdog::open(board.clone(), cli.watchdog_ms);
                    supervise(hardware, watchdog, prepared.config)
                }
            }
        }
        Backend::Rpi | Backend::Linux => {
            if cli.sim_dir.is_some() {
                return Err(format!(
                    "--sim-dir is for --backend sim; --backend {} drives the real board",
                    cli.backend.name()
                ));
            }
            let seconds = device_watchdog_seconds(cli.watchdog_ms)?;
            let prepared = prepare(&cli, None)?;
            run_device(&cli, seconds, prepared)
        }
    }
}

/// The device for a real board: the one named, else /dev/watchdog.
#[cfg(any(feature = "rpi", feature = "linux"))]
fn device_watchdog_path(cli: &Cli) -> PathBuf {
    cli.watchdog_device
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEVICE_WATCHDOG))
}

fn open_watchdog(device: &Path, seconds: u32) -> Result<DeviceWatchdog, String> {
    let watchdog = DeviceWatchdog::open(device, seconds)?;
    if watchdog.timeout_s != seconds {
        tracing::warn!(
            "asked the watchdog for {seconds} s, it granted {} s",
            watchdog.timeout_s
        );
    }
    Ok(watchdog)
}

#[cfg_attr(
    not(all(feature = "rpi", feature = "linux")),
    allow(unused_variables, clippy::needless_pass_by_value)
)]
fn run_device(cli: &Cli, seconds: u32, prepared: Prepared) -> Result<(), String> {
    match cli.backend {
        #[cfg(feature = "rpi")]
        Backend::Rpi => {
            let hardware = perfuse_drivers::backend::rpi::open_supervisor(&prepared.board_config)
                .map_err(|error| error.to_string())?;
            supervise(hardware, open_watchdog(&device_watchdog_path(cli), seconds)?, prepared.config)
        }
        #[cfg(feature = "linux")]
        Backend::Linux => {
            let hardware =
                perfuse_drivers::backend::linux::open_supervisor(&prepared.board_config, &cli.gpio_chip)
                    .map_err(|error| error.to_string())?;
            supervise(hardware, open_watchdog(&device_watchdog_path(cli), seconds)?, prepared.config)
        }
        other => Err(format!(
            "this perfuse-supervisor was built without the {0} back-end: rebuild with --features {0}",
            other.name()
        )),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    perfuse_logging::init("perfuse-supervisor");
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
