//! The buzzer's tone as hardware PWM makes it: a pulse wave whose period
//! and duty cycle are register settings (the BCM2711's PWM0 on GPIO 12 on
//! the Pi; the same two numbers on the simulated board), so the pitch stays
//! exact however busy the CPU is. Software only switches it on and off for
//! the burst pattern (`annunciator::burst`).
//!
//! A pulse wave of duty `d` has harmonics at every multiple `n` of its
//! frequency, each of amplitude |sin(pi n d)| / n: at d = 15 % the 2nd to
//! 5th lie within 11 dB of the fundamental (docs/alarm-signals.md). That
//! is what gives the pulse the harmonics IEC 60601-1-8 asks for, with no
//! synthesis on the device.

use crate::annunciator::Phase;

/// One PWM setting: the period and the high time, nanoseconds (the units
/// Linux's PWM interface and rppal take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tone {
    pub period_ns: u32,
    pub duty_ns: u32,
}

/// The alarm tone: C5 (523.25 Hz, 1 911 132 ns) at 15 % duty.
pub const BUZZER_TONE: Tone = Tone {
    period_ns: 1_911_132,
    duty_ns: 286_670,
};

impl Tone {
    /// Frequency, millihertz.
    pub const fn millihertz(self) -> u64 {
        if self.period_ns == 0 {
            0
        } else {
            1_000_000_000_000 / self.period_ns as u64
        }
    }

    /// Duty cycle, per mille (rounded).
    pub const fn duty_permille(self) -> u32 {
        if self.period_ns == 0 {
            0
        } else {
            ((self.duty_ns as u64 * 1000 + self.period_ns as u64 / 2) / self.period_ns as u64)
                as u32
        }
    }

    /// Is it a tone at all (a period, and high for part of it only)?
    pub const fn sounds(self) -> bool {
        self.period_ns > 0 && self.duty_ns > 0 && self.duty_ns < self.period_ns
    }
}

/// Rise and fall of each pulse, percent of its length (IEC 60601-1-8 asks
/// 10 to 20 % for the rise): the duty cycle ramps up from nothing and back
/// down, so the pulse's level does too.
pub const RISE_PERCENT: u64 = 15;

/// What the PWM plays `elapsed_ms` into `pattern` (which repeats): `tone`
/// during a sounding phase, its duty scaled by the rise and fall; `None`
/// between pulses and at a pulse's very edges.
pub fn shaped(pattern: &[Phase], elapsed_ms: u64, tone: Tone) -> Option<Tone> {
    let cycle: u64 = pattern
        .iter()
        .map(|phase| u64::from(phase.milliseconds))
        .sum();
    if cycle == 0 {
        return None;
    }
    let mut at = elapsed_ms % cycle;
    for phase in pattern {
        let length = u64::from(phase.milliseconds);
        if at < length {
            if !phase.sounding {
                return None;
            }
            let ramp = (length * RISE_PERCENT / 100).max(1);
            let level = (at + 1).min(length - at).min(ramp);
            let duty = u64::from(tone.duty_ns) * level / ramp;
            return u32::try_from(duty)
                .ok()
                .filter(|duty| *duty > 0)
                .map(|duty_ns| Tone {
                    period_ns: tone.period_ns,
                    duty_ns,
                });
        }
        at -= length;
    }
    None
}

/// A PWM output that plays a tone or is quiet, and reads back what its
/// registers hold (the supervisor checks its own drive, as it does ENABLE).
pub trait ToneOutput {
    type Error: core::fmt::Debug;

    /// Plays `tone`, or stops (output low) with `None`.
    fn set_tone(&mut self, tone: Option<Tone>) -> Result<(), Self::Error>;

    /// What the output is set to now.
    fn tone(&mut self) -> Result<Option<Tone>, Self::Error>;
}

/// Plays `tone` on `output` only when it differs from `current` (what was
/// last set), so a pattern costs one register write per edge.
pub fn play<T: ToneOutput>(
    output: &mut T,
    current: &mut Option<Option<Tone>>,
    tone: Option<Tone>,
) -> Result<(), T::Error> {
    if *current != Some(tone) {
        output.set_tone(tone)?;
        *current = Some(tone);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulse_rises_and_falls_over_fifteen_percent_of_its_length() {
        use crate::annunciator::MEDIUM_PRIORITY_BURST;
        let duty = |ms| shaped(&MEDIUM_PRIORITY_BURST, ms, BUZZER_TONE).map(|t| t.duty_ns);
        // 200 ms pulses: a 30 ms ramp each way, the full duty between.
        assert_eq!(duty(0), Some(BUZZER_TONE.duty_ns / 30));
        assert_eq!(duty(14), Some(BUZZER_TONE.duty_ns / 2));
        assert_eq!(duty(29), Some(BUZZER_TONE.duty_ns));
        assert_eq!(duty(100), Some(BUZZER_TONE.duty_ns));
        assert_eq!(duty(199), Some(BUZZER_TONE.duty_ns / 30));
        assert_eq!(duty(200), None);
        assert_eq!(duty(399), None);
        assert_eq!(duty(400 + 100), Some(BUZZER_TONE.duty_ns));
        assert_eq!(duty(1_500), None);
        // The pattern repeats every 6 s.
        assert_eq!(duty(6_100), Some(BUZZER_TONE.duty_ns));
        assert!(shaped(&[], 0, BUZZER_TONE).is_none());
    }

    #[test]
    fn the_alarm_tone_is_c5_at_fifteen_percent() {
        assert_eq!(BUZZER_TONE.millihertz(), 523_250);
        assert_eq!(BUZZER_TONE.duty_permille(), 150);
        assert!(BUZZER_TONE.sounds());
        assert!(!Tone {
            period_ns: 1000,
            duty_ns: 1000
        }
        .sounds());
        assert!(!Tone {
            period_ns: 0,
            duty_ns: 0
        }
        .sounds());
    }
}
