//! The monotonic clock the control thread and the supervisor run on, and
//! the absolute sleep their periods wake from (no drift: each deadline is
//! the last one plus the period, however late a wake-up was).

use nix::sys::time::TimeSpec;
use nix::time::{clock_gettime, clock_nanosleep, ClockId, ClockNanosleepFlags};

/// Microseconds on CLOCK_MONOTONIC (0 if the clock cannot be read, which
/// Linux never does for this clock).
pub fn monotonic_us() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |time| {
        let seconds = u64::try_from(time.tv_sec()).unwrap_or(0);
        let nanos = u64::try_from(time.tv_nsec()).unwrap_or(0);
        seconds
            .saturating_mul(1_000_000)
            .saturating_add(nanos / 1000)
    })
}

/// Sleeps until CLOCK_MONOTONIC reaches `deadline_us` (TIMER_ABSTIME);
/// returns at once if it has passed. A signal may end the sleep early: the
/// caller reads the clock on waking, as it must anyway.
pub fn sleep_until_us(deadline_us: u64) {
    let _ = clock_nanosleep(
        ClockId::CLOCK_MONOTONIC,
        ClockNanosleepFlags::TIMER_ABSTIME,
        &timespec_of(deadline_us),
    );
}

fn timespec_of(us: u64) -> TimeSpec {
    let seconds = i64::try_from(us / 1_000_000).unwrap_or(i64::MAX);
    let nanos = i64::try_from((us % 1_000_000) * 1000).unwrap_or(0);
    TimeSpec::new(seconds, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_sleep_wakes_at_its_deadline_not_before() {
        let start = monotonic_us();
        sleep_until_us(start + 2000);
        assert!(monotonic_us() >= start + 2000);
        // A deadline already passed returns at once.
        let before = monotonic_us();
        sleep_until_us(before.saturating_sub(1_000_000));
        assert!(monotonic_us() - before < 1_000_000);
        assert_eq!(timespec_of(1_500_000), TimeSpec::new(1, 500_000_000));
    }
}
