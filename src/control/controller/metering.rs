//! Metering and back-off: microsteps from the exact accumulator, booked as
//! delivered volume only while the driver is enabled; the back-off after
//! an occlusion, owed and repaid before anything counts as delivered.

use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::tmc5160::Direction;

use crate::control::state::{Event, State};
use crate::control::units::{Microsteps, Nanolitres, NanolitresPerHour};

use super::*;

/// Parts per million.
const PPM: u64 = 1_000_000;

impl<OUT, IN, SPI> Controller<OUT, IN, SPI>
where
    OUT: OutputPin,
    IN: InputPin,
    SPI: SpiDevice,
{
    pub(super) fn start_backoff(&mut self) {
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
    pub(super) fn efficiency_ppm(&self) -> u64 {
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
    pub(super) fn fill_ppm(&self) -> u64 {
        let loss = u64::from(self.settings.fill_loss_ppm_per_mmhg);
        let suction_mmhg = self.snapshot.upstream_tenths_mmhg.map_or(0, |tenths| {
            u64::try_from((-tenths).clamp(0, 100_000) / 10).unwrap_or(0)
        });
        PPM.saturating_sub(loss.saturating_mul(suction_mmhg))
    }

    pub(super) fn drive_motor(&mut self, events: &mut ControlEvents) {
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
    pub(super) fn segment_volume(&self) -> Option<Nanolitres> {
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

    pub(super) fn run_backoff(&mut self) {
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

    /// Net microsteps commanded: forward minus reverse.
    pub(super) fn net_steps(&self) -> i64 {
        let forward = i64::try_from(self.forward_steps).unwrap_or(i64::MAX);
        let reverse = i64::try_from(self.reverse_steps).unwrap_or(i64::MAX);
        forward.saturating_sub(reverse)
    }
}
