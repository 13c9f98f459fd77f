//! Patient-controlled analgesia in the control period: the demand button,
//! the lockout, and the limit over a rolling window of 1 or 4 hours.
//!
//! Everything the pump puts into the line while a PCA program is loaded
//! (basal, demands, a clinician bolus, KVO at the limit) is booked by the
//! minute in a fixed ring of `WINDOW_BUCKETS` minutes. The window's sum
//! covers one minute more than the window (the current, part-filled minute
//! and the whole of the oldest), so it never forgets volume early: a demand
//! is refused, and the basal held at the limit, no later than the exact
//! rolling sum would. The history is the pump's since power-on, kept across
//! programs (a new syringe for the same patient does not reset the limit).
//!
//! A demand counts on the debounced press edge only: a button held down,
//! or stuck, is one demand.

use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::debounce::InputState;

use crate::control::state::{Event, Infusion, Pca, Segment, State};
use crate::control::units::Nanolitres;
use crate::therapy::SegmentPurpose;

use super::*;

/// Minutes of history: the longest window (4 h) and the current minute.
pub const WINDOW_BUCKETS: usize = 4 * 60 + 1;

const MINUTE_MS: u64 = 60_000;

/// The demands and the volume by the minute.
#[derive(Debug, Clone)]
pub(super) struct PcaLedger {
    /// Volume per minute, indexed by absolute minute modulo the length.
    minutes: [u64; WINDOW_BUCKETS],
    /// The absolute minute of the newest bucket.
    newest: u64,
    last_given_ms: Option<u64>,
    given: u32,
    refused: u32,
    last_refusal: Option<DemandRefusal>,
    /// The demand button's last debounced state.
    pressed: bool,
}

impl Default for PcaLedger {
    fn default() -> Self {
        Self {
            minutes: [0; WINDOW_BUCKETS],
            newest: 0,
            last_given_ms: None,
            given: 0,
            refused: 0,
            last_refusal: None,
            pressed: false,
        }
    }
}

impl PcaLedger {
    fn bucket(minute: u64) -> usize {
        // The modulo is below WINDOW_BUCKETS, so it fits.
        usize::try_from(minute % WINDOW_BUCKETS as u64).unwrap_or(0)
    }

    /// Moves the newest minute to `now_ms`'s, emptying the minutes passed.
    fn advance(&mut self, now_ms: u64) {
        let minute = now_ms / MINUTE_MS;
        if minute <= self.newest {
            return;
        }
        let passed = (minute - self.newest).min(WINDOW_BUCKETS as u64);
        for step in 1..=passed {
            if let Some(slot) = self.minutes.get_mut(Self::bucket(self.newest + step)) {
                *slot = 0;
            }
        }
        self.newest = minute;
    }

    fn book(&mut self, now_ms: u64, volume: Nanolitres) {
        self.advance(now_ms);
        if let Some(slot) = self.minutes.get_mut(Self::bucket(self.newest)) {
            *slot = slot.saturating_add(volume.0);
        }
    }

    /// Volume over the last `window_minutes` (and the current minute).
    pub(super) fn used(&self, window_minutes: u32) -> Nanolitres {
        let span = u64::from(window_minutes).min(WINDOW_BUCKETS as u64 - 1);
        let mut total = 0_u64;
        for back in 0..=span {
            if back > self.newest {
                break;
            }
            let slot = self.minutes.get(Self::bucket(self.newest - back));
            total = total.saturating_add(slot.copied().unwrap_or(0));
        }
        Nanolitres(total)
    }

    fn lockout_left_ms(&self, pca: &Pca, now_ms: u64) -> u64 {
        self.last_given_ms.map_or(0, |given| {
            given.saturating_add(pca.lockout_ms).saturating_sub(now_ms)
        })
    }

    fn refuse(&mut self, why: DemandRefusal) -> DemandOutcome {
        self.refused = self.refused.saturating_add(1);
        self.last_refusal = Some(why);
        DemandOutcome::Refused(why)
    }

    pub(super) fn status(&self, pca: &Pca, limited: bool, now_ms: u64) -> PcaStatus {
        PcaStatus {
            given: self.given,
            refused: self.refused,
            last_refusal: self.last_refusal,
            used: self.used(pca.window_minutes),
            limit: pca.limit,
            window_minutes: pca.window_minutes,
            lockout_left_ms: self.lockout_left_ms(pca, now_ms),
            limited,
        }
    }
}

impl<OUT, IN, SPI> Controller<OUT, IN, SPI>
where
    OUT: OutputPin,
    IN: InputPin,
    SPI: SpiDevice,
{
    /// Reads the demand button and gives or refuses a demand on its press.
    pub(super) fn sample_demand(&mut self, now_ms: u64, events: &mut ControlEvents) {
        let pressed = match self.demand_button.sample() {
            Ok(reading) => reading.state == InputState::Active,
            Err(_) => {
                self.bus_errors = self.bus_errors.saturating_add(1);
                false
            }
        };
        let press = pressed && !self.pca.pressed;
        self.pca.pressed = pressed;
        if press {
            self.demand(now_ms, events);
        }
    }

    /// A press of the demand button: ignored without a PCA program.
    fn demand(&mut self, now_ms: u64, events: &mut ControlEvents) {
        let Some(pca) = self
            .state
            .infusion()
            .and_then(|infusion| infusion.pca().copied())
        else {
            return;
        };
        let outcome = match &self.state {
            State::Delivering(infusion) if infusion.pca_limited => {
                self.pca.refuse(DemandRefusal::Limit)
            }
            State::Delivering(infusion) if infusion.overlay.is_some() => {
                self.pca.refuse(DemandRefusal::DoseInProgress)
            }
            State::Delivering(_) => self.give(&pca, now_ms, events),
            State::SelfTest
            | State::PlatformRejected
            | State::Idle
            | State::Ready(_)
            | State::KeepVeinOpen { .. }
            | State::Paused { .. }
            | State::AlarmStopped { .. }
            | State::Completed(_)
            | State::Fault(_) => self.pca.refuse(DemandRefusal::NotInfusing),
        };
        push(events, ControlEvent::Demand(outcome));
    }

    fn give(&mut self, pca: &Pca, now_ms: u64, events: &mut ControlEvents) -> DemandOutcome {
        self.pca.advance(now_ms);
        if self.pca.lockout_left_ms(pca, now_ms) > 0 {
            return self.pca.refuse(DemandRefusal::Lockout);
        }
        let after = self.pca.used(pca.window_minutes).saturating_add(pca.demand);
        if after.0 > pca.limit.0 {
            return self.pca.refuse(DemandRefusal::Limit);
        }
        let dose = Segment {
            purpose: SegmentPurpose::Bolus,
            rate: pca.demand_rate,
            volume: pca.demand,
        };
        if !self.apply(Event::Bolus(dose), events) {
            return self.pca.refuse(DemandRefusal::NotInfusing);
        }
        self.pca.last_given_ms = Some(now_ms);
        self.pca.given = self.pca.given.saturating_add(1);
        DemandOutcome::Given
    }

    /// Books what reached the line this period; holds a PCA at its limit
    /// once the window has it.
    pub(super) fn book_pca(&mut self, volume: Nanolitres, now_ms: u64, events: &mut ControlEvents) {
        // Only a PCA program's own volume counts towards its limit.
        if self.state.infusion().and_then(Infusion::pca).is_none() {
            return;
        }
        self.pca.book(now_ms, volume);
        let reached = self.state.infusion().is_some_and(|infusion| {
            infusion.pca().is_some_and(|pca| {
                !infusion.pca_limited && self.pca.used(pca.window_minutes).0 >= pca.limit.0
            })
        });
        if reached {
            self.apply(Event::PcaLimitReached, events);
        }
    }

    /// A clinician resumes a PCA held at its limit: only with room in the
    /// window for the basal again.
    pub(super) fn clear_pca_limit(&mut self, events: &mut ControlEvents) {
        let room = self.state.infusion().is_some_and(|infusion| {
            infusion.pca_limited
                && infusion
                    .pca()
                    .is_some_and(|pca| self.pca.used(pca.window_minutes).0 < pca.limit.0)
        });
        if !room || !self.apply(Event::PcaLimitCleared, events) {
            push(events, ControlEvent::Refused(CommandKind::ClearPcaLimit));
        }
    }

    /// A PCA resumed after an interruption: what the patient had of it
    /// counts towards the limit from now (at most the limit).
    pub(super) fn carry_pca(&mut self, now_ms: u64) {
        let carried = self
            .state
            .infusion()
            .and_then(Infusion::pca)
            .map(|pca| Nanolitres(pca.carried.0.min(pca.limit.0)));
        if let Some(carried) = carried.filter(|carried| carried.0 > 0) {
            self.pca.book(now_ms, carried);
        }
    }

    pub(super) fn pca_status(&self, now_ms: u64) -> Option<PcaStatus> {
        let infusion = self.state.infusion()?;
        let pca = infusion.pca()?;
        Some(self.pca.status(pca, infusion.pca_limited, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_forgets_volume_only_after_it_has_passed() {
        let mut ledger = PcaLedger::default();
        ledger.book(0, Nanolitres(1_000));
        ledger.book(30 * MINUTE_MS, Nanolitres(2_000));
        assert_eq!(ledger.used(60), Nanolitres(3_000));
        // 60 min after the first booking its minute still counts (one more
        // minute than the window), the next minute it is gone.
        ledger.advance(60 * MINUTE_MS + 59_999);
        assert_eq!(ledger.used(60), Nanolitres(3_000));
        ledger.advance(61 * MINUTE_MS);
        assert_eq!(ledger.used(60), Nanolitres(2_000));
        assert_eq!(ledger.used(240), Nanolitres(3_000));
        // A long gap empties everything, however long.
        ledger.advance(10_000 * MINUTE_MS);
        assert_eq!(ledger.used(240), Nanolitres(0));
        ledger.book(10_000 * MINUTE_MS, Nanolitres(5));
        assert_eq!(ledger.used(240), Nanolitres(5));
    }
}
