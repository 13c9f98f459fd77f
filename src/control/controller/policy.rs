//! The alarm policy: which conditions are raised each period, one arm per
//! condition, what acknowledging does, and which stop each condition
//! causes.

use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;

use crate::alarms::{AlarmChange, Alarms, Condition};
use crate::control::detectors::Conditions;
use crate::control::state::{Event, State, StopCause};

use super::*;

impl<OUT, IN, SPI> Controller<OUT, IN, SPI>
where
    OUT: OutputPin,
    IN: InputPin,
    SPI: SpiDevice,
{
    pub(super) fn raise_alarms(
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
                // In standby the pump waits on purpose: a reminder at its
                // own interval, and none before a delayed start. (Both, and
                // a missed start, last only while the program waits in
                // Ready: `period` ends them otherwise.)
                Condition::CallbackUnstarted => match self.standby {
                    Some((Standby::OnCommand, since)) => {
                        now_ms.saturating_sub(since) >= crate::alarms::STANDBY_REMINDER_MS
                    }
                    Some((Standby::StartAfter { .. }, _)) => false,
                    None if self.missed_start => true,
                    None => self.waited_too_long(
                        Mode::Ready,
                        crate::alarms::CALLBACK_UNSTARTED_MS,
                        now_ms,
                    ),
                },
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
                Condition::PcaLimit => self
                    .state
                    .infusion()
                    .is_some_and(|infusion| infusion.pca_limited),
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
        // A program loaded and not started reminds the nurse, unless it
        // waits on purpose (standby) or its start was missed (that raises
        // the callback itself).
        let unstarted = match (self.waiting_since_ms, self.standby, self.missed_start) {
            (Some((Mode::Ready, since)), None, false) => Some(since),
            _ => None,
        };
        self.alarms.set_waiting(unstarted);
    }

    /// The nurse acknowledges the alarms. An acknowledged air alarm means
    /// the line was primed: the air counted so far is forgotten. With the
    /// motor still, a raised driver fault has the driver set up again (its
    /// latched flags cleared, its configuration written); a fault still
    /// there latches again at once and stays raised.
    pub(super) fn acknowledge(&mut self) {
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
    pub(super) fn waited_too_long(&self, mode: Mode, limit_ms: u64, now_ms: u64) -> bool {
        self.waiting_since_ms.is_some_and(|(since_mode, since)| {
            since_mode == mode
                && Mode::of(&self.state) == mode
                && now_ms.saturating_sub(since) >= limit_ms
        })
    }
}

pub(super) fn stop_cause(condition: Condition) -> StopCause {
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
        | Condition::StorageFault
        | Condition::PcaLimit => StopCause::SensorFault,
    }
}
