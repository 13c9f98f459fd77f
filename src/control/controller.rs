//! One period of pump control, on real drivers: read the sensors, run the
//! detectors and alarms, advance the state machine, and step the motor.
//!
//! The control thread calls `period` on absolute deadlines; tests call it on
//! a virtual clock against the simulated board. `period` never allocates,
//! never blocks and never panics: every bus error becomes a condition, every
//! buffer is fixed-size.
//!
//! After a downstream occlusion the mechanism backs off (runs in reverse)
//! until the line pressure is back near its baseline, so that the fluid
//! squeezed into the line does not reach the patient as a bolus when the
//! occlusion is cleared. The volume backed off is owed: the first forward
//! steps after resuming repay it and are not counted as delivered. The
//! heartbeat reports the back-off as its own mode (relieving), so the
//! supervisor keeps the driver enabled for it and checks it as reverse
//! motion.
//!
//! The supervisor owns the driver's ENABLE. Before any period that would
//! move the motor, the controller reads the driver's DRV_ENN input back; while
//! the power stage is off it neither steps nor counts a step, so its volume
//! accounting stays what reached the line.

use arrayvec::ArrayVec;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::analog::{PositionSensor, PressureSensor};
use perfuse_drivers::annunciator::{light_on, AlarmVolume, Announcement, Priority};
use perfuse_drivers::debounce::{DebounceSamples, DebouncedInput, InputState, Polarity};
use perfuse_drivers::ls7366r::Ls7366r;
use perfuse_drivers::mcp3008::{Channel, Mcp3008};
use perfuse_drivers::tmc5160::{Direction, DriverConfig, DriverStatus, StepDir, Tmc5160};

use super::detectors::{Conditions, DetectorSettings, Detectors, Readings};
use super::state::{next, Event, FaultKind, Notice, Program, Segment, State, StopCause};
use super::steps::{Mechanics, StepGenerator};
use super::units::{Microsteps, Nanolitres, NanolitresPerHour};
use crate::alarms::{ActiveAlarm, AlarmChange, Alarms, Condition};

/// ADC inputs of the reference board (docs/wiring.md).
pub const UPSTREAM_CHANNEL: u8 = 0;
pub const DOWNSTREAM_CHANNEL: u8 = 1;
pub const PLUNGER_CHANNEL: u8 = 2;

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
}

/// A mode without data, for the snapshot and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    fn of(state: &State) -> Mode {
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
    /// The highest-priority raised alarms, in order.
    pub alarms: [Option<ActiveAlarm>; 4],
    pub announcement: Option<Announcement>,
    pub silence_remaining_ms: u64,
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
}

/// Something to log or tell the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    Notice(Notice),
    Alarm(AlarmChange),
    /// A command the current state does not allow.
    Refused(CommandKind),
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
}

/// An enable that was on during this delivery and has been off this long
/// means the supervisor cut the motor.
pub const ENABLE_OFF_GRACE_MS: u64 = 100;
/// An enable that never came on since the nurse's start this long means no
/// supervisor allows the motor (absent, or refusing): also a trip. Longer, so
/// a supervisor slowed by load at the start is not mistaken for a cut.
pub const ENABLE_NEVER_ON_MS: u64 = 2000;

/// Parts per million.
const PPM: u64 = 1_000_000;

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

/// Which segment the step counters belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SegmentKey {
    /// Programs loaded so far: a new program's first segment is a new
    /// segment even when it has the same place as the last program's.
    program: u64,
    keep_vein_open: bool,
    overlay: bool,
    primary_segment: usize,
    overlay_segment: usize,
}

fn segment_key(state: &State, program: u64) -> SegmentKey {
    state
        .infusion()
        .map_or_else(SegmentKey::default, |infusion| SegmentKey {
            program,
            keep_vein_open: matches!(state, State::KeepVeinOpen { .. }),
            overlay: infusion.overlay.is_some(),
            primary_segment: infusion.primary.segment,
            overlay_segment: infusion
                .overlay
                .as_ref()
                .map_or(0, |(_, progress)| progress.segment),
        })
}

/// The control hardware and everything that runs on it.
pub struct Controller<OUT, IN, SPI> {
    settings: ControllerSettings,
    stepper: Tmc5160<SPI>,
    pins: StepDir<OUT, OUT>,
    adc: Mcp3008<SPI>,
    encoder: Option<Ls7366r<SPI>>,
    air: DebouncedInput<IN>,
    door: DebouncedInput<IN>,
    /// The syringe (or set) present switch: high = loaded.
    container: DebouncedInput<IN>,
    lights: (OUT, OUT),
    state: State,
    generator: StepGenerator,
    backoff: StepGenerator,
    detectors: Detectors,
    alarms: Alarms,
    period: u64,
    forward_steps: u64,
    reverse_steps: u64,
    /// The driver's power stage read back as enabled this period (read only
    /// when the motor is to move).
    motor_enabled: bool,
    segment: SegmentKey,
    programs_loaded: u64,
    /// Delivered volume of the segment as an exact fraction: sum over its
    /// steps of nL per turn x efficiency (ppm), over microsteps per turn x 10^6.
    segment_numerator: u128,
    segment_booked: Nanolitres,
    /// Microsteps backed off and not yet repaid.
    owed_steps: u64,
    /// Volume booked over every segment since the start.
    booked_total: Nanolitres,
    /// Microsteps still to back off now.
    backoff_left: u64,
    last_rate: NanolitresPerHour,
    last_driver: Option<DriverStatus>,
    bus_errors: u64,
    /// Since when the driver has shown its enable off while delivering, ms.
    enable_off_since_ms: Option<u64>,
    /// The enable has been on during this delivery (so an off is a cut).
    enable_seen_on: bool,
    /// The event log cannot be written (reported by the services side).
    storage_fault: bool,
    alarm_volume: AlarmVolume,
    /// The mode the pump waits in (paused or ready) and since when, ms.
    waiting_since_ms: Option<(Mode, u64)>,
    snapshot: Snapshot,
}

/// The pins and devices the controller takes.
pub struct ControllerHardware<OUT, IN, SPI> {
    pub step: OUT,
    pub direction: OUT,
    pub air_sensor: IN,
    pub door: IN,
    /// The syringe (or set) present switch (GPIO 13 on the reference carrier).
    pub container: IN,
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
            light_red: hardware.light_red,
            light_yellow: hardware.light_yellow,
            stepper: hardware.stepper,
            adc: hardware.adc,
            encoder: None,
        }
    }
}

impl<OUT, IN, SPI> Controller<OUT, IN, SPI>
where
    OUT: OutputPin,
    IN: InputPin,
    SPI: SpiDevice,
{
    /// Builds the controller and runs the power-on self-test: the stepper
    /// answers as a TMC5160 and takes its configuration, the ADC and the
    /// encoder counter answer. `platform_verified` is the boot cross-check.
    pub fn start(
        hardware: ControllerHardware<OUT, IN, SPI>,
        settings: ControllerSettings,
        platform_verified: bool,
    ) -> Self {
        let mut controller = Self {
            settings,
            stepper: Tmc5160::new(hardware.stepper),
            pins: StepDir::new(hardware.step, hardware.direction),
            adc: Mcp3008::new(hardware.adc),
            encoder: hardware.encoder.map(Ls7366r::new),
            air: DebouncedInput::new(hardware.air_sensor, Polarity::ActiveHigh, settings.debounce),
            door: DebouncedInput::new(hardware.door, Polarity::ActiveHigh, settings.debounce),
            container: DebouncedInput::new(
                hardware.container,
                Polarity::ActiveHigh,
                settings.debounce,
            ),
            lights: (hardware.light_red, hardware.light_yellow),
            state: State::SelfTest,
            generator: StepGenerator::new(settings.mechanics, settings.period_us),
            backoff: StepGenerator::new(settings.mechanics, settings.period_us),
            detectors: Detectors::default(),
            alarms: Alarms::new(),
            period: 0,
            forward_steps: 0,
            reverse_steps: 0,
            motor_enabled: false,
            segment: SegmentKey::default(),
            programs_loaded: 0,
            segment_numerator: 0,
            segment_booked: Nanolitres(0),
            owed_steps: 0,
            booked_total: Nanolitres(0),
            backoff_left: 0,
            last_rate: NanolitresPerHour(0),
            last_driver: None,
            bus_errors: 0,
            waiting_since_ms: None,
            enable_off_since_ms: None,
            enable_seen_on: false,
            storage_fault: false,
            alarm_volume: AlarmVolume::LOUDEST,
            snapshot: Snapshot::default(),
        };
        let event = if !platform_verified {
            Event::PlatformRejected
        } else if controller.self_test() {
            Event::SelfTestPassed
        } else {
            Event::SelfTestFailed
        };
        controller.apply(event, &mut ControlEvents::new());
        controller
    }

    fn self_test(&mut self) -> bool {
        // The inputs must settle (be read the same often enough) before any
        // delivery: an unknown input counts as unsafe (door open, air).
        let mut settled = false;
        for _ in 0..128 {
            let air = self.air.sample().map(|reading| reading.state);
            let door = self.door.sample().map(|reading| reading.state);
            let container = self.container.sample().map(|reading| reading.state);
            if [air, door, container]
                .iter()
                .all(|input| matches!(input, Ok(state) if *state != InputState::Unknown))
            {
                settled = true;
                break;
            }
        }
        let stepper = self.stepper.configure(&self.settings.driver).is_ok();
        let encoder = match &mut self.encoder {
            Some(counter) => counter.configure().is_ok(),
            None => true,
        };
        let adc = Channel::try_from(DOWNSTREAM_CHANNEL).is_ok_and(|channel| {
            self.adc
                .read(channel)
                .is_ok_and(|counts| self.settings.downstream.pressure(counts).is_ok())
        });
        settled && stepper && encoder && adc
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn alarms(&self) -> &Alarms {
        &self.alarms
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
    }

    /// Applies one event to the state machine; false if the state refused it.
    fn apply(&mut self, event: Event, events: &mut ControlEvents) -> bool {
        let state = core::mem::replace(&mut self.state, State::Idle);
        let (state, notices) = next(state, event);
        self.state = state;
        let mut refused = false;
        for notice in notices {
            if notice == Notice::Ignored {
                refused = true;
            } else {
                push(events, ControlEvent::Notice(notice));
            }
        }
        !refused
    }

    fn command(&mut self, command: Command, now_ms: u64, events: &mut ControlEvents) {
        let (kind, event) = match command {
            Command::Load(program) => (CommandKind::Load, Event::Load(program)),
            Command::Start => (CommandKind::Start, Event::Start),
            Command::Pause => (CommandKind::Pause, Event::Pause),
            Command::Resume => (CommandKind::Resume, Event::Resume),
            Command::Stop => (CommandKind::Stop, Event::Stop),
            Command::Titrate(rate) => (CommandKind::Titrate, Event::Titrate(rate)),
            Command::Bolus(segment) => (CommandKind::Bolus, Event::Bolus(segment)),
            Command::Secondary(program) => (CommandKind::Secondary, Event::Secondary(program)),
            Command::AcknowledgeAlarms => {
                self.acknowledge();
                return;
            }
            Command::SilenceAlarms => {
                if !self.alarms.silence(now_ms) {
                    push(events, ControlEvent::Refused(CommandKind::SilenceAlarms));
                }
                return;
            }
            Command::StorageFault(present) => {
                self.storage_fault = present;
                return;
            }
            Command::SetAlarmVolume(volume) => {
                self.alarm_volume = volume;
                return;
            }
        };
        // No start or resume over a raised flow-stopping alarm (a driver
        // fault shown before the start, say): the nurse deals with it first.
        if matches!(event, Event::Start | Event::Resume) && self.alarms.stopping_flow() {
            push(events, ControlEvent::Refused(kind));
            return;
        }
        if !self.apply(event, events) {
            push(events, ControlEvent::Refused(kind));
        } else if kind == CommandKind::Load {
            self.programs_loaded = self.programs_loaded.wrapping_add(1);
        }
    }

    /// One control period at `now_us`, after taking `commands`.
    pub fn period(
        &mut self,
        now_us: u64,
        commands: impl IntoIterator<Item = Command>,
    ) -> PeriodOutput {
        let mut events = ControlEvents::new();
        let mut dropped = 0_u32;
        let now_ms = now_us / 1000;
        self.period = self.period.wrapping_add(1);
        for command in commands {
            self.command(command, now_ms, &mut events);
        }

        let readings = self.read_sensors(now_us);
        let present = self.detectors.evaluate(&readings, &self.settings.detectors);
        self.raise_alarms(present, readings.delivering, now_ms, &mut events);

        self.drive_motor(&mut events);
        self.update_lights(now_ms);
        self.snapshot = self.build_snapshot(now_us, &readings);
        if events.is_full() {
            dropped = dropped.saturating_add(1);
        }
        PeriodOutput {
            snapshot: self.snapshot,
            events,
            dropped_events: dropped,
        }
    }

    fn read_pressure(&mut self, channel: u8, sensor: PressureSensor) -> Option<i32> {
        let channel = Channel::try_from(channel).ok()?;
        match self.adc.read(channel) {
            Ok(counts) => sensor
                .pressure(counts)
                .ok()
                .map(|pascals| pascals.tenths_of_mmhg()),
            Err(_) => {
                self.bus_errors = self.bus_errors.saturating_add(1);
                None
            }
        }
    }

    fn read_sensors(&mut self, now_us: u64) -> Readings {
        let settings = self.settings;
        let mut bus_error = false;
        let downstream = self.read_pressure(DOWNSTREAM_CHANNEL, settings.downstream);
        let upstream = settings
            .upstream
            .and_then(|sensor| self.read_pressure(UPSTREAM_CHANNEL, sensor));
        let plunger_um = match (settings.plunger, Channel::try_from(PLUNGER_CHANNEL)) {
            (Some(sensor), Ok(channel)) => self
                .adc
                .read(channel)
                .ok()
                .and_then(|counts| sensor.position(counts).ok())
                .map(|um| um.0),
            _ => None,
        };
        let air = self.air.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let door = self.door.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let container = self.container.sample().map_or_else(
            |_| {
                bus_error = true;
                InputState::Unknown
            },
            |reading| reading.state,
        );
        let mut driver_silent = false;
        let driver = if self
            .period
            .is_multiple_of(u64::from(settings.status_every.max(1)))
        {
            match self.stepper.status() {
                Ok(status) => {
                    self.last_driver = Some(status);
                    Some(status)
                }
                Err(perfuse_drivers::Error::UnexpectedResponse(_)) => {
                    driver_silent = true;
                    None
                }
                Err(_) => {
                    bus_error = true;
                    None
                }
            }
        } else {
            None
        };
        let encoder = match &mut self.encoder {
            Some(counter) if self.period.is_multiple_of(10) => match counter.count() {
                Ok(counts) => Some(i64::from(counts.0)),
                Err(_) => {
                    bus_error = true;
                    None
                }
            },
            Some(_) | None => None,
        };
        let rate = self.state.commanded_rate();
        let now_ms = now_us / 1000;
        // ENABLE is read back before every period that would move the motor.
        let enabled = if rate.0 > 0 || self.backoff_left > 0 {
            match self.stepper.enabled() {
                Ok(enabled) => Some(enabled),
                Err(_) => {
                    bus_error = true;
                    Some(false)
                }
            }
        } else {
            None
        };
        self.motor_enabled = enabled == Some(true);
        match (rate.0 > 0, enabled) {
            (true, Some(false)) => {
                self.enable_off_since_ms.get_or_insert(now_ms);
            }
            (true, Some(true)) => {
                self.enable_seen_on = true;
                self.enable_off_since_ms = None;
            }
            (true, None) => {}
            (false, _) => {
                self.enable_off_since_ms = None;
                self.enable_seen_on = false;
            }
        }
        let restarted = rate != self.last_rate && rate.0 > 0;
        self.last_rate = rate;
        if bus_error {
            self.bus_errors = self.bus_errors.saturating_add(1);
        }
        Readings {
            now_us,
            downstream,
            upstream,
            plunger_um,
            air,
            door,
            container,
            driver,
            driver_silent,
            encoder,
            commanded_steps: self.net_steps(),
            delivering: rate.0 > 0,
            rate,
            restarted,
            bus_error,
        }
    }

    fn raise_alarms(
        &mut self,
        present: Conditions,
        delivering: bool,
        now_ms: u64,
        events: &mut ControlEvents,
    ) {
        let infusing = self.state.infusion().is_some();
        for condition in Condition::ALL {
            // Flow-stopping conditions matter while an infusion exists;
            // reminders are raised by the state below.
            let here = match condition {
                Condition::CallbackPaused => {
                    self.waited_too_long(Mode::Paused, crate::alarms::CALLBACK_PAUSED_MS, now_ms)
                }
                Condition::CallbackUnstarted => {
                    self.waited_too_long(Mode::Ready, crate::alarms::CALLBACK_UNSTARTED_MS, now_ms)
                }
                Condition::InfusionComplete => matches!(self.state, State::Completed(_)),
                Condition::KeepVeinOpen => matches!(self.state, State::KeepVeinOpen { .. }),
                Condition::NearEnd => match &self.state {
                    State::Delivering(infusion) => {
                        infusion.near_end_announced && infusion.overlay.is_none()
                    }
                    State::SelfTest
                    | State::PlatformRejected
                    | State::Idle
                    | State::Ready(_)
                    | State::KeepVeinOpen { .. }
                    | State::Paused { .. }
                    | State::AlarmStopped { .. }
                    | State::Completed(_)
                    | State::Fault(_) => false,
                },
                // The supervisor holds ENABLE; the driver shows its level.
                Condition::SupervisorTrip => {
                    let grace = if self.enable_seen_on {
                        ENABLE_OFF_GRACE_MS
                    } else {
                        ENABLE_NEVER_ON_MS
                    };
                    self.enable_off_since_ms
                        .is_some_and(|since| now_ms.saturating_sub(since) >= grace)
                }
                Condition::StorageFault => self.storage_fault,
                Condition::DownstreamOcclusion
                | Condition::UpstreamOcclusion
                | Condition::AirInLine
                | Condition::AccumulatedAir
                | Condition::DoorOpen
                | Condition::SyringeNotLoaded
                | Condition::EndOfContainer
                | Condition::MotorStall
                | Condition::DriverFault
                | Condition::EncoderDisagreement
                | Condition::SensorFault => infusing && present.contains(condition),
            };
            if let Some(change) = self.alarms.update(condition, here, now_ms) {
                push(events, ControlEvent::Alarm(change));
                if let (AlarmChange::Raised(raised), true) = (change, condition.stops_flow()) {
                    let cause = stop_cause(raised);
                    if raised == Condition::DownstreamOcclusion && delivering {
                        self.start_backoff();
                    }
                    self.apply(Event::StopFlow(cause), events);
                }
            }
        }
        if matches!(self.state, State::AlarmStopped { .. }) && !self.alarms.stopping_flow() {
            self.apply(Event::AlarmsResolved, events);
        }
        // Never flow under a raised flow-stopping alarm, however it came to
        // be raised (the state that raised it may not have held flow).
        if self.state.commanded_rate().0 > 0 {
            let top = self
                .alarms
                .active()
                .find(|alarm| alarm.condition.stops_flow())
                .map(|alarm| alarm.condition);
            if let Some(condition) = top {
                self.apply(Event::StopFlow(stop_cause(condition)), events);
            }
        }
        let mode = Mode::of(&self.state);
        let waiting = matches!(mode, Mode::Paused | Mode::Ready);
        match self.waiting_since_ms {
            Some((since_mode, _)) if waiting && since_mode == mode => {}
            _ if waiting => self.waiting_since_ms = Some((mode, now_ms)),
            _ => self.waiting_since_ms = None,
        }
    }

    /// The nurse acknowledges the alarms. An acknowledged air alarm means
    /// the line was primed: the air counted so far is forgotten. With the
    /// motor still, a raised driver fault has the driver set up again (its
    /// latched flags cleared, its configuration written); a fault still
    /// there latches again at once and stays raised.
    fn acknowledge(&mut self) {
        let raised = |alarms: &Alarms, condition: Condition| {
            alarms.active().any(|alarm| alarm.condition == condition)
        };
        if raised(&self.alarms, Condition::AirInLine)
            || raised(&self.alarms, Condition::AccumulatedAir)
        {
            self.detectors.air.restart();
        }
        if raised(&self.alarms, Condition::DriverFault)
            && self.state.commanded_rate().0 == 0
            && self.backoff_left == 0
        {
            if self.stepper.configure(&self.settings.driver).is_err() {
                self.bus_errors = self.bus_errors.saturating_add(1);
            }
            self.detectors.forget_driver_status();
        }
        self.alarms.acknowledge();
    }

    /// Has the pump been in `mode` (paused, or programmed and not started)
    /// for `limit_ms` or more?
    fn waited_too_long(&self, mode: Mode, limit_ms: u64, now_ms: u64) -> bool {
        self.waiting_since_ms.is_some_and(|(since_mode, since)| {
            since_mode == mode
                && Mode::of(&self.state) == mode
                && now_ms.saturating_sub(since) >= limit_ms
        })
    }

    fn start_backoff(&mut self) {
        let limit = self
            .settings
            .mechanics
            .microsteps_within(self.settings.backoff_limit);
        self.backoff_left = limit.0;
        self.backoff.stop();
        self.backoff.set_rate(self.settings.backoff_rate);
    }

    /// Stroke efficiency now, parts per million: the volumetric set loses
    /// stroke volume under back-pressure (calibrated in the profile); a
    /// syringe does not.
    fn efficiency_ppm(&self) -> u64 {
        let loss = u64::from(self.settings.stroke_loss_ppm_per_mmhg);
        if loss == 0 {
            return PPM;
        }
        let tenths = self
            .snapshot
            .downstream_tenths_mmhg
            .unwrap_or(0)
            .clamp(0, 10_000);
        let mmhg = u64::try_from(tenths / 10).unwrap_or(0);
        PPM.saturating_sub(loss.saturating_mul(mmhg)).max(PPM / 2)
    }

    /// Refill of the volumetric set now, parts per million: suction above
    /// the pump (an upstream occlusion) leaves the segment part empty.
    fn fill_ppm(&self) -> u64 {
        let loss = u64::from(self.settings.fill_loss_ppm_per_mmhg);
        let suction_mmhg = self.snapshot.upstream_tenths_mmhg.map_or(0, |tenths| {
            u64::try_from((-tenths).clamp(0, 100_000) / 10).unwrap_or(0)
        });
        PPM.saturating_sub(loss.saturating_mul(suction_mmhg))
    }

    fn drive_motor(&mut self, events: &mut ControlEvents) {
        let rate = self.state.commanded_rate();
        if rate.0 == 0 {
            self.generator.stop();
            self.run_backoff();
            return;
        }
        self.backoff_left = 0;
        let key = segment_key(&self.state, self.programs_loaded);
        if key != self.segment {
            self.segment = key;
            self.segment_numerator = 0;
            self.segment_booked = Nanolitres(0);
        }
        let efficiency = self.efficiency_ppm();
        // Step faster by exactly the stroke the back-pressure takes.
        let compensated = u128::from(rate.0) * u128::from(PPM) / u128::from(efficiency);
        // Book only what the strokes moved: a set starved from above
        // refills less (never compensated: no harder pumping on it).
        let efficiency = efficiency.saturating_mul(self.fill_ppm()) / PPM;
        self.generator.set_rate(NanolitresPerHour(
            u64::try_from(compensated).unwrap_or(u64::MAX),
        ));
        let mechanics = self.settings.mechanics;
        let step_value = u128::from(mechanics.nl_per_turn) * u128::from(efficiency);
        let divisor = u128::from(mechanics.microsteps_per_turn.max(1)) * u128::from(PPM);
        let volume = self.segment_volume();
        let remaining = |numerator: u128| {
            volume.map(|volume| (u128::from(volume.0) * divisor).saturating_sub(numerator))
        };
        let limit = remaining(self.segment_numerator)
            .map_or(u64::MAX, |left| {
                u64::try_from(left / step_value.max(1)).unwrap_or(u64::MAX)
            })
            .saturating_add(self.owed_steps);
        // A disabled power stage moves nothing: no step is due, none is
        // counted, and delivery resumes where it was once enabled.
        let steps = if self.motor_enabled {
            self.generator.tick(Microsteps(limit))
        } else {
            0
        };
        for _ in 0..steps {
            if self.pins.step(Direction::Forward).is_err() {
                self.bus_errors = self.bus_errors.saturating_add(1);
                break;
            }
            self.forward_steps = self.forward_steps.saturating_add(1);
            if self.owed_steps > 0 {
                self.owed_steps -= 1;
            } else {
                self.segment_numerator = self.segment_numerator.saturating_add(step_value);
            }
        }
        // The segment is done when not one more microstep fits: its last
        // (fraction of a) microstep's volume is booked with it.
        let done = remaining(self.segment_numerator).is_some_and(|left| left < step_value);
        let total = match (done, volume) {
            (true, Some(volume)) => volume,
            _ => Nanolitres(u64::try_from(self.segment_numerator / divisor).unwrap_or(u64::MAX)),
        };
        let delivered = total.saturating_sub(self.segment_booked);
        self.segment_booked = total;
        self.booked_total = self.booked_total.saturating_add(delivered);
        if delivered.0 > 0 || done {
            self.apply(Event::Delivered(delivered), events);
        }
    }

    /// Volume of the segment being delivered (None while keeping the vein open).
    fn segment_volume(&self) -> Option<Nanolitres> {
        match &self.state {
            State::Delivering(infusion) => {
                infusion.active().current().map(|segment| segment.volume)
            }
            State::SelfTest
            | State::PlatformRejected
            | State::Idle
            | State::Ready(_)
            | State::KeepVeinOpen { .. }
            | State::Paused { .. }
            | State::AlarmStopped { .. }
            | State::Completed(_)
            | State::Fault(_) => None,
        }
    }

    fn run_backoff(&mut self) {
        if self.backoff_left == 0 {
            return;
        }
        let baseline = self.detectors.downstream.baseline().unwrap_or(0);
        let relieved = self
            .snapshot
            .downstream_tenths_mmhg
            .is_some_and(|pressure| pressure <= baseline + self.settings.backoff_margin);
        // Relieved, or the supervisor cut the driver (it would move nothing).
        if relieved || !self.motor_enabled {
            self.backoff_left = 0;
            return;
        }
        let steps = self.backoff.tick(Microsteps(self.backoff_left));
        for _ in 0..steps {
            if self.pins.step(Direction::Reverse).is_err() {
                self.bus_errors = self.bus_errors.saturating_add(1);
                self.backoff_left = 0;
                return;
            }
            self.reverse_steps = self.reverse_steps.saturating_add(1);
            self.owed_steps = self.owed_steps.saturating_add(1);
            self.backoff_left = self.backoff_left.saturating_sub(1);
        }
    }

    fn update_lights(&mut self, now_ms: u64) {
        let announcement = self.alarms.announcement(now_ms);
        let (red, yellow) = match announcement {
            Some(Announcement {
                priority, since_ms, ..
            }) => {
                let lit = light_on(priority, now_ms.saturating_sub(since_ms));
                (
                    lit && priority == Priority::High,
                    lit && priority != Priority::High,
                )
            }
            None => (false, false),
        };
        let results = [
            if red {
                self.lights.0.set_high()
            } else {
                self.lights.0.set_low()
            },
            if yellow {
                self.lights.1.set_high()
            } else {
                self.lights.1.set_low()
            },
        ];
        if results.iter().any(Result::is_err) {
            self.bus_errors = self.bus_errors.saturating_add(1);
        }
    }

    fn build_snapshot(&mut self, now_us: u64, readings: &Readings) -> Snapshot {
        let mut alarms = [None; 4];
        for (slot, alarm) in alarms.iter_mut().zip(self.alarms.active()) {
            *slot = Some(alarm);
        }
        let now_ms = now_us / 1000;
        let infusion = self.state.infusion();
        Snapshot {
            period: self.period,
            now_us,
            mode: Mode::of(&self.state),
            commanded_rate: self.state.commanded_rate(),
            // What reached the line: a back-off not yet repaid took its
            // volume back (the repaying steps are not booked again).
            delivered: infusion.map_or(Nanolitres(0), |infusion| {
                let owed = if infusion.overlay.is_none() {
                    self.settings
                        .mechanics
                        .volume_of(Microsteps(self.owed_steps))
                } else {
                    Nanolitres(0)
                };
                infusion.primary.delivered.saturating_sub(owed)
            }),
            total_delivered: self.booked_total.saturating_sub(
                self.settings
                    .mechanics
                    .volume_of(Microsteps(self.owed_steps)),
            ),
            remaining: infusion.map_or(Nanolitres(0), |infusion| infusion.primary.remaining()),
            kvo_delivered: infusion.map_or(Nanolitres(0), |infusion| infusion.kvo_delivered),
            downstream_tenths_mmhg: readings.downstream,
            upstream_tenths_mmhg: readings.upstream,
            alarms,
            announcement: self.alarms.announcement(now_ms),
            silence_remaining_ms: self.alarms.silence_remaining_ms(now_ms),
            steps: self.net_steps(),
            forward_steps: self.forward_steps,
            reverse_steps: self.reverse_steps,
            relieving: self.backoff_left > 0,
            bus_errors: self.bus_errors,
            alarm_volume: self.alarm_volume,
        }
    }

    /// Net microsteps commanded: forward minus reverse.
    fn net_steps(&self) -> i64 {
        let forward = i64::try_from(self.forward_steps).unwrap_or(i64::MAX);
        let reverse = i64::try_from(self.reverse_steps).unwrap_or(i64::MAX);
        forward.saturating_sub(reverse)
    }

    /// Stops stepping (the thread is ending): no further step is emitted.
    pub fn stop_motor(&mut self) {
        self.generator.stop();
        self.backoff_left = 0;
    }

    /// Reports a fault from outside (an overrun the thread measured).
    pub fn fault(&mut self, kind: FaultKind) {
        self.apply(Event::Fault(kind), &mut ControlEvents::new());
    }
}

fn push(events: &mut ControlEvents, event: ControlEvent) {
    let _ = events.try_push(event);
}

fn stop_cause(condition: Condition) -> StopCause {
    match condition {
        Condition::DownstreamOcclusion => StopCause::DownstreamOcclusion,
        Condition::UpstreamOcclusion => StopCause::UpstreamOcclusion,
        Condition::AirInLine | Condition::AccumulatedAir => StopCause::AirInLine,
        Condition::DoorOpen => StopCause::DoorOpen,
        Condition::SyringeNotLoaded => StopCause::SyringeNotLoaded,
        Condition::EndOfContainer => StopCause::EndOfContainer,
        Condition::MotorStall => StopCause::MotorStall,
        Condition::DriverFault => StopCause::DriverFault,
        Condition::EncoderDisagreement => StopCause::EncoderDisagreement,
        Condition::SupervisorTrip => StopCause::SupervisorTrip,
        Condition::SensorFault
        | Condition::InfusionComplete
        | Condition::NearEnd
        | Condition::KeepVeinOpen
        | Condition::CallbackPaused
        | Condition::CallbackUnstarted
        | Condition::StorageFault => StopCause::SensorFault,
    }
}
