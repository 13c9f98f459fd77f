//! Boot, shared by every front-end: the platform check (board identity
//! against the signed mechanism profile) before any hardware is opened,
//! then the control thread on the board, heartbeating to the supervisor,
//! with the services that follow it.

use std::path::Path;

use perfuse_drivers::config::BoardConfig;
use perfuse_drivers::hat::HatIdentity;
use perfuse_heartbeat::link::HeartbeatSender;

use crate::control::api::ControllerHardware;
use crate::control::controller::Controller;
use crate::control::settings::{controller_settings, syringe_options};
use crate::control::thread::{spawn, ControlHandle, ThreadConfig};
use crate::platform::{read_installed_profile, verify_platform, MechanismKind, PlatformRejection};
use crate::services::Services;
use crate::signing::TrustedKeys;

/// Why the app could not come up.
#[derive(Debug)]
pub enum NotReady {
    /// The platform failed its check.
    Platform(PlatformRejection),
    Other(String),
}

impl NotReady {
    pub fn message(&self) -> String {
        match self {
            NotReady::Platform(rejection) => {
                format!("platform not verified: {rejection}. {}", rejection.action())
            }
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
    pub services: Services,
    /// The verified platform's name.
    pub platform: String,
    pub syringes: Syringes,
}

/// The syringes a syringe platform's profile lists (none on a volumetric
/// one), and which of them the pump started metering with (`--syringe`),
/// until the nurse confirms the one loaded.
#[derive(Debug, Clone, Default)]
pub struct Syringes {
    pub options: Vec<crate::control::settings::SyringeOption>,
    pub started_with: Option<usize>,
}

/// A platform that passed its check, with what the control thread needs.
pub struct VerifiedApp {
    pub platform: String,
    pub settings: crate::control::api::ControllerSettings,
    pub limits: crate::therapy::RateLimits,
    pub syringes: Syringes,
    /// The CPU for the control thread (None: the last one).
    pub control_cpu: Option<usize>,
}

/// Checks the board's identity (the HAT folder `identity`) against the
/// installed, signed mechanism profile before any hardware is opened.
pub fn verify(
    identity: &Path,
    profile: &Path,
    keys: &Path,
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
    .map_err(NotReady::Platform)?;
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
    let options = syringe_options(&profile).map_err(|error| error.to_string())?;
    let started_with =
        syringe.and_then(|name| options.iter().position(|option| option.name == name));
    Ok(VerifiedApp {
        platform: verified.platform.name.to_owned(),
        settings,
        limits,
        syringes: Syringes {
            options,
            started_with,
        },
        control_cpu: None,
    })
}

/// Starts the control thread on `hardware` (any board back-end),
/// heartbeating to the supervisor at `socket`, with the store at `store`.
pub fn start<OUT, IN, SPI>(
    verified: VerifiedApp,
    hardware: ControllerHardware<OUT, IN, SPI>,
    socket: &Path,
    store: &Path,
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
        syringes: verified.syringes,
        services,
        platform: verified.platform,
    })
}

/// Gives the services the network link at `socket` (none: no link). The
/// library is told to it once the front-end has one.
pub fn attach_link(prepared: &mut Prepared, socket: Option<&Path>) {
    if let Some(socket) = socket {
        prepared.services.link = Some(crate::services::link::LinkClient::new(
            socket,
            &prepared.platform,
            None,
        ));
    }
}
