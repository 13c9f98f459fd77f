//! Alarm annunciation on the board: the buzzer's IEC 60601-1-8 burst patterns
//! and the red and yellow alarm lights.
//!
//! Time-driven and non-blocking: `update(now)` is called often (every control
//! or supervisor period) and sets the pins for the current phase of the
//! pattern. It writes a pin only when its level must change. Which alarm is
//! active, and whether it is silenced, is decided elsewhere (src/alarms and
//! the supervisor); this only plays it.

use embedded_hal::digital::OutputPin;

use crate::Error;

/// IEC 60601-1-8 alarm priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// One phase of a buzzer burst: sounding or silent, for a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    pub sounding: bool,
    pub milliseconds: u32,
}

const fn on(milliseconds: u32) -> Phase {
    Phase {
        sounding: true,
        milliseconds,
    }
}

const fn off(milliseconds: u32) -> Phase {
    Phase {
        sounding: false,
        milliseconds,
    }
}

/// High priority: 10 pulses (3 + 2, pause, 3 + 2), pulses 150 ms with 100 ms
/// spacing (standard: 75-200 ms and 50-125 ms), 1 s between the halves
/// (0.35-1.3 s), then 3 s before the next burst (2.5-15 s).
#[rustfmt::skip]
pub const HIGH_PRIORITY_BURST: [Phase; 20] = [
    on(150), off(100), on(150), off(100), on(150), off(350), on(150), off(100), on(150), off(1000),
    on(150), off(100), on(150), off(100), on(150), off(350), on(150), off(100), on(150), off(3000),
];

/// Medium priority: 3 pulses of 200 ms with 200 ms spacing (125-250 ms), then
/// 5 s before the next burst (2.5-30 s).
pub const MEDIUM_PRIORITY_BURST: [Phase; 6] =
    [on(200), off(200), on(200), off(200), on(200), off(5000)];

/// Low priority: 2 pulses, then 15 s (the standard asks for more than 15 s or none).
pub const LOW_PRIORITY_BURST: [Phase; 4] = [on(200), off(200), on(200), off(15_200)];

/// A reminder (not an alarm): one 150 ms pulse, then nothing for a minute.
/// The app asks for it once per `reminder_every_s` (docs/alarm-signals.md);
/// the silence after it only guards against a request that lingers.
pub const REMINDER_BURST: [Phase; 2] = [on(150), off(60_000)];

/// The burst pattern of a priority.
pub const fn burst(priority: Priority) -> &'static [Phase] {
    match priority {
        Priority::High => &HIGH_PRIORITY_BURST,
        Priority::Medium => &MEDIUM_PRIORITY_BURST,
        Priority::Low => &LOW_PRIORITY_BURST,
    }
}

/// Light flashing: high red at 2 Hz (1.4-2.8 Hz, 50 % duty), medium yellow at
/// 0.5 Hz (0.4-0.8 Hz, 50 % duty), low yellow steady.
pub const fn light_on(priority: Priority, elapsed_ms: u64) -> bool {
    match priority {
        Priority::High => elapsed_ms % 500 < 250,
        Priority::Medium => elapsed_ms % 2000 < 1000,
        Priority::Low => true,
    }
}

/// Whether `pattern` sounds `elapsed_ms` after it started (it repeats).
pub fn sounding_at(pattern: &[Phase], elapsed_ms: u64) -> bool {
    let cycle: u64 = pattern
        .iter()
        .map(|phase| u64::from(phase.milliseconds))
        .sum();
    if cycle == 0 {
        return false;
    }
    let mut at = elapsed_ms % cycle;
    for phase in pattern {
        let length = u64::from(phase.milliseconds);
        if at < length {
            return phase.sounding;
        }
        at -= length;
    }
    false
}

/// What should be announced now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub priority: Priority,
    /// False while silenced: the light keeps flashing, the buzzer stops.
    pub audible: bool,
    /// When this announcement started, ms on the caller's monotonic clock.
    pub since_ms: u64,
}

pub struct Annunciator<BUZZER, RED, YELLOW> {
    buzzer: BUZZER,
    red: RED,
    yellow: YELLOW,
    levels: [Option<bool>; 3],
}

impl<E, BUZZER, RED, YELLOW> Annunciator<BUZZER, RED, YELLOW>
where
    BUZZER: OutputPin<Error = E>,
    RED: OutputPin<Error = E>,
    YELLOW: OutputPin<Error = E>,
{
    pub fn new(buzzer: BUZZER, red: RED, yellow: YELLOW) -> Self {
        Self {
            buzzer,
            red,
            yellow,
            levels: [None; 3],
        }
    }

    pub fn release(self) -> (BUZZER, RED, YELLOW) {
        (self.buzzer, self.red, self.yellow)
    }

    /// Sets the pins for `announcement` (or quiet) at `now_ms`.
    pub fn update(
        &mut self,
        announcement: Option<Announcement>,
        now_ms: u64,
    ) -> Result<(), Error<E>> {
        let (buzzer, red, yellow) = match announcement {
            None => (false, false, false),
            Some(Announcement {
                priority,
                audible,
                since_ms,
            }) => {
                let elapsed = now_ms.saturating_sub(since_ms);
                let light = light_on(priority, elapsed);
                let sound = audible && sounding_at(burst(priority), elapsed);
                (
                    sound,
                    light && priority == Priority::High,
                    light && priority != Priority::High,
                )
            }
        };
        let [buzzer_level, red_level, yellow_level] = &mut self.levels;
        drive(&mut self.buzzer, buzzer_level, buzzer)?;
        drive(&mut self.red, red_level, red)?;
        drive(&mut self.yellow, yellow_level, yellow)?;
        Ok(())
    }
}

fn drive<P: OutputPin>(
    pin: &mut P,
    current: &mut Option<bool>,
    wanted: bool,
) -> Result<(), Error<P::Error>> {
    if *current != Some(wanted) {
        if wanted {
            pin.set_high()?;
        } else {
            pin.set_low()?;
        }
        *current = Some(wanted);
    }
    Ok(())
}

/// How loud the buzzer sounds: level 1 (quietest) to 4 (loudest).
///
/// The carrier sets it with two attenuator lines in the sounder's drive
/// (docs/wiring.md): each, when high, switches a fixed resistor in series,
/// A for -6 dB and B for -12 dB. The network has no open position, so even
/// level 1 (-18 dB) sounds; and the lines' pull-downs make an undriven
/// attenuator (no supervisor, a reset board) the loudest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlarmVolume(u8);

impl AlarmVolume {
    pub const QUIETEST: AlarmVolume = AlarmVolume(1);
    pub const LOUDEST: AlarmVolume = AlarmVolume(4);
    /// High-priority alarms never sound below this, whatever was set
    /// (IEC 60601-1-8 lets the operator lower the volume, not silence it
    /// by setting; the supervisor enforces this floor).
    pub const HIGH_PRIORITY_FLOOR: AlarmVolume = AlarmVolume(3);

    /// A level from 1 to 4; None otherwise.
    pub const fn new(level: u8) -> Option<AlarmVolume> {
        if level >= Self::QUIETEST.0 && level <= Self::LOUDEST.0 {
            Some(AlarmVolume(level))
        } else {
            None
        }
    }

    pub const fn level(self) -> u8 {
        self.0
    }

    /// One level louder or quieter, staying within 1 to 4.
    pub fn step(self, louder: bool) -> AlarmVolume {
        let level = if louder {
            self.0.saturating_add(1)
        } else {
            self.0.saturating_sub(1)
        };
        AlarmVolume(level.clamp(Self::QUIETEST.0, Self::LOUDEST.0))
    }

    /// Attenuation below the loudest, dB.
    pub const fn attenuation_db(self) -> u8 {
        (Self::LOUDEST.0 - self.0) * 6
    }

    /// The attenuator lines (A, B) for this level: true drives a line high.
    pub const fn lines(self) -> (bool, bool) {
        let steps = Self::LOUDEST.0 - self.0;
        (steps & 1 != 0, steps & 2 != 0)
    }

    /// The level the attenuator lines (A, B) select.
    pub const fn from_lines(a: bool, b: bool) -> AlarmVolume {
        let steps = (a as u8) | ((b as u8) << 1);
        AlarmVolume(Self::LOUDEST.0 - steps)
    }
}

impl Default for AlarmVolume {
    fn default() -> Self {
        Self::LOUDEST
    }
}

#[cfg(test)]
mod volume_tests {
    use super::AlarmVolume;

    #[test]
    fn levels_are_one_to_four_and_map_to_the_attenuator_lines_both_ways() {
        assert_eq!(AlarmVolume::new(0), None);
        assert_eq!(AlarmVolume::new(5), None);
        let expected = [
            (1, (true, true), 18),
            (2, (false, true), 12),
            (3, (true, false), 6),
            (4, (false, false), 0),
        ];
        for (level, lines, db) in expected {
            let volume = AlarmVolume::new(level).unwrap_or_default();
            assert_eq!(volume.level(), level);
            assert_eq!(volume.lines(), lines, "level {level}");
            assert_eq!(volume.attenuation_db(), db, "level {level}");
            assert_eq!(AlarmVolume::from_lines(lines.0, lines.1), volume);
        }
        // Lines left low (pull-downs, nobody driving) are the loudest.
        assert_eq!(AlarmVolume::from_lines(false, false), AlarmVolume::LOUDEST);
        assert_eq!(AlarmVolume::default(), AlarmVolume::LOUDEST);
    }

    #[test]
    fn steps_stay_within_the_levels() {
        assert_eq!(AlarmVolume::QUIETEST.step(false), AlarmVolume::QUIETEST);
        assert_eq!(AlarmVolume::LOUDEST.step(true), AlarmVolume::LOUDEST);
        assert_eq!(AlarmVolume::QUIETEST.step(true).level(), 2);
        assert_eq!(AlarmVolume::LOUDEST.step(false).level(), 3);
    }
}
