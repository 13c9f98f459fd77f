//! A pump on the simulated board, in one process, on a virtual clock: the
//! real controller (real drivers, detectors, alarms, state machine) against
//! the real physics, for tests and benchmarks. The caller plays the
//! supervisor (ENABLE is held on) and the nurse. Hours of infusion run in
//! seconds.
#![allow(
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::sync::Arc;

use arrayvec::ArrayVec;
use embedded_hal::digital::OutputPin;
use perfuse_drivers::config::{BoardConfig, REFERENCE_TOML};
use perfuse_sim::{
    Board, LineModel, Mechanism, Physics, SensorModel, SimChip, SimPin, SimSpi, SimWiring,
    Simulator, Syringe, Truth,
};

use perfuse::control::api::{
    Command, ControlEvent, ControllerHardware, ControllerSettings, Mode, Snapshot,
};
use perfuse::control::controller::Controller;
use perfuse::control::settings::controller_settings;
use perfuse::control::state::{End, Program, Segment};
use perfuse::control::units::{Nanolitres, NanolitresPerHour};
use perfuse::platform::{MechanismProfile, SupportedPlatform, SUPPORTED_PLATFORMS};
use perfuse::therapy::SegmentPurpose;

/// The two reference platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Perfuse S50 with a 50 mL syringe.
    Syringe50,
    /// Perfuse V1 volumetric.
    Volumetric,
}

impl Platform {
    /// The platform as the pump knows it (`platform::SUPPORTED_PLATFORMS`).
    pub fn supported(self) -> &'static SupportedPlatform {
        let id = match self {
            Platform::Syringe50 => "perfuse-s50",
            Platform::Volumetric => "perfuse-v1",
        };
        // Both ids are in the list: the test below holds it to that.
        SUPPORTED_PLATFORMS
            .iter()
            .find(|platform| platform.id == id)
            .unwrap_or(&SUPPORTED_PLATFORMS[0])
    }

    /// The name the pump shows once this platform is verified.
    pub fn name(self) -> &'static str {
        self.supported().name
    }
}

/// The signed profile shipped for a platform (signature checked elsewhere).
pub fn shipped_profile(platform: Platform) -> Result<MechanismProfile, String> {
    let name = match platform {
        Platform::Syringe50 => "perfuse-s50-syringe.toml",
        Platform::Volumetric => "perfuse-v1-volumetric.toml",
    };
    let path = perfuse::assets::assets_dir().join("platforms").join(name);
    let bytes = std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    MechanismProfile::parse(&bytes).map_err(|error| error.to_string())
}

/// The syringe loaded on each platform in tests and the gallery.
pub const REFERENCE_SYRINGE: &str = "BD Plastipak 50 mL";

/// The rates a platform delivers (with the reference syringe on the S50).
pub fn platform_rate_limits(platform: Platform) -> Result<perfuse::therapy::RateLimits, String> {
    let profile = shipped_profile(platform)?;
    let syringe = match platform {
        Platform::Syringe50 => profile
            .syringes
            .iter()
            .find(|spec| spec.name == REFERENCE_SYRINGE),
        Platform::Volumetric => None,
    };
    Ok(profile.rate_limits(syringe))
}

/// The syringes of a platform's profile (none on the volumetric pump),
/// and the place of the reference syringe among them.
pub fn platform_syringes(
    platform: Platform,
) -> Result<
    (
        Vec<perfuse::control::settings::SyringeOption>,
        Option<usize>,
    ),
    String,
> {
    let profile = shipped_profile(platform)?;
    let options =
        perfuse::control::settings::syringe_options(&profile).map_err(|error| error.to_string())?;
    let reference = options
        .iter()
        .position(|option| option.name == REFERENCE_SYRINGE);
    Ok((options, reference))
}

/// Controller settings for a platform, occlusion level 1 (300 mmHg).
pub fn platform_settings(platform: Platform, period_us: u64) -> Result<ControllerSettings, String> {
    let profile = shipped_profile(platform)?;
    let syringe = match platform {
        Platform::Syringe50 => Some(REFERENCE_SYRINGE),
        Platform::Volumetric => None,
    };
    controller_settings(&profile, syringe, 1, period_us, 3).map_err(|error| error.to_string())
}

/// The pump on its simulated board.
pub struct Rig {
    pub simulator: Simulator,
    pub controller: Controller<SimPin, SimPin, SimSpi>,
    pub board: Arc<Board>,
    pub now_us: u64,
    pub period_us: u64,
    pub events: Vec<ControlEvent>,
    pub last: Snapshot,
    settings: ControllerSettings,
    physics_per_period: u32,
}

/// The board's control lines, with the encoder counter the supervisor
/// would hold: in one process the rig plays the supervisor.
fn hardware(
    board: &Arc<Board>,
    config: &BoardConfig,
) -> ControllerHardware<SimPin, SimPin, SimSpi> {
    ControllerHardware {
        encoder: Some(SimSpi::new(board.clone(), SimChip::EncoderCounter)),
        ..ControllerHardware::from(perfuse_sim::hardware::control_lines(board, config))
    }
}

impl Rig {
    /// A pump of `platform` with a control period of `period_us`.
    pub fn new(platform: Platform, period_us: u64) -> Result<Rig, String> {
        Self::with_settings(platform, platform_settings(platform, period_us)?)
    }

    /// A pump of `platform` with these controller settings.
    pub fn with_settings(platform: Platform, settings: ControllerSettings) -> Result<Rig, String> {
        let config = BoardConfig::from_toml(REFERENCE_TOML).map_err(|error| error.to_string())?;
        let (mechanism, reservoir) = match platform {
            Platform::Syringe50 => (Mechanism::reference_syringe(Syringe::ML_50), 50.0),
            Platform::Volumetric => (Mechanism::reference_peristaltic(), 1000.0),
        };
        let board = Board::in_memory();
        let physics = Physics::new(mechanism, LineModel::ADULT, reservoir);
        let simulator = Simulator::new(
            board.clone(),
            physics,
            SimWiring::from(config.pins),
            SensorModel::REFERENCE,
        );
        let controller = Controller::start(hardware(&board, &config), settings, true);
        let mut enable = SimPin::new(board.clone(), config.pins.motor_enable);
        let _ = enable.set_low();
        Ok(Rig {
            simulator,
            controller,
            board,
            now_us: 0,
            period_us: settings.period_us,
            events: Vec::new(),
            last: Snapshot::default(),
            settings,
            // One physics step per period, at most 10 ms each (the line model is exact at any step).
            physics_per_period: u32::try_from(settings.period_us / 10_000)
                .unwrap_or(1)
                .max(1),
        })
    }

    /// Restarts the app: a new controller on the same board (the world and
    /// the board are untouched; the program is gone from memory).
    pub fn restart(&mut self) -> Result<(), String> {
        let config = BoardConfig::from_toml(REFERENCE_TOML).map_err(|error| error.to_string())?;
        self.controller = Controller::start(hardware(&self.board, &config), self.settings, true);
        Ok(())
    }

    /// One control period with these commands, then the physics for its duration.
    pub fn period(&mut self, commands: Vec<Command>) -> &Snapshot {
        self.now_us += self.period_us;
        let output = self.controller.period(self.now_us, commands);
        self.events.extend(output.events.iter().copied());
        self.last = output.snapshot;
        let step = self.period_us as f64 / 1.0e6 / f64::from(self.physics_per_period);
        for _ in 0..self.physics_per_period {
            self.simulator.step(step);
        }
        &self.last
    }

    pub fn command(&mut self, command: Command) -> &Snapshot {
        self.period(vec![command])
    }

    pub fn run_for(&mut self, seconds: f64) {
        let periods = (seconds * 1.0e6 / self.period_us as f64) as u64;
        for _ in 0..periods {
            self.period(Vec::new());
        }
    }

    /// Runs until `done` or `limit_s` seconds pass; returns the seconds taken.
    pub fn run_until(&mut self, limit_s: f64, done: impl Fn(&Snapshot) -> bool) -> Option<f64> {
        let start = self.now_us;
        while (self.now_us - start) as f64 / 1.0e6 < limit_s {
            let snapshot = *self.period(Vec::new());
            if done(&snapshot) {
                return Some((self.now_us - start) as f64 / 1.0e6);
            }
        }
        None
    }

    /// Closes (or with `Occlusion::None` opens) the line below the pump.
    pub fn occlude_downstream(&mut self, occlusion: perfuse_sim::Occlusion) {
        self.simulator
            .physics_mut()
            .set_faults(perfuse_sim::Faults {
                downstream: occlusion,
                ..perfuse_sim::Faults::NONE
            });
    }

    pub fn truth(&self) -> Truth {
        self.simulator.truth()
    }

    pub fn mode(&self) -> Mode {
        self.last.mode
    }
}

/// A continuous program at `ml_per_hour` for `millilitres`.
pub fn continuous(ml_per_hour: f64, millilitres: f64, end: End) -> Program {
    let mut segments = ArrayVec::new();
    segments.push(Segment {
        purpose: SegmentPurpose::Primary,
        rate: NanolitresPerHour((ml_per_hour * 1.0e6).round() as u64),
        volume: Nanolitres((millilitres * 1.0e6).round() as u64),
    });
    Program {
        segments,
        end,
        pca: None,
    }
}

/// The controller as the simulated board's back-end builds it.
pub type SimController = Controller<SimPin, SimPin, SimSpi>;

/// A controller on a fresh simulated board, with the simulator that runs its
/// physics, for running the real control thread in real time.
pub fn controller_on_board(
    platform: Platform,
    period_us: u64,
) -> Result<(SimController, Simulator, Arc<Board>), String> {
    let rig = Rig::new(platform, period_us)?;
    Ok((rig.controller, rig.simulator, rig.board))
}

/// The physics in real time in its own thread (every 0.5 ms), as
/// `perfuse-sim` runs it, beside a control thread.
pub struct PhysicsThread {
    running: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Truth>,
}

impl PhysicsThread {
    pub fn start(mut simulator: Simulator) -> Self {
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            while flag.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(std::time::Duration::from_micros(500));
                let now = std::time::Instant::now();
                simulator.step(now.duration_since(last).as_secs_f64());
                last = now;
            }
            simulator.truth()
        });
        Self { running, thread }
    }

    /// Stops the physics; returns the final ground truth.
    pub fn stop(self) -> Result<Truth, String> {
        self.running
            .store(false, std::sync::atomic::Ordering::Release);
        self.thread
            .join()
            .map_err(|_| "the physics thread panicked".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rig_platform_is_a_supported_platform_with_its_mechanism() {
        use perfuse::platform::MechanismKind;
        for (platform, id, mechanism) in [
            (Platform::Syringe50, "perfuse-s50", MechanismKind::Syringe),
            (
                Platform::Volumetric,
                "perfuse-v1",
                MechanismKind::Volumetric,
            ),
        ] {
            assert_eq!(platform.supported().id, id);
            assert_eq!(platform.supported().mechanism, mechanism);
            let profile = shipped_profile(platform).unwrap();
            assert_eq!(profile.profile.mechanism, mechanism);
        }
    }
}
