//! Step generation: from a rate to microsteps per control period, through the
//! platform's mechanism constants, with an exact rational accumulator.
//!
//! Each period adds `rate (nL/h) x period (us) x microsteps per turn` to the
//! accumulator; every whole `3.6e9 us/h x nL per turn` in it is one
//! microstep. Nothing is rounded, so there is no drift over any number of
//! hours, and a titration keeps the fraction already accumulated.

use super::units::{Microsteps, Nanolitres, NanolitresPerHour};

/// Microseconds in an hour.
const MICROSECONDS_PER_HOUR: u128 = 3_600_000_000;

/// Most microsteps one period may emit: the control thread toggles STEP this
/// many times at most per period. 64 per millisecond covers the fastest
/// platform (about 8 per ms at 999 mL/h) with a wide margin.
pub const MAX_STEPS_PER_PERIOD: u32 = 64;

/// The mechanism constants of a verified platform, in control units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mechanics {
    /// Volume per mechanism turn (lead screw or camshaft), nL, as calibrated.
    pub nl_per_turn: u64,
    /// Microsteps per mechanism turn at the configured microstep setting.
    pub microsteps_per_turn: u64,
}

impl Mechanics {
    /// Whole microsteps whose volume does not exceed `volume` (a target is
    /// never overshot).
    pub fn microsteps_within(&self, volume: Nanolitres) -> Microsteps {
        let product = u128::from(volume.0) * u128::from(self.microsteps_per_turn);
        Microsteps(u64::try_from(product / u128::from(self.nl_per_turn.max(1))).unwrap_or(u64::MAX))
    }

    /// Volume of `steps` microsteps, rounded down.
    pub fn volume_of(&self, steps: Microsteps) -> Nanolitres {
        let product = u128::from(steps.0) * u128::from(self.nl_per_turn);
        Nanolitres(
            u64::try_from(product / u128::from(self.microsteps_per_turn.max(1)))
                .unwrap_or(u64::MAX),
        )
    }
}

/// Turns a rate into microsteps, period by period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepGenerator {
    mechanics: Mechanics,
    period_us: u64,
    rate: NanolitresPerHour,
    accumulator: u128,
    divisor: u128,
}

impl StepGenerator {
    pub fn new(mechanics: Mechanics, period_us: u64) -> Self {
        let divisor = MICROSECONDS_PER_HOUR * u128::from(mechanics.nl_per_turn.max(1));
        Self {
            mechanics,
            period_us,
            rate: NanolitresPerHour(0),
            accumulator: 0,
            divisor,
        }
    }

    pub fn mechanics(&self) -> Mechanics {
        self.mechanics
    }

    pub fn rate(&self) -> NanolitresPerHour {
        self.rate
    }

    /// Changes the rate from the next period on, keeping the accumulated
    /// fraction of a step (a titration loses nothing).
    pub fn set_rate(&mut self, rate: NanolitresPerHour) {
        self.rate = rate;
    }

    /// Stops and forgets the fraction of a step (stop or pause).
    pub fn stop(&mut self) {
        self.rate = NanolitresPerHour(0);
        self.accumulator = 0;
    }

    /// Microsteps due this period, at most `limit` (the steps left before the
    /// segment's volume) and at most `MAX_STEPS_PER_PERIOD`; what is held back
    /// stays in the accumulator.
    pub fn tick(&mut self, limit: Microsteps) -> u32 {
        let added = u128::from(self.rate.0)
            * u128::from(self.period_us)
            * u128::from(self.mechanics.microsteps_per_turn);
        self.accumulator = self.accumulator.saturating_add(added);
        let due = self.accumulator / self.divisor;
        let cap = u128::from(MAX_STEPS_PER_PERIOD).min(u128::from(limit.0));
        let steps = due.min(cap);
        self.accumulator -= steps * self.divisor;
        u32::try_from(steps).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The S50 with a 50 mL syringe: 0.5553 mL per turn, 16 000 microsteps per turn.
    const S50: Mechanics = Mechanics {
        nl_per_turn: 555_300,
        microsteps_per_turn: 16_000,
    };
    const NO_LIMIT: Microsteps = Microsteps(u64::MAX);

    #[test]
    fn two_hours_at_any_rate_give_exactly_the_steps_the_volume_needs() {
        for rate in [
            10_000_u64,
            100_000,
            1_000_000,
            25_000_000,
            123_450_000,
            999_000_000,
        ] {
            let mut generator = StepGenerator::new(S50, 1000);
            generator.set_rate(NanolitresPerHour(rate));
            let mut steps = 0_u64;
            for _ in 0..7_200_000 {
                steps += u64::from(generator.tick(NO_LIMIT));
            }
            // Exactly floor(volume x steps per turn / nL per turn).
            let expected = u128::from(rate) * 2 * 16_000 / 555_300;
            assert_eq!(u128::from(steps), expected, "rate {rate} nL/h");
        }
    }

    #[test]
    fn titration_keeps_the_fraction() {
        // 1.23 mL/h for 5 min, then titrated to 4.56 mL/h for 5 min: the steps
        // are exactly those of the total volume, so nothing was lost at the change.
        let mut generator = StepGenerator::new(S50, 1000);
        let (first, second) = (1_230_000_u64, 4_560_000_u64);
        generator.set_rate(NanolitresPerHour(first));
        let mut steps = 0_u64;
        for period in 0..600_000 {
            if period == 300_000 {
                generator.set_rate(NanolitresPerHour(second));
            }
            steps += u64::from(generator.tick(NO_LIMIT));
        }
        let numerator = (u128::from(first) + u128::from(second)) * 300_000 * 1000 * 16_000;
        let exact = numerator / (3_600_000_000 * 555_300);
        assert_eq!(u128::from(steps), exact);
    }

    #[test]
    fn a_limit_holds_steps_back_without_losing_them() {
        let mut generator = StepGenerator::new(S50, 1000);
        generator.set_rate(NanolitresPerHour(999_000_000));
        assert_eq!(generator.tick(Microsteps(3)), 3);
        assert_eq!(generator.tick(Microsteps(0)), 0);
        // The held-back steps come out once allowed (capped per period).
        assert!(generator.tick(NO_LIMIT) > 8);
    }

    #[test]
    fn volume_and_steps_convert_without_overshooting() {
        let steps = S50.microsteps_within(Nanolitres(1_000_000));
        assert_eq!(steps, Microsteps(28_813));
        assert!(S50.volume_of(steps) <= Nanolitres(1_000_000));
        assert!(S50.volume_of(Microsteps(steps.0 + 1)) > Nanolitres(1_000_000));
    }
}
