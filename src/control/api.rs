//! The control thread's API: the commands it takes, the snapshot and events
//! it gives, its settings and its hardware. The UI, the services, the
//! headless app and the tests use these; only `controller` runs them.

use arrayvec::ArrayVec;
use perfuse_drivers::analog::{PositionSensor, PressureSensor};
use perfuse_drivers::annunciator::{AlarmVolume, Announcement};
use perfuse_drivers::debounce::DebounceSamples;
use perfuse_drivers::tmc5160::DriverConfig;

use super::detectors::DetectorSettings;
use super::state::{Notice, Program, Segment, State};
use super::steps::Mechanics;
use super::units::{Nanolitres, NanolitresPerHour};
use crate::alarms::{ActiveAlarm, AlarmChange};

/// What the UI (or a test) asks of the control thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Load(Program),
    Start,
    Pause,
    Resume,
    Stop,
    Titrate(NanolitresPerHour),
    Bolus(Segment),
    Secondary(Program),
    AcknowledgeAlarms,
    SilenceAlarms,
    /// The services side reports whether the event log can be written
    /// (a medium-priority alarm while it cannot; flow is not affected).
    StorageFault(bool),
    /// The alarm volume the nurse set, for the supervisor (which sounds the
    /// buzzer and applies its floors).
    SetAlarmVolume(AlarmVolume),
    /// The syringe the nurse confirmed at loading: the controller meters
    /// with it from now on. Refused while an infusion is programmed.
    LoadSyringe(SyringeMechanics),
    /// The program loaded waits: for the nurse's start, or to start by
    /// itself after a delay. Only in Ready; any other command that leaves
    /// Ready ends it.
    Standby(Standby),
    /// A clinician resumes a PCA program held at its limit: refused while
    /// the window still holds the limit.
    ClearPcaLimit,
}

/// What became of a patient's press of the demand button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandOutcome {
    Given,
    Refused(DemandRefusal),
}

/// Why a demand was not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandRefusal {
    /// Sooner than the lockout after the last demand given.
    Lockout,
    /// The dose would pass the limit over the window (or the limit is reached).
    Limit,
    /// A demand (or a clinician bolus, or a secondary) is being given.
    DoseInProgress,
    /// The PCA program is not running (waiting, paused, stopped by an alarm).
    NotInfusing,
}

/// A PCA program's demands and limit as the running page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PcaStatus {
    pub given: u32,
    pub refused: u32,
    pub last_refusal: Option<DemandRefusal>,
    /// Volume over the window so far, and the limit.
    pub used: Nanolitres,
    pub limit: Nanolitres,
    pub window_minutes: u32,
    /// Until the next demand can be given, ms (0: now).
    pub lockout_left_ms: u64,
    /// Held at the limit until a clinician resumes.
    pub limited: bool,
}

/// How a loaded program waits for its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standby {
    /// Until the nurse starts it; a reminder every `STANDBY_REMINDER_MS`
    /// instead of the callback at `CALLBACK_UNSTARTED_MS`.
    OnCommand,
    /// Starts by itself this many ms after the command (at most
    /// `MAX_START_DELAY_MS`), as a start would: never over a flow-stopping
    /// alarm (then the callback calls the nurse).
    StartAfter { delay_ms: u64 },
}

/// Longest delayed start: a day.
pub const MAX_START_DELAY_MS: u64 = 24 * 3_600_000;
/// Shortest: a minute (anything sooner is a start).
pub const MIN_START_DELAY_MS: u64 = 60_000;

/// What the controller needs to meter a syringe: its volume per turn of
/// the lead screw, and where the plunger stands when it is empty (None on
/// a volumetric mechanism).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyringeMechanics {
    pub mechanics: Mechanics,
    pub end_um: Option<i32>,
}

/// Constants of the controller, from the verified platform and board.
#[derive(Debug, Clone, Copy)]
pub struct ControllerSettings {
    pub period_us: u64,
    pub mechanics: Mechanics,
    pub detectors: DetectorSettings,
    pub driver: DriverConfig,
    pub downstream: PressureSensor,
    pub upstream: Option<PressureSensor>,
    pub plunger: Option<PositionSensor>,
    pub debounce: DebounceSamples,
    /// Periods between stepper status reads.
    pub status_every: u32,
    /// Stroke lost per mmHg of back-pressure, parts per million (volumetric
    /// set, calibrated in the profile; 0 for a syringe).
    pub stroke_loss_ppm_per_mmhg: u32,
    /// Stroke not refilled per mmHg of suction upstream, ppm (volumetric
    /// set, calibrated in the profile; 0 for a syringe).
    pub fill_loss_ppm_per_mmhg: u32,
    /// Most volume backed off after an occlusion.
    pub backoff_limit: Nanolitres,
    pub backoff_rate: NanolitresPerHour,
    /// Back off until the pressure is within this of its baseline, tenths of mmHg.
    pub backoff_margin: i32,
    /// Escalation and reminders, from the profile's `[alarms]`.
    pub alarm_timing: crate::alarms::AlarmTiming,
}

/// A mode without data, for the snapshot and the UI.
/// Serialized by variant name (the kept program holds it as "Ready",
/// "Delivering"...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    #[default]
    SelfTest,
    PlatformRejected,
    Idle,
    Ready,
    Delivering,
    KeepVeinOpen,
    Paused,
    AlarmStopped,
    Completed,
    Fault,
}

impl Mode {
    pub(crate) fn of(state: &State) -> Mode {
        match state {
            State::SelfTest => Mode::SelfTest,
            State::PlatformRejected => Mode::PlatformRejected,
            State::Idle => Mode::Idle,
            State::Ready(_) => Mode::Ready,
            State::Delivering(_) => Mode::Delivering,
            State::KeepVeinOpen { .. } => Mode::KeepVeinOpen,
            State::Paused { .. } => Mode::Paused,
            State::AlarmStopped { .. } => Mode::AlarmStopped,
            State::Completed(_) => Mode::Completed,
            State::Fault(_) => Mode::Fault,
        }
    }
}

/// The state of the pump as the UI shows it: fixed size, copied out each period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub period: u64,
    pub now_us: u64,
    pub mode: Mode,
    pub commanded_rate: NanolitresPerHour,
    /// Primary volume delivered and left.
    pub delivered: Nanolitres,
    /// Everything the pump put into the line since it started: primary,
    /// bolus, secondary and KVO, less a back-off not yet repaid.
    pub total_delivered: Nanolitres,
    pub remaining: Nanolitres,
    pub kvo_delivered: Nanolitres,
    pub downstream_tenths_mmhg: Option<i32>,
    pub upstream_tenths_mmhg: Option<i32>,
    /// Every raised alarm, highest priority first (`Alarms::active`).
    pub alarms: [Option<ActiveAlarm>; crate::alarms::Condition::ALL.len()],
    pub announcement: Option<Announcement>,
    pub silence_remaining_ms: u64,
    /// A reminder's pulse is due (`Alarms::reminder`): quieter than any
    /// alarm, with no light of its own.
    pub reminder: bool,
    /// Net microsteps commanded (forward minus back-off).
    pub steps: i64,
    /// Microsteps commanded forward and in reverse so far (the heartbeat
    /// carries both: the supervisor bounds each direction on its own).
    pub forward_steps: u64,
    pub reverse_steps: u64,
    /// Backing off after a downstream occlusion (reverse motion, no flow).
    pub relieving: bool,
    pub bus_errors: u64,
    /// The alarm volume the nurse set (the heartbeat carries it).
    pub alarm_volume: AlarmVolume,
    /// The syringe (or set) present switch shows one loaded.
    pub container_loaded: bool,
    /// The volume per mechanism turn the controller meters with (the
    /// syringe confirmed at loading), nL.
    pub nl_per_turn: u64,
    /// The program loaded is in standby (Ready only), and for a delayed
    /// start, in how many ms it starts.
    pub standby: Option<Standby>,
    pub starts_in_ms: Option<u64>,
    /// A PCA program's demands and limit.
    pub pca: Option<PcaStatus>,
}

/// Something to log or tell the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    Notice(Notice),
    Alarm(AlarmChange),
    /// A command the current state does not allow.
    Refused(CommandKind),
    /// The patient pressed the demand button of a PCA program.
    Demand(DemandOutcome),
}

/// A command without its data, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Load,
    Start,
    Pause,
    Resume,
    Stop,
    Titrate,
    Bolus,
    Secondary,
    AcknowledgeAlarms,
    SilenceAlarms,
    LoadSyringe,
    Standby,
    ClearPcaLimit,
}

/// An enable that was on during this delivery and has been off this long
/// means the supervisor cut the motor.
pub const ENABLE_OFF_GRACE_MS: u64 = 100;
/// An enable that never came on since the nurse's start this long means no
/// supervisor allows the motor (absent, or refusing): also a trip. Longer, so
/// a supervisor slowed by load at the start is not mistaken for a cut.
pub const ENABLE_NEVER_ON_MS: u64 = 2000;

/// Most events one period reports.
pub const MAX_EVENTS: usize = 16;
pub type ControlEvents = ArrayVec<ControlEvent, MAX_EVENTS>;

/// What one period produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodOutput {
    pub snapshot: Snapshot,
    pub events: ControlEvents,
    /// Events that did not fit (counted, never waited for).
    pub dropped_events: u32,
}

/// The pins and devices the controller takes.
pub struct ControllerHardware<OUT, IN, SPI> {
    pub step: OUT,
    pub direction: OUT,
    pub air_sensor: IN,
    pub door: IN,
    /// The syringe (or set) present switch (GPIO 13 on the reference carrier).
    pub container: IN,
    /// The PCA patient demand button (GPIO 16 on the reference carrier):
    /// high = pressed; one demand per press.
    pub demand: IN,
    pub light_red: OUT,
    pub light_yellow: OUT,
    pub stepper: SPI,
    pub adc: SPI,
    pub encoder: Option<SPI>,
}

/// A board back-end's control lines as the controller takes them (no
/// encoder: on the reference carrier only the supervisor reads it).
impl<OUT, IN, SPI> From<perfuse_drivers::backend::ControlHardware<OUT, IN, SPI>>
    for ControllerHardware<OUT, IN, SPI>
{
    fn from(hardware: perfuse_drivers::backend::ControlHardware<OUT, IN, SPI>) -> Self {
        ControllerHardware {
            step: hardware.step,
            direction: hardware.direction,
            air_sensor: hardware.air_sensor,
            door: hardware.door,
            container: hardware.container,
            demand: hardware.demand,
            light_red: hardware.light_red,
            light_yellow: hardware.light_yellow,
            stepper: hardware.stepper,
            adc: hardware.adc,
            encoder: None,
        }
    }
}
