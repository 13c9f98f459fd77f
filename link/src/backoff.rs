//! Reconnection delays: exponential, with full jitter, and capped, so that
//! a gateway that is down costs the pump one attempt per `cap` at most and
//! a ward of pumps does not reconnect in step.

use std::time::Duration;

/// The delays of successive failed attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// Delays that start at `first` and double up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff {
            first,
            cap: cap.max(first),
            failures: 0,
        }
    }

    /// The ceiling of the next delay: `first` doubled once per failure
    /// so far, never past `cap`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1_u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.cap)
    }

    /// After a failed attempt: the delay before the next one, a random
    /// point between half the ceiling and the ceiling (`random` is a
    /// uniform draw from the whole u32 range).
    pub fn failed(&mut self, random: u32) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        let span = ceiling.saturating_sub(half);
        let nanos = span.as_nanos().saturating_mul(u128::from(random)) / u128::from(u32::MAX);
        half + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// A connection that worked: the next failure starts from `first` again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// A random u32 for the jitter (zero if the system has no randomness: the
/// delay is then the ceiling's half, still bounded).
pub fn random() -> u32 {
    let mut bytes = [0_u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_up_to_the_cap_and_start_over_after_a_success() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let ceilings: Vec<u64> = (0..9)
            .map(|_| {
                let ceiling = backoff.ceiling().as_secs();
                backoff.failed(u32::MAX);
                ceiling
            })
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        backoff.succeeded();
        assert_eq!(backoff.failed(0), Duration::from_millis(500));
    }

    proptest! {
        #[test]
        fn every_delay_lies_between_half_the_ceiling_and_the_ceiling(
            failures in 0_usize..100,
            random in any::<u32>(),
        ) {
            let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
            for _ in 0..failures {
                backoff.failed(random);
            }
            let ceiling = backoff.ceiling();
            let delay = backoff.failed(random);
            prop_assert!(delay >= ceiling / 2 && delay <= ceiling);
            prop_assert!(delay <= Duration::from_secs(30));
        }
    }
}
