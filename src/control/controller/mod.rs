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

use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::annunciator::{light_on, AlarmVolume, Announcement, Priority};
use perfuse_drivers::debounce::{DebouncedInput, InputState, Polarity};
use perfuse_drivers::ls7366r::Ls7366r;
use perfuse_drivers::mcp3008::{Channel, Mcp3008};
use perfuse_drivers::tmc5160::{DriverStatus, StepDir, Tmc5160};

use crate::alarms::{Alarms, Condition};
use crate::control::detectors::{Detectors, Readings};
use crate::control::state::{next, Event, FaultKind, Notice, State};
use crate::control::steps::StepGenerator;
use crate::control::units::{Microsteps, Nanolitres, NanolitresPerHour};

use super::api::*;

mod metering;
mod pca;
mod policy;
mod sensing;

pub use sensing::{DOWNSTREAM_CHANNEL, PLUNGER_CHANNEL, UPSTREAM_CHANNEL};

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
    /// The PCA patient demand button: high = pressed.
    demand_button: DebouncedInput<IN>,
    /// PCA demands and the volume over the limit's window.
    pca: pca::PcaLedger,
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
    /// The program loaded waits in standby, since when (ms; a reminder
    /// acknowledged restarts it).
    standby: Option<(Standby, u64)>,
    /// A delayed start came and was refused (a flow-stopping alarm): the
    /// callback calls the nurse at once, while the program still waits.
    missed_start: bool,
    snapshot: Snapshot,
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
            demand_button: DebouncedInput::new(
                hardware.demand,
                Polarity::ActiveHigh,
                settings.debounce,
            ),
            pca: pca::PcaLedger::default(),
            lights: (hardware.light_red, hardware.light_yellow),
            state: State::SelfTest,
            generator: StepGenerator::new(settings.mechanics, settings.period_us),
            backoff: StepGenerator::new(settings.mechanics, settings.period_us),
            detectors: Detectors::default(),
            alarms: Alarms::with_timing(settings.alarm_timing),
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
            standby: None,
            missed_start: false,
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
                // A standby reminder answered comes back after another interval.
                if let Some((Standby::OnCommand, since)) = &mut self.standby {
                    *since = now_ms;
                }
                return;
            }
            Command::Standby(standby) => {
                let delay_ok = match standby {
                    Standby::OnCommand => true,
                    Standby::StartAfter { delay_ms } => {
                        (MIN_START_DELAY_MS..=MAX_START_DELAY_MS).contains(&delay_ms)
                    }
                };
                if matches!(self.state, State::Ready(_)) && delay_ok {
                    self.standby = Some((standby, now_ms));
                } else {
                    push(events, ControlEvent::Refused(CommandKind::Standby));
                }
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
            Command::LoadSyringe(syringe) => {
                self.load_syringe(syringe, events);
                return;
            }
            Command::ClearPcaLimit => {
                self.clear_pca_limit(events);
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
            self.carry_pca(now_ms);
        }
    }

    /// Meters with another syringe from now on: only with no infusion
    /// programmed (a program's volume was planned on the syringe loaded),
    /// and never with a volume per turn of zero.
    fn load_syringe(&mut self, syringe: SyringeMechanics, events: &mut ControlEvents) {
        let free = match self.state {
            State::Idle | State::Completed(_) => true,
            State::SelfTest
            | State::PlatformRejected
            | State::Ready(_)
            | State::Delivering(_)
            | State::KeepVeinOpen { .. }
            | State::Paused { .. }
            | State::AlarmStopped { .. }
            | State::Fault(_) => false,
        };
        let same_mechanism = syringe.mechanics.microsteps_per_turn
            == self.settings.mechanics.microsteps_per_turn
            && syringe.mechanics.nl_per_turn > 0;
        if !free || !same_mechanism {
            push(events, ControlEvent::Refused(CommandKind::LoadSyringe));
            return;
        }
        self.settings.mechanics = syringe.mechanics;
        self.settings.detectors.syringe_end_um = syringe.end_um;
        self.generator = StepGenerator::new(syringe.mechanics, self.settings.period_us);
        self.backoff = StepGenerator::new(syringe.mechanics, self.settings.period_us);
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
        // A standby lasts while the program waits in Ready; a delayed start
        // starts it as the nurse's start would.
        if !matches!(self.state, State::Ready(_)) {
            self.standby = None;
            self.missed_start = false;
        }
        if let Some((Standby::StartAfter { delay_ms }, since)) = self.standby {
            if now_ms.saturating_sub(since) >= delay_ms {
                self.standby = None;
                self.command(Command::Start, now_ms, &mut events);
                self.missed_start = matches!(self.state, State::Ready(_));
            }
        }

        self.sample_demand(now_ms, &mut events);

        let readings = self.read_sensors(now_us);
        let present = self.detectors.evaluate(&readings, &self.settings.detectors);
        self.raise_alarms(present, readings.delivering, now_ms, &mut events);

        let booked = self.booked_total;
        self.drive_motor(&mut events);
        self.book_pca(
            self.booked_total.saturating_sub(booked),
            now_ms,
            &mut events,
        );
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
        let mut alarms = [None; Condition::ALL.len()];
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
            reminder: self.alarms.reminder(now_ms),
            steps: self.net_steps(),
            forward_steps: self.forward_steps,
            reverse_steps: self.reverse_steps,
            relieving: self.backoff_left > 0,
            bus_errors: self.bus_errors,
            alarm_volume: self.alarm_volume,
            container_loaded: readings.container == InputState::Active,
            standby: self.standby.map(|(standby, _)| standby),
            starts_in_ms: match self.standby {
                Some((Standby::StartAfter { delay_ms }, since)) => {
                    Some((since.saturating_add(delay_ms)).saturating_sub(now_ms))
                }
                Some((Standby::OnCommand, _)) | None => None,
            },
            nl_per_turn: self.settings.mechanics.nl_per_turn,
            pca: self.pca_status(now_ms),
        }
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
