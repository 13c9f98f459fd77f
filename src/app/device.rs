//! `perfuse-app`: the pump app as a device runs it, on any board back-end:
//! the simulated board (`--backend sim`), a Raspberry Pi 4 / CM4 (`rpi`) or
//! another Linux board (`linux`). It verifies the platform from the board's
//! own identity before opening any hardware, activates the signed drug
//! library, starts the control thread heartbeating to the supervisor (which
//! must already be running: systemd orders it first), and opens the
//! touchscreen. Defaults are the device's paths (/etc/perfuse, /run/perfuse,
//! /var/lib/perfuse); deploy/systemd/perfuse-app.service runs it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};

use super::boot::{start, verify, NotReady, Prepared};
use super::display::Display;
use super::touchscreen::{run_window, WindowSetup};
use crate::control::api::ControllerHardware;
use crate::druglib::startup::{last_good_path, start_library, Startup};
use crate::druglib::tool::today_utc;
use crate::ui::text::Language;
use perfuse_drivers::backend::Backend;

#[derive(Debug, Parser)]
#[command(
    name = "perfuse-app",
    version,
    about = "The Perfuse pump app: control thread and touchscreen, on the simulated or a real board"
)]
pub struct Cli {
    /// The board the control thread drives.
    #[arg(long, value_enum, default_value_t = Backend::Rpi)]
    pub backend: Backend,
    /// The simulated board's folder (perfuse-sim --dir); with --backend sim only.
    #[arg(long)]
    pub sim_dir: Option<PathBuf>,
    /// The board's identity (HAT EEPROM) folder [default: /proc/device-tree/hat, or <sim-dir>/hat].
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// The installed, signed mechanism profile.
    #[arg(long, default_value = "/etc/perfuse/platform.toml")]
    pub profile: PathBuf,
    #[arg(long, default_value = "/etc/perfuse/trusted-keys.toml")]
    pub keys: PathBuf,
    /// The signed drug library (its signature beside it, .sig).
    #[arg(long, default_value = "/etc/perfuse/druglib.toml")]
    pub library: PathBuf,
    /// Pin and SPI assignment [default: the reference carrier's].
    #[arg(long)]
    pub board_config: Option<PathBuf>,
    /// The GPIO character device (--backend linux).
    #[arg(long, default_value = "/dev/gpiochip0")]
    pub gpio_chip: PathBuf,
    /// The supervisor's heartbeat socket [default: /run/perfuse/supervisor.sock, or <sim-dir>/supervisor.sock].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The event log and kept program.
    #[arg(long, default_value = "/var/lib/perfuse/events.db")]
    pub store: PathBuf,
    /// The syringe loaded (syringe platforms).
    #[arg(long, default_value = "BD Plastipak 50 mL")]
    pub syringe: String,
    /// The language the screen starts in (en, de).
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Where the touchscreen draws: `kms` straight on the panel (the pump,
    /// no compositor), or `window` in a desktop session.
    #[arg(long, value_enum, default_value_t = Display::Kms)]
    pub display: Display,
    /// Seconds to wait at start for the panel's DRM device (--display
    /// kms): its driver may load after the app starts at boot.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub panel_wait: u64,
    /// The network link's local socket (perfuse-link --socket, such as
    /// /run/perfuse-link/link.sock); without it the pump has no link.
    #[arg(long)]
    pub link: Option<PathBuf>,
}

fn board_config(cli: &Cli) -> Result<BoardConfig, String> {
    match &cli.board_config {
        Some(path) => BoardConfig::load(path),
        None => BoardConfig::from_toml(REFERENCE_TOML),
    }
    .map_err(|error| error.to_string())
}

/// Verifies the platform, then opens the board and starts the control thread.
fn prepare(cli: &Cli, socket: &std::path::Path) -> Result<Prepared, NotReady> {
    let config = board_config(cli)?;
    match cli.backend {
        Backend::Sim => {
            let Some(sim_dir) = &cli.sim_dir else {
                return Err(NotReady::Other(
                    "--backend sim needs --sim-dir (the folder perfuse-sim --dir made)".to_owned(),
                ));
            };
            let paths = perfuse_sim::SimPaths::in_dir(sim_dir);
            let identity = cli.identity.clone().unwrap_or_else(|| paths.hat());
            let verified = verify(&identity, &cli.profile, &cli.keys, &cli.syringe, &config)?;
            let board =
                perfuse_sim::Board::open(&paths.board()).map_err(|error| error.to_string())?;
            let hardware = perfuse_sim::hardware::open_control(&board, &config);
            start(
                verified,
                ControllerHardware::from(hardware),
                socket,
                &cli.store,
            )
        }
        Backend::Rpi | Backend::Linux => {
            if cli.sim_dir.is_some() {
                return Err(NotReady::Other(format!(
                    "--sim-dir is for --backend sim; --backend {} drives the real board",
                    cli.backend.name()
                )));
            }
            let identity = cli
                .identity
                .clone()
                .unwrap_or_else(|| PathBuf::from("/proc/device-tree/hat"));
            let verified = verify(&identity, &cli.profile, &cli.keys, &cli.syringe, &config)?;
            start_device(cli, &config, verified, socket)
        }
    }
}

#[cfg_attr(
    not(all(feature = "rpi", feature = "linux")),
    allow(unused_variables, clippy::needless_pass_by_value)
)]
fn start_device(
    cli: &Cli,
    config: &BoardConfig,
    verified: super::boot::VerifiedApp,
    socket: &std::path::Path,
) -> Result<Prepared, NotReady> {
    match cli.backend {
        #[cfg(feature = "rpi")]
        Backend::Rpi => {
            let hardware = perfuse_drivers::backend::rpi::open_control(config)
                .map_err(|error| error.to_string())?;
            start(
                verified,
                ControllerHardware::from(hardware),
                socket,
                &cli.store,
            )
        }
        #[cfg(feature = "linux")]
        Backend::Linux => {
            let hardware = perfuse_drivers::backend::linux::open_control(config, &cli.gpio_chip)
                .map_err(|error| error.to_string())?;
            start(
                verified,
                ControllerHardware::from(hardware),
                socket,
                &cli.store,
            )
        }
        other => Err(NotReady::Other(format!(
            "this perfuse-app was built without the {0} back-end: rebuild with --features {0}",
            other.name()
        ))),
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let language =
        Language::from_tag(&cli.language).map_err(|error| format!("--language: {error}"))?;
    cli.display
        .wait(std::time::Duration::from_secs(cli.panel_wait))
        .map_err(|error| format!("--display {}: {error}", cli.display.name()))?;
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| match (&cli.backend, &cli.sim_dir) {
            (Backend::Sim, Some(dir)) => dir.join("supervisor.sock"),
            _ => PathBuf::from(perfuse_heartbeat::DEVICE_SOCKET),
        });
    let library = start_library(
        &cli.library,
        &cli.keys,
        &last_good_path(&cli.store),
        today_utc(),
    );
    match &library {
        Startup::Installed(_) | Startup::Activated(_) => tracing::info!("{}", library.describe()),
        Startup::LastGood { .. } | Startup::None { .. } => {
            tracing::warn!("{}", library.describe());
        }
    }
    let prepared = prepare(cli, &socket).map(|mut prepared| {
        super::boot::attach_link(&mut prepared, cli.link.as_deref());
        prepared.services.library_files = Some(crate::druglib::staging::LibraryFiles::beside(
            &cli.store,
            &cli.library,
            &cli.keys,
        ));
        prepared
    });
    run_window(
        prepared,
        WindowSetup {
            library,
            language,
            socket,
            backlight: match cli.backend {
                Backend::Sim => None,
                Backend::Rpi | Backend::Linux => crate::ui::backlight::Backlight::find(
                    std::path::Path::new("/sys/class/backlight"),
                ),
            },
            display: cli.display,
        },
    )
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    perfuse_logging::init("perfuse-app");
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
