//! Alarm conditions and their annunciation (IEC 60601-1-8): priorities,
//! latching, a two-minute silence that re-annunciates, callback reminders,
//! and several alarms shown at once in priority order.
//!
//! Detectors say each period whether a condition is present; this module
//! decides what is raised, shown and sounded. It never forgets a condition
//! that is present: a present condition is raised whatever happened before
//! (acknowledged, silenced, cleared, restarted), which is how every detector
//! re-arms (DESIGN.md, F4). Fixed size: one slot per condition, no allocation.

use perfuse_drivers::annunciator::{Announcement, Priority};

/// Silence lasts two minutes, then the alarm sounds again if still there.
pub const SILENCE_MS: u64 = 120_000;
/// A paused infusion calls the nurse back after two minutes.
pub const CALLBACK_PAUSED_MS: u64 = 120_000;
/// A pump left programmed but not started calls back after five minutes.
pub const CALLBACK_UNSTARTED_MS: u64 = 300_000;
/// A program in standby (waiting on purpose for the nurse's start) reminds
/// every thirty minutes instead.
pub const STANDBY_REMINDER_MS: u64 = 1_800_000;
/// How long a reminder asks the buzzer for its one pulse, ms (the
/// supervisor times the pulse itself: `annunciator::REMINDER_BURST`).
pub const REMINDER_WINDOW_MS: u64 = 250;

/// When an unanswered alarm escalates and how often the reminder sounds:
/// set by the signed mechanism profile's `[alarms]` (within the bounds of
/// `perfuse_core::platform::AlarmSpec`), five minutes and one minute
/// otherwise. docs/alarm-signals.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmTiming {
    /// A medium alarm that escalates (`Condition::escalates`), raised and
    /// neither acknowledged nor cleared for this long, becomes high.
    pub escalate_after_ms: u64,
    /// The reminder's interval: during an audio pause with the alarm
    /// still present, and while a program waits to be started.
    pub reminder_every_ms: u64,
}

impl Default for AlarmTiming {
    fn default() -> Self {
        Self {
            escalate_after_ms: 300_000,
            reminder_every_ms: 60_000,
        }
    }
}

/// Every alarm condition the pump knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    DownstreamOcclusion,
    UpstreamOcclusion,
    AirInLine,
    AccumulatedAir,
    DoorOpen,
    /// The syringe (or set) is not in the pump: its present switch is open.
    SyringeNotLoaded,
    EndOfContainer,
    MotorStall,
    DriverFault,
    EncoderDisagreement,
    SensorFault,
    SupervisorTrip,
    InfusionComplete,
    NearEnd,
    KeepVeinOpen,
    CallbackPaused,
    CallbackUnstarted,
    /// The event log cannot be written (disk full, read-only, corrupt):
    /// the pump runs on, but its history is at risk.
    StorageFault,
    /// A PCA program reached its limit over its window: held at KVO, no
    /// demand given, until a clinician resumes it.
    PcaLimit,
}

impl Condition {
    pub const ALL: [Condition; 19] = [
        Condition::DownstreamOcclusion,
        Condition::UpstreamOcclusion,
        Condition::AirInLine,
        Condition::AccumulatedAir,
        Condition::DoorOpen,
        Condition::SyringeNotLoaded,
        Condition::EndOfContainer,
        Condition::MotorStall,
        Condition::DriverFault,
        Condition::EncoderDisagreement,
        Condition::SensorFault,
        Condition::SupervisorTrip,
        Condition::InfusionComplete,
        Condition::NearEnd,
        Condition::KeepVeinOpen,
        Condition::CallbackPaused,
        Condition::CallbackUnstarted,
        Condition::StorageFault,
        Condition::PcaLimit,
    ];

    /// The condition's name in the event log and in interaction records
    /// (as written since the first log: `AlarmRaised { condition }`).
    pub fn name(self) -> &'static str {
        match self {
            Condition::DownstreamOcclusion => "DownstreamOcclusion",
            Condition::UpstreamOcclusion => "UpstreamOcclusion",
            Condition::AirInLine => "AirInLine",
            Condition::AccumulatedAir => "AccumulatedAir",
            Condition::DoorOpen => "DoorOpen",
            Condition::SyringeNotLoaded => "SyringeNotLoaded",
            Condition::EndOfContainer => "EndOfContainer",
            Condition::MotorStall => "MotorStall",
            Condition::DriverFault => "DriverFault",
            Condition::EncoderDisagreement => "EncoderDisagreement",
            Condition::SensorFault => "SensorFault",
            Condition::SupervisorTrip => "SupervisorTrip",
            Condition::InfusionComplete => "InfusionComplete",
            Condition::NearEnd => "NearEnd",
            Condition::KeepVeinOpen => "KeepVeinOpen",
            Condition::CallbackPaused => "CallbackPaused",
            Condition::CallbackUnstarted => "CallbackUnstarted",
            Condition::StorageFault => "StorageFault",
            Condition::PcaLimit => "PcaLimit",
        }
    }

    /// The condition of a `name`, as the event log holds it.
    pub fn from_name(name: &str) -> Option<Condition> {
        Condition::ALL
            .into_iter()
            .find(|condition| condition.name() == name)
    }

    fn index(self) -> usize {
        match self {
            Condition::DownstreamOcclusion => 0,
            Condition::UpstreamOcclusion => 1,
            Condition::AirInLine => 2,
            Condition::AccumulatedAir => 3,
            Condition::DoorOpen => 4,
            Condition::EndOfContainer => 5,
            Condition::MotorStall => 6,
            Condition::DriverFault => 7,
            Condition::EncoderDisagreement => 8,
            Condition::SensorFault => 9,
            Condition::SupervisorTrip => 10,
            Condition::InfusionComplete => 11,
            Condition::NearEnd => 12,
            Condition::KeepVeinOpen => 13,
            Condition::CallbackPaused => 14,
            Condition::CallbackUnstarted => 15,
            Condition::StorageFault => 16,
            Condition::SyringeNotLoaded => 17,
            Condition::PcaLimit => 18,
        }
    }

    /// Among alarms of one priority, which comes first: a physical cause
    /// the nurse can fix at the bedside (occlusion, air, door, syringe)
    /// before a fault of the pump, and the supervisor's cut last. When a
    /// trip and a physical cause happen together, the banner names the
    /// physical cause first, with the trip beneath it.
    pub fn rank(self) -> u8 {
        match self {
            Condition::DownstreamOcclusion
            | Condition::UpstreamOcclusion
            | Condition::AirInLine
            | Condition::AccumulatedAir
            | Condition::DoorOpen
            | Condition::SyringeNotLoaded
            | Condition::EndOfContainer => 0,
            Condition::MotorStall
            | Condition::DriverFault
            | Condition::EncoderDisagreement
            | Condition::SensorFault
            | Condition::StorageFault => 1,
            Condition::SupervisorTrip => 2,
            Condition::InfusionComplete
            | Condition::NearEnd
            | Condition::KeepVeinOpen
            | Condition::CallbackPaused
            | Condition::CallbackUnstarted
            | Condition::PcaLimit => 0,
        }
    }

    /// Priority by the harm delay: flow stopped or unsafe is high; the nurse
    /// needed soon is medium; information is low.
    pub fn priority(self) -> Priority {
        match self {
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
            | Condition::SensorFault
            | Condition::SupervisorTrip => Priority::High,
            Condition::InfusionComplete
            | Condition::KeepVeinOpen
            | Condition::CallbackPaused
            | Condition::StorageFault
            | Condition::PcaLimit => Priority::Medium,
            Condition::NearEnd | Condition::CallbackUnstarted => Priority::Low,
        }
    }

    /// Does this alarm become high when nobody answers it? The medium
    /// alarms that need the nurse at the bedside: the infusion ended or is
    /// only keeping the vein open, a pause left too long, a PCA at its
    /// limit. Not the log's storage fault: the nurse cannot fix it, and a
    /// louder signal would not bring biomedical engineering sooner.
    pub fn escalates(self) -> bool {
        match self {
            Condition::InfusionComplete
            | Condition::KeepVeinOpen
            | Condition::CallbackPaused
            | Condition::PcaLimit => true,
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
            | Condition::SensorFault
            | Condition::SupervisorTrip
            | Condition::NearEnd
            | Condition::CallbackUnstarted
            | Condition::StorageFault => false,
        }
    }

    /// Does this condition stop flow? (By its own priority: an escalated
    /// alarm sounds high but stops nothing it did not stop before.)
    pub fn stops_flow(self) -> bool {
        self.priority() == Priority::High
    }

    /// A latching alarm stays until acknowledged, even if its condition goes
    /// away by itself: the nurse must learn that flow was interrupted.
    pub fn latching(self) -> bool {
        self.stops_flow()
    }

    /// What the nurse should do, in a few words (the UI shows the translated text).
    pub fn action(self) -> &'static str {
        match self {
            Condition::DownstreamOcclusion => {
                "Check the line below the pump for a closed clamp or a kink, then resume."
            }
            Condition::UpstreamOcclusion => {
                "Check the line above the pump and the container, then resume."
            }
            Condition::AirInLine => "Remove the air from the line, then resume.",
            Condition::AccumulatedAir => {
                "Check the line for small bubbles, prime them out, then resume."
            }
            Condition::DoorOpen => "Close the door, then resume.",
            Condition::SyringeNotLoaded => {
                "Load the syringe or set and close the door, then resume."
            }
            Condition::EndOfContainer => "Replace the syringe or bag, or end the infusion.",
            Condition::MotorStall => {
                "The mechanism is blocked: check the syringe or set is seated, then resume."
            }
            Condition::DriverFault => {
                "The motor driver reported a fault: take the pump out of use."
            }
            Condition::EncoderDisagreement => {
                "The motor did not move as commanded: take the pump out of use."
            }
            Condition::SensorFault => "A sensor failed: take the pump out of use.",
            Condition::SupervisorTrip => {
                "The safety supervisor stopped the pump: check the program, then resume."
            }
            Condition::InfusionComplete => "The infusion is complete.",
            Condition::NearEnd => "The infusion is nearly complete.",
            Condition::KeepVeinOpen => "The volume is infused; the vein is kept open.",
            Condition::CallbackPaused => "The infusion is still paused.",
            Condition::CallbackUnstarted => "A program is waiting to be started.",
            Condition::StorageFault => {
                "The event log cannot be written: the infusion continues, but call biomedical engineering."
            }
            Condition::PcaLimit => {
                "The PCA limit is reached: the pump keeps the vein open and gives no demand. Review the prescription, then resume."
            }
        }
    }
}

/// One condition's alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Slot {
    /// Shown (raised and not yet cleared).
    raised: bool,
    /// The condition is present now.
    present: bool,
    raised_at_ms: u64,
    acknowledged: bool,
    /// Unanswered past `AlarmTiming::escalate_after_ms`: shown and sounded high.
    escalated: bool,
}

/// A raised alarm as the UI lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveAlarm {
    pub condition: Condition,
    /// The condition's priority, or high once it has escalated.
    pub priority: Priority,
    pub escalated: bool,
    pub raised_at_ms: u64,
    pub present: bool,
    pub acknowledged: bool,
}

/// What changed in one update, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Raised(Condition),
    /// Unanswered for `AlarmTiming::escalate_after_ms`: now high.
    Escalated(Condition),
    Cleared(Condition),
}

/// All alarms of the pump.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alarms {
    slots: [Slot; Condition::ALL.len()],
    silenced_until_ms: Option<u64>,
    /// When the audible alarm started (restarts on each new raise or re-annunciation).
    sounding_since_ms: u64,
    /// Since when a program waits to be started (not in standby on purpose).
    waiting_since_ms: Option<u64>,
    timing: AlarmTiming,
}

impl Alarms {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_timing(timing: AlarmTiming) -> Self {
        Self {
            timing,
            ..Self::default()
        }
    }

    /// Since when a program has waited, loaded and not started, for the
    /// reminder (None when nothing waits, or when it waits on purpose).
    pub fn set_waiting(&mut self, since_ms: Option<u64>) {
        self.waiting_since_ms = since_ms;
    }

    fn slot(&self, condition: Condition) -> Slot {
        self.slots
            .get(condition.index())
            .copied()
            .unwrap_or_default()
    }

    fn slot_mut(&mut self, condition: Condition) -> Option<&mut Slot> {
        self.slots.get_mut(condition.index())
    }

    /// Reports whether `condition` is present at `now_ms`; raises or clears.
    pub fn update(
        &mut self,
        condition: Condition,
        present: bool,
        now_ms: u64,
    ) -> Option<AlarmChange> {
        let silenced = self.silenced_until_ms.is_some_and(|until| now_ms < until);
        let escalate_after_ms = self.timing.escalate_after_ms;
        let slot = self.slot_mut(condition)?;
        slot.present = present;
        if present && !slot.raised {
            *slot = Slot {
                raised: true,
                present: true,
                raised_at_ms: now_ms,
                acknowledged: false,
                escalated: false,
            };
            // A new alarm always sounds, even during a silence.
            self.silenced_until_ms = None;
            self.sounding_since_ms = now_ms;
            return Some(AlarmChange::Raised(condition));
        }
        // Unanswered for too long: high. An audio pause defers it to the
        // pause's end (the nurse asked for quiet), and then it sounds high.
        if present
            && slot.raised
            && !slot.acknowledged
            && !slot.escalated
            && condition.escalates()
            && !silenced
            && now_ms.saturating_sub(slot.raised_at_ms) >= escalate_after_ms
        {
            slot.escalated = true;
            self.silenced_until_ms = None;
            self.sounding_since_ms = now_ms;
            return Some(AlarmChange::Escalated(condition));
        }
        if !present && slot.raised && (!condition.latching() || slot.acknowledged) {
            *slot = Slot::default();
            return Some(AlarmChange::Cleared(condition));
        }
        None
    }

    /// The nurse acknowledges every raised alarm: those whose condition is gone
    /// clear; present ones stay shown, acknowledged.
    pub fn acknowledge(&mut self) -> usize {
        let mut cleared = 0;
        for slot in &mut self.slots {
            if slot.raised {
                // Answered: back to its own priority.
                slot.acknowledged = true;
                slot.escalated = false;
                if !slot.present {
                    *slot = Slot::default();
                    cleared += 1;
                }
            }
        }
        cleared
    }

    /// Silences the sound for two minutes (the lights keep flashing). Only
    /// when something is raised; returns whether it took effect.
    pub fn silence(&mut self, now_ms: u64) -> bool {
        if self.active().next().is_none() {
            return false;
        }
        self.silenced_until_ms = Some(now_ms.saturating_add(SILENCE_MS));
        true
    }

    /// Silence remaining, ms (for the UI countdown).
    pub fn silence_remaining_ms(&self, now_ms: u64) -> u64 {
        self.silenced_until_ms
            .map_or(0, |until| until.saturating_sub(now_ms))
    }

    /// Raised alarms, highest priority first, then oldest first.
    pub fn active(&self) -> impl Iterator<Item = ActiveAlarm> + '_ {
        let mut order: [Option<ActiveAlarm>; Condition::ALL.len()] = [None; Condition::ALL.len()];
        for (target, condition) in order.iter_mut().zip(Condition::ALL) {
            let slot = self.slot(condition);
            if slot.raised {
                *target = Some(ActiveAlarm {
                    condition,
                    priority: if slot.escalated {
                        Priority::High
                    } else {
                        condition.priority()
                    },
                    escalated: slot.escalated,
                    raised_at_ms: slot.raised_at_ms,
                    present: slot.present,
                    acknowledged: slot.acknowledged,
                });
            }
        }
        // In place and allocation-free; ties broken by condition for a stable order.
        order.sort_unstable_by(|a, b| match (a, b) {
            (Some(a), Some(b)) => b
                .priority
                .cmp(&a.priority)
                .then(a.condition.rank().cmp(&b.condition.rank()))
                .then(a.raised_at_ms.cmp(&b.raised_at_ms))
                .then(a.condition.index().cmp(&b.condition.index())),
            (Some(_), None) => core::cmp::Ordering::Less,
            (None, Some(_)) => core::cmp::Ordering::Greater,
            (None, None) => core::cmp::Ordering::Equal,
        });
        order.into_iter().flatten()
    }

    /// Is any flow-stopping alarm raised?
    pub fn stopping_flow(&self) -> bool {
        self.active().any(|alarm| alarm.condition.stops_flow())
    }

    /// What the buzzer and lights should do now: the top alarm, audible
    /// unless silenced; a silence that ran out re-annunciates.
    pub fn announcement(&mut self, now_ms: u64) -> Option<Announcement> {
        let top = self.active().next()?;
        if let Some(until) = self.silenced_until_ms {
            if now_ms >= until {
                self.silenced_until_ms = None;
                self.sounding_since_ms = now_ms;
            }
        }
        Some(Announcement {
            priority: top.priority,
            audible: self.silenced_until_ms.is_none(),
            since_ms: self.sounding_since_ms,
        })
    }

    /// Is a reminder's pulse due at `now_ms`? One every
    /// `AlarmTiming::reminder_every_ms`, quieter than any alarm: while an
    /// audio pause holds a present alarm quiet (counted from the pause),
    /// and while a program waits to be started with no alarm raised
    /// (counted from when it was loaded).
    pub fn reminder(&self, now_ms: u64) -> bool {
        let every = self.timing.reminder_every_ms.max(1);
        let due_since = |since: u64| {
            let elapsed = now_ms.saturating_sub(since);
            elapsed >= every && elapsed % every < REMINDER_WINDOW_MS
        };
        // The slots directly: which is shown first does not matter here.
        let raised = self.slots.iter().any(|slot| slot.raised);
        let present = self.slots.iter().any(|slot| slot.raised && slot.present);
        match self.silenced_until_ms.filter(|until| now_ms < *until) {
            Some(until) if present => due_since(until.saturating_sub(SILENCE_MS)),
            Some(_) | None => !raised && self.waiting_since_ms.is_some_and(due_since),
        }
    }
}

#[cfg(test)]
mod tests;
