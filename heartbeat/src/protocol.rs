//! The heartbeat protocol between the app's control thread and the
//! supervisor: one fixed-size, versioned binary message, little-endian, with
//! a CRC-32C over everything before it.
//!
//! ```text
//! offset size field
//!  0     4    magic "PFHB"
//!  4     2    version (3)
//!  6     1    kind: 1 hello (a new session), 2 heartbeat, 3 resume confirmed by the nurse
//!  7     1    mode: 0 stopped, 1 delivering, 2 relieving (backing off after an occlusion)
//!  8     8    session id (random per app start; fixed within a session)
//! 16     8    sequence number (1 for the hello, then +1 per message)
//! 24     8    sent at, microseconds of CLOCK_MONOTONIC
//! 32     8    commanded rate, nL/h
//! 40     8    microsteps commanded forward so far (u64)
//! 48     8    microsteps commanded in reverse so far (u64)
//! 56     1    alarm: priority (0 none, 1 low, 2 medium, 3 high) | audible << 4
//! 57     1    alarm volume the nurse set, 1 (quietest) to 4 (loudest)
//! 58     2    reserved, zero
//! 60     4    CRC-32C (Castagnoli) of bytes 0..60
//! ```
//!
//! Forward and reverse motion are counted apart (version 3) so that the
//! supervisor's runaway check can bound the motor's real motion in each
//! direction by what was commanded in that direction: a commanded back-off
//! is then told from a motor running backwards on its own.
//!
//! Decoding checks everything a message can get wrong on its own (length,
//! magic, version, kind, mode, alarm bits, volume, reserved bytes, CRC);
//! whether it
//! is in sequence, fresh and not a flood is the supervisor's judgement.

pub use perfuse_drivers::annunciator::AlarmVolume;

/// Length of every message.
pub const MESSAGE_LEN: usize = 64;
/// The CRC covers every byte before it.
const CRC_AT: usize = MESSAGE_LEN - 4;
pub const MAGIC: [u8; 4] = *b"PFHB";
/// Version 2 added the alarm volume; version 3 counts forward and reverse
/// microsteps apart and adds the relieving mode; version 4 adds the
/// reminder (alarm level 4).
pub const VERSION: u16 = 4;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Opens a session (after every app start or reconnection).
    Hello,
    Heartbeat,
    /// The nurse confirmed, on the pump's screen, resuming after a trip.
    ResumeConfirmed,
}

/// The pump state as the supervisor needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpMode {
    /// No flow: self-test, idle, ready, paused, alarm, completed, fault.
    Stopped,
    /// Flow commanded (delivering or keeping the vein open).
    Delivering,
    /// No flow; the mechanism backs off (reverse only) to relieve the line
    /// after a downstream occlusion. The motor stays enabled for it.
    Relieving,
}

impl PumpMode {
    /// Does this mode need the motor driver enabled?
    pub fn moves_motor(self) -> bool {
        match self {
            PumpMode::Stopped => false,
            PumpMode::Delivering | PumpMode::Relieving => true,
        }
    }
}

/// Alarm priority the supervisor sounds on the buzzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlarmLevel {
    None,
    /// Not an alarm: a reminder's single quiet pulse (an audio pause with
    /// the alarm still present, a program waiting to be started). The app
    /// asks for it for `REMINDER_WINDOW_MS`; the supervisor plays one
    /// `annunciator::REMINDER_BURST` pulse, two volume levels below the set
    /// one.
    Reminder,
    Low,
    Medium,
    High,
}

/// One decoded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub mode: PumpMode,
    pub session: u64,
    pub sequence: u64,
    pub sent_at_us: u64,
    pub rate_nl_per_h: u64,
    /// Microsteps commanded forward since the app started (never decreases).
    pub forward_steps: u64,
    /// Microsteps commanded in reverse since the app started (never decreases).
    pub reverse_steps: u64,
    pub alarm: AlarmLevel,
    pub audible: bool,
    /// What the nurse set; the supervisor applies its floors (`sounding_volume`).
    pub volume: AlarmVolume,
}

/// Why bytes are not a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("a heartbeat is {MESSAGE_LEN} bytes, not {0}")]
    Length(usize),
    #[error("not a Perfuse heartbeat (magic)")]
    Magic,
    #[error("heartbeat version {0} is not the version {VERSION} this supervisor speaks")]
    Version(u16),
    #[error("unknown message kind {0}")]
    Kind(u8),
    #[error("unknown pump mode {0}")]
    Mode(u8),
    #[error("invalid alarm byte {0:#04x}")]
    Alarm(u8),
    #[error("invalid alarm volume {0}: the levels are 1 to 4")]
    Volume(u8),
    #[error("reserved bytes are not zero")]
    Reserved,
    #[error("CRC mismatch: the message was corrupted")]
    Crc,
}

fn kind_byte(kind: Kind) -> u8 {
    match kind {
        Kind::Hello => 1,
        Kind::Heartbeat => 2,
        Kind::ResumeConfirmed => 3,
    }
}

fn mode_byte(mode: PumpMode) -> u8 {
    match mode {
        PumpMode::Stopped => 0,
        PumpMode::Delivering => 1,
        PumpMode::Relieving => 2,
    }
}

fn alarm_byte(alarm: AlarmLevel, audible: bool) -> u8 {
    let level = match alarm {
        AlarmLevel::None => 0,
        AlarmLevel::Low => 1,
        AlarmLevel::Medium => 2,
        AlarmLevel::High => 3,
        AlarmLevel::Reminder => 4,
    };
    level | (u8::from(audible) << 4)
}

impl Message {
    /// The 64 bytes on the wire.
    pub fn encode(&self) -> [u8; MESSAGE_LEN] {
        let mut bytes = [0_u8; MESSAGE_LEN];
        let mut put = |offset: usize, field: &[u8]| {
            if let Some(slot) = bytes.get_mut(offset..offset + field.len()) {
                slot.copy_from_slice(field);
            }
        };
        put(0, &MAGIC);
        put(4, &VERSION.to_le_bytes());
        put(6, &[kind_byte(self.kind), mode_byte(self.mode)]);
        put(8, &self.session.to_le_bytes());
        put(16, &self.sequence.to_le_bytes());
        put(24, &self.sent_at_us.to_le_bytes());
        put(32, &self.rate_nl_per_h.to_le_bytes());
        put(40, &self.forward_steps.to_le_bytes());
        put(48, &self.reverse_steps.to_le_bytes());
        put(
            56,
            &[
                alarm_byte(self.alarm, self.audible),
                self.volume.level(),
                0,
                0,
            ],
        );
        let crc = CRC.checksum(bytes.get(..CRC_AT).unwrap_or_default());
        if let Some(slot) = bytes.get_mut(CRC_AT..MESSAGE_LEN) {
            slot.copy_from_slice(&crc.to_le_bytes());
        }
        bytes
    }

    /// Decodes and checks a received message.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let bytes: &[u8; MESSAGE_LEN] = bytes
            .try_into()
            .map_err(|_| DecodeError::Length(bytes.len()))?;
        let [m0, m1, m2, m3, v0, v1, kind, mode, ..] = *bytes;
        if [m0, m1, m2, m3] != MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = u16::from_le_bytes([v0, v1]);
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let (body, crc_bytes) = bytes.split_at(CRC_AT);
        let crc = u32::from_le_bytes(
            crc_bytes
                .try_into()
                .map_err(|_| DecodeError::Length(bytes.len()))?,
        );
        if CRC.checksum(body) != crc {
            return Err(DecodeError::Crc);
        }
        let kind = match kind {
            1 => Kind::Hello,
            2 => Kind::Heartbeat,
            3 => Kind::ResumeConfirmed,
            other => return Err(DecodeError::Kind(other)),
        };
        let mode = match mode {
            0 => PumpMode::Stopped,
            1 => PumpMode::Delivering,
            2 => PumpMode::Relieving,
            other => return Err(DecodeError::Mode(other)),
        };
        let word = |start: usize| -> [u8; 8] {
            bytes
                .get(start..start + 8)
                .and_then(|slice| <[u8; 8]>::try_from(slice).ok())
                .unwrap_or_default()
        };
        let [alarm, volume, r1, r2] = bytes
            .get(56..CRC_AT)
            .and_then(|slice| <[u8; 4]>::try_from(slice).ok())
            .unwrap_or([0xFF; 4]);
        if [r1, r2] != [0, 0] {
            return Err(DecodeError::Reserved);
        }
        let volume = AlarmVolume::new(volume).ok_or(DecodeError::Volume(volume))?;
        let level = match alarm & 0x0F {
            0 => AlarmLevel::None,
            1 => AlarmLevel::Low,
            2 => AlarmLevel::Medium,
            3 => AlarmLevel::High,
            4 => AlarmLevel::Reminder,
            _ => return Err(DecodeError::Alarm(alarm)),
        };
        if alarm & 0xE0 != 0 {
            return Err(DecodeError::Alarm(alarm));
        }
        Ok(Message {
            kind,
            mode,
            session: u64::from_le_bytes(word(8)),
            sequence: u64::from_le_bytes(word(16)),
            sent_at_us: u64::from_le_bytes(word(24)),
            rate_nl_per_h: u64::from_le_bytes(word(32)),
            forward_steps: u64::from_le_bytes(word(40)),
            reverse_steps: u64::from_le_bytes(word(48)),
            alarm: level,
            audible: alarm & 0x10 != 0,
            volume,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message {
            kind: Kind::Heartbeat,
            mode: PumpMode::Delivering,
            session: 0x1122_3344_5566_7788,
            sequence: 42,
            sent_at_us: 123_456_789,
            rate_nl_per_h: 25_000_000,
            forward_steps: 1_000,
            reverse_steps: 5,
            alarm: AlarmLevel::High,
            audible: true,
            volume: AlarmVolume::new(2).unwrap_or_default(),
        }
    }

    #[test]
    fn round_trips() {
        let message = sample();
        assert_eq!(Message::decode(&message.encode()), Ok(message));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let bytes = sample().encode();
        for byte in 0..MESSAGE_LEN {
            for bit in 0..8 {
                let mut flipped = bytes;
                if let Some(target) = flipped.get_mut(byte) {
                    *target ^= 1 << bit;
                }
                assert!(
                    Message::decode(&flipped).is_err(),
                    "flip of byte {byte} bit {bit} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn alarm_levels_beyond_the_reminder_are_refused_by_name() {
        for level in [5_u8, 15] {
            let mut bytes = sample().encode();
            if let Some(alarm) = bytes.get_mut(56) {
                *alarm = level | 0x10;
            }
            let crc = CRC.checksum(bytes.get(..CRC_AT).unwrap_or_default());
            if let Some(slot) = bytes.get_mut(CRC_AT..MESSAGE_LEN) {
                slot.copy_from_slice(&crc.to_le_bytes());
            }
            assert_eq!(
                Message::decode(&bytes),
                Err(DecodeError::Alarm(level | 0x10))
            );
        }
        let reminder = Message {
            alarm: AlarmLevel::Reminder,
            ..sample()
        };
        assert_eq!(Message::decode(&reminder.encode()), Ok(reminder));
    }

    #[test]
    fn volumes_outside_one_to_four_are_refused_by_name() {
        for level in [0_u8, 5, 255] {
            let mut bytes = sample().encode();
            if let Some(volume) = bytes.get_mut(57) {
                *volume = level;
            }
            // Re-seal, so the CRC is right and the volume is what is wrong.
            let crc = CRC.checksum(bytes.get(..CRC_AT).unwrap_or_default());
            if let Some(slot) = bytes.get_mut(CRC_AT..MESSAGE_LEN) {
                slot.copy_from_slice(&crc.to_le_bytes());
            }
            assert_eq!(Message::decode(&bytes), Err(DecodeError::Volume(level)));
        }
    }

    #[test]
    fn wrong_lengths_and_versions_are_named() {
        assert_eq!(Message::decode(&[0; 10]), Err(DecodeError::Length(10)));
        let mut bytes = sample().encode();
        if let Some(version) = bytes.get_mut(4) {
            *version = 1;
        }
        assert_eq!(Message::decode(&bytes), Err(DecodeError::Version(1)));
    }
}
