//! What the supervisor's buzzer plays: the volume (the nurse's, with its
//! floors) and the burst pattern with its PWM tone, following what the
//! app's heartbeats ask for (or the high pattern itself once tripped).

use perfuse_drivers::annunciator::{
    burst, sounding_at, AlarmVolume, Phase, Priority, REMINDER_BURST,
};
use perfuse_drivers::tone::{shaped, Tone, BUZZER_TONE};
use perfuse_heartbeat::protocol::AlarmLevel;

/// The volume the buzzer sounds at: what the nurse set, but never below
/// `AlarmVolume::HIGH_PRIORITY_FLOOR` for a high-priority alarm, and the
/// loudest when the supervisor has tripped (nobody may have set it well).
pub fn sounding_volume(level: AlarmLevel, set: AlarmVolume, tripped: bool) -> AlarmVolume {
    if tripped {
        return AlarmVolume::LOUDEST;
    }
    match level {
        AlarmLevel::High => set.max(AlarmVolume::HIGH_PRIORITY_FLOOR),
        // A reminder is quieter than any alarm at the same setting.
        AlarmLevel::Reminder => set.step(false).step(false),
        AlarmLevel::None | AlarmLevel::Low | AlarmLevel::Medium => set,
    }
}

/// What the buzzer plays and since when: a burst pattern starts over only
/// when the request changes (another level, or sound after a silence), not
/// with every heartbeat that repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Playing {
    pub level: AlarmLevel,
    pub audible: bool,
    pub since_us: u64,
}

impl Playing {
    pub const QUIET: Playing = Playing {
        level: AlarmLevel::None,
        audible: false,
        since_us: 0,
    };

    /// Follows a request at `now_us`: the pattern restarts if it changed.
    pub fn follow(self, level: AlarmLevel, audible: bool, now_us: u64) -> Playing {
        if self.level == level && self.audible == audible {
            self
        } else {
            Playing {
                level,
                audible,
                since_us: now_us,
            }
        }
    }

    fn pattern(self) -> Option<&'static [Phase]> {
        match self.level {
            AlarmLevel::None => None,
            AlarmLevel::Reminder => Some(&REMINDER_BURST[..]),
            AlarmLevel::Low => Some(burst(Priority::Low)),
            AlarmLevel::Medium => Some(burst(Priority::Medium)),
            AlarmLevel::High => Some(burst(Priority::High)),
        }
        .filter(|_| self.audible)
    }

    /// Does the buzzer sound at `now_us`?
    pub fn sounding(self, now_us: u64) -> bool {
        self.pattern().is_some_and(|pattern| {
            sounding_at(pattern, now_us.saturating_sub(self.since_us) / 1000)
        })
    }

    /// What the buzzer's PWM plays at `now_us`: the alarm tone in the
    /// pattern's pulses, rising and falling (`tone::shaped`).
    pub fn tone(self, now_us: u64) -> Option<Tone> {
        self.pattern().and_then(|pattern| {
            shaped(
                pattern,
                now_us.saturating_sub(self.since_us) / 1000,
                BUZZER_TONE,
            )
        })
    }
}
