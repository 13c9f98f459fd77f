//! Bus-level tests of the annunciator driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};
use perfuse_drivers::annunciator::*;
use perfuse_drivers::Error;

fn pulses(pattern: &[Phase]) -> usize {
    pattern.iter().filter(|phase| phase.sounding).count()
}

#[test]
fn bursts_have_the_standard_pulse_counts() {
    assert_eq!(pulses(&HIGH_PRIORITY_BURST), 10);
    assert_eq!(pulses(&MEDIUM_PRIORITY_BURST), 3);
    assert_eq!(pulses(&LOW_PRIORITY_BURST), 2);
}

#[test]
fn the_pattern_repeats() {
    let cycle: u64 = HIGH_PRIORITY_BURST
        .iter()
        .map(|p| u64::from(p.milliseconds))
        .sum();
    for at in [0, 75, 160, 260, 600, 2000, 7000] {
        assert_eq!(
            sounding_at(&HIGH_PRIORITY_BURST, at),
            sounding_at(&HIGH_PRIORITY_BURST, at + cycle),
            "{at}"
        );
    }
    assert!(sounding_at(&HIGH_PRIORITY_BURST, 0));
    assert!(!sounding_at(&HIGH_PRIORITY_BURST, 200));
}

#[test]
fn lights_flash_at_the_standard_rates() {
    let toggles = |priority| {
        (0..10_000_u64)
            .filter(|t| light_on(priority, *t) != light_on(priority, t + 1))
            .count()
    };
    assert_eq!(
        toggles(Priority::High),
        40,
        "2 Hz: 20 on-off cycles in 10 s"
    );
    assert_eq!(toggles(Priority::Medium), 10, "0.5 Hz: 5 cycles in 10 s");
    assert_eq!(toggles(Priority::Low), 0, "steady");
}

#[test]
fn pins_follow_the_announcement_and_are_written_only_on_change() {
    let buzzer = Mock::new(&[Transaction::set(State::High), Transaction::set(State::Low)]);
    let red = Mock::new(&[Transaction::set(State::High), Transaction::set(State::Low)]);
    let yellow = Mock::new(&[Transaction::set(State::Low)]);
    let mut annunciator = Annunciator::new(buzzer, red, yellow);
    let high = Announcement {
        priority: Priority::High,
        audible: true,
        since_ms: 1000,
    };
    annunciator.update(Some(high), 1000).unwrap(); // buzzer on, red on, yellow off
    annunciator.update(Some(high), 1010).unwrap(); // nothing changes
    let silenced = Announcement {
        audible: false,
        ..high
    };
    annunciator.update(Some(silenced), 1020).unwrap(); // buzzer off, red still flashing
    annunciator.update(None, 1030).unwrap(); // red off; the buzzer is already off
    let (mut buzzer, mut red, mut yellow) = annunciator.release();
    buzzer.done();
    red.done();
    yellow.done();
}
