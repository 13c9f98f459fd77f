//! The supervisor's judgement of the app, as a pure state machine.
//!
//! Only a live session whose heartbeats are fresh, in sequence and report a
//! delivering pump may have the motor enabled. A missed deadline, the app's
//! end closing, or the motor running ahead of what the app commanded trips
//! the watch: the motor is disabled and stays disabled until the app opens a
//! new session (hello) and the nurse confirms a resume on the pump's screen.
//! It never re-enables on its own. Messages that are malformed, out of
//! order, replayed, stale or part of a flood count as missed (they refresh
//! nothing) and are reported for the log.

use perfuse_heartbeat::protocol::{DecodeError, Kind, Message};

/// The supervision policy (documented defaults in `Policy::DEFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Longest time without a good heartbeat before tripping, us.
    pub deadline_us: u64,
    /// A message sent longer ago than this is stale (it sat in a queue), us.
    pub stale_after_us: u64,
    /// Most messages accepted per `flood_window_us`; the rest are a flood.
    pub flood_limit: u32,
    pub flood_window_us: u64,
    /// A supervisor wake-up later than this means the supervisor itself
    /// stood still (the machine, not the app, stopped), us.
    pub stall_us: u64,
    /// After the supervisor stood still, the app has this long to be heard
    /// before its silence trips: it could not run either, and its first
    /// heartbeat after the stall needs a moment to arrive, us.
    pub stall_grace_us: u64,
    /// A silence longer than this trips whatever the supervisor's own
    /// stalls: the grace is bounded, us.
    pub excused_silence_us: u64,
}

impl Policy {
    /// Heartbeats every 10 ms; a 50 ms deadline is five missed in a row plus
    /// scheduling slack; a message older than the deadline is stale; more than
    /// 8 in 10 ms (a heartbeat and a resume is 2) is a flood. A supervisor
    /// that woke 10 ms late stood still itself, and gives the app 20 ms
    /// after it to be heard, never beyond 100 ms of silence in all.
    pub const DEFAULT: Policy = Policy {
        deadline_us: 50_000,
        stale_after_us: 50_000,
        flood_limit: 8,
        flood_window_us: 10_000,
        stall_us: 10_000,
        stall_grace_us: 20_000,
        excused_silence_us: 100_000,
    };
}

/// Why the watch tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TripReason {
    /// No good heartbeat within the deadline.
    MissedHeartbeat { silent_us: u64 },
    /// The app's end of the connection closed (it crashed or exited).
    AppGone,
    /// The motor moved further than the app commanded.
    Runaway {
        commanded_steps: i64,
        measured_steps: i64,
    },
    /// The encoder saw (almost) no motion while the app commanded plenty:
    /// the independent motion check is blind (a frozen or silent encoder),
    /// so the motor may not run unwatched.
    EncoderBlind {
        commanded_steps: i64,
        measured_steps: i64,
    },
    /// A heartbeat reported flow without a confirmed session start.
    Unconfirmed,
}

/// A message that counted as missed, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Malformed(DecodeError),
    /// A session this watch does not know.
    WrongSession {
        session: u64,
    },
    OutOfOrder {
        expected_above: u64,
        got: u64,
    },
    Replayed {
        sequence: u64,
    },
    Stale {
        age_us: u64,
    },
    Flood,
}

/// The supervisor's watch over the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// No session yet (after start-up): motor disabled.
    Waiting,
    /// A session whose heartbeats are fresh.
    Healthy {
        session: u64,
        last_sequence: u64,
        last_beat_us: u64,
        delivering: bool,
        confirmed: bool,
    },
    /// Tripped: motor disabled, alarm sounding, until a new session is
    /// confirmed by the nurse.
    Tripped {
        at_us: u64,
        reason: TripReason,
        new_session: Option<(u64, u64)>,
    },
}

/// What happened, for the log and the alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEvent {
    SessionOpened { session: u64 },
    Tripped(TripReason),
    Resumed { session: u64 },
    Rejected(Rejected),
}

/// Flood accounting: messages in the current window. A window over the
/// limit makes the next one refuse everything too, so a sustained flood
/// refreshes nothing and runs into the deadline; the flood ends with the
/// first window within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FloodCounter {
    window_start_us: u64,
    count: u32,
    flooding: bool,
}

impl FloodCounter {
    fn admit(&mut self, now_us: u64, policy: &Policy) -> bool {
        if now_us.saturating_sub(self.window_start_us) >= policy.flood_window_us {
            self.flooding = self.count > policy.flood_limit;
            self.window_start_us = now_us;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        !self.flooding && self.count <= policy.flood_limit
    }
}

/// Is a silence since `last_beat_us` excused by the supervisor's own stall?
fn excused(
    now_us: u64,
    last_beat_us: u64,
    policy: &Policy,
    stood_still_at_us: Option<u64>,
) -> bool {
    match stood_still_at_us {
        // A stall during this silence, recent, and the silence bounded.
        Some(woke_us) => {
            woke_us > last_beat_us
                && now_us.saturating_sub(woke_us) <= policy.stall_grace_us
                && now_us.saturating_sub(last_beat_us) <= policy.excused_silence_us
        }
        None => false,
    }
}

impl Watch {
    /// May the motor driver be enabled now?
    pub fn motor_allowed(&self) -> bool {
        match self {
            Watch::Healthy {
                delivering,
                confirmed,
                ..
            } => *delivering && *confirmed,
            Watch::Waiting | Watch::Tripped { .. } => false,
        }
    }

    pub fn tripped(&self) -> bool {
        matches!(self, Watch::Tripped { .. })
    }

    /// Takes one received message at `now_us` (monotonic, same clock as the app's).
    pub fn receive(
        self,
        bytes: &[u8],
        now_us: u64,
        policy: &Policy,
        flood: &mut FloodCounter,
    ) -> (Watch, Option<WatchEvent>) {
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(error) => return (self, Some(WatchEvent::Rejected(Rejected::Malformed(error)))),
        };
        if !flood.admit(now_us, policy) {
            return (self, Some(WatchEvent::Rejected(Rejected::Flood)));
        }
        let age = now_us.saturating_sub(message.sent_at_us);
        if age > policy.stale_after_us {
            return (
                self,
                Some(WatchEvent::Rejected(Rejected::Stale { age_us: age })),
            );
        }
        match (self, message.kind) {
            // A hello opens a session (after start-up, or after a trip, where
            // it still needs the nurse's confirmation).
            (Watch::Waiting, Kind::Hello) => (
                Watch::Healthy {
                    session: message.session,
                    last_sequence: message.sequence,
                    last_beat_us: now_us,
                    delivering: false,
                    confirmed: false,
                },
                Some(WatchEvent::SessionOpened {
                    session: message.session,
                }),
            ),
            (Watch::Tripped { at_us, reason, .. }, Kind::Hello) => (
                Watch::Tripped {
                    at_us,
                    reason,
                    new_session: Some((message.session, message.sequence)),
                },
                Some(WatchEvent::SessionOpened {
                    session: message.session,
                }),
            ),
            (
                Watch::Tripped {
                    at_us,
                    reason,
                    new_session: Some((session, last)),
                },
                Kind::ResumeConfirmed | Kind::Heartbeat,
            ) if message.session == session => {
                if message.sequence <= last {
                    return (
                        Watch::Tripped {
                            at_us,
                            reason,
                            new_session: Some((session, last)),
                        },
                        Some(WatchEvent::Rejected(Rejected::Replayed {
                            sequence: message.sequence,
                        })),
                    );
                }
                if message.kind == Kind::ResumeConfirmed {
                    (
                        Watch::Healthy {
                            session,
                            last_sequence: message.sequence,
                            last_beat_us: now_us,
                            delivering: message.mode.moves_motor(),
                            confirmed: true,
                        },
                        Some(WatchEvent::Resumed { session }),
                    )
                } else {
                    (
                        Watch::Tripped {
                            at_us,
                            reason,
                            new_session: Some((session, message.sequence)),
                        },
                        None,
                    )
                }
            }
            (tripped @ Watch::Tripped { .. }, Kind::Heartbeat | Kind::ResumeConfirmed) => (
                tripped,
                Some(WatchEvent::Rejected(Rejected::WrongSession {
                    session: message.session,
                })),
            ),
            (Watch::Waiting, Kind::Heartbeat | Kind::ResumeConfirmed) => (
                Watch::Waiting,
                Some(WatchEvent::Rejected(Rejected::WrongSession {
                    session: message.session,
                })),
            ),
            (
                Watch::Healthy {
                    session,
                    last_sequence,
                    last_beat_us,
                    delivering,
                    confirmed,
                },
                kind,
            ) => {
                let healthy = Watch::Healthy {
                    session,
                    last_sequence,
                    last_beat_us,
                    delivering,
                    confirmed,
                };
                if kind == Kind::Hello {
                    // The app opens a fresh session at every start or resume
                    // the nurse confirms: the motor stops until it confirms.
                    return (
                        Watch::Healthy {
                            session: message.session,
                            last_sequence: message.sequence,
                            last_beat_us: now_us,
                            delivering: false,
                            confirmed: false,
                        },
                        Some(WatchEvent::SessionOpened {
                            session: message.session,
                        }),
                    );
                }
                if message.session != session {
                    return (
                        healthy,
                        Some(WatchEvent::Rejected(Rejected::WrongSession {
                            session: message.session,
                        })),
                    );
                }
                if message.sequence == last_sequence {
                    return (
                        healthy,
                        Some(WatchEvent::Rejected(Rejected::Replayed {
                            sequence: message.sequence,
                        })),
                    );
                }
                if message.sequence < last_sequence {
                    return (
                        healthy,
                        Some(WatchEvent::Rejected(Rejected::OutOfOrder {
                            expected_above: last_sequence,
                            got: message.sequence,
                        })),
                    );
                }
                let confirmed = confirmed || kind == Kind::ResumeConfirmed;
                let delivering = message.mode.moves_motor();
                let next = Watch::Healthy {
                    session,
                    last_sequence: message.sequence,
                    last_beat_us: now_us,
                    delivering,
                    confirmed,
                };
                if delivering && !confirmed {
                    // Flow reported without the nurse's start on this session.
                    let reason = TripReason::Unconfirmed;
                    return (
                        Watch::Tripped {
                            at_us: now_us,
                            reason,
                            new_session: None,
                        },
                        Some(WatchEvent::Tripped(reason)),
                    );
                }
                (next, None)
            }
        }
    }

    /// Checks the deadline at `now_us`. `stood_still_at_us` is when the
    /// supervisor last woke after standing still itself (`Policy::stall_us`
    /// late): a silence the supervisor was not running to see is not yet
    /// the app's fault, so for `Policy::stall_grace_us` after that wake-up,
    /// up to `Policy::excused_silence_us` of silence, it waits for the
    /// app's first heartbeat instead of tripping.
    pub fn tick(
        self,
        now_us: u64,
        policy: &Policy,
        stood_still_at_us: Option<u64>,
    ) -> (Watch, Option<WatchEvent>) {
        match self {
            Watch::Healthy { last_beat_us, .. }
                if now_us.saturating_sub(last_beat_us) > policy.deadline_us
                    && !excused(now_us, last_beat_us, policy, stood_still_at_us) =>
            {
                let reason = TripReason::MissedHeartbeat {
                    silent_us: now_us.saturating_sub(last_beat_us),
                };
                (
                    Watch::Tripped {
                        at_us: now_us,
                        reason,
                        new_session: None,
                    },
                    Some(WatchEvent::Tripped(reason)),
                )
            }
            other => (other, None),
        }
    }

    /// The app's end closed.
    pub fn peer_closed(self, now_us: u64) -> (Watch, Option<WatchEvent>) {
        match self {
            Watch::Healthy { .. } => {
                let reason = TripReason::AppGone;
                (
                    Watch::Tripped {
                        at_us: now_us,
                        reason,
                        new_session: None,
                    },
                    Some(WatchEvent::Tripped(reason)),
                )
            }
            // A session opened after a trip is gone too.
            Watch::Tripped { at_us, reason, .. } => (
                Watch::Tripped {
                    at_us,
                    reason,
                    new_session: None,
                },
                None,
            ),
            Watch::Waiting => (Watch::Waiting, None),
        }
    }

    /// The motion check found the motor beyond its commands, or found
    /// itself blind.
    pub fn motion_fault(self, now_us: u64, finding: MotionFinding) -> (Watch, Option<WatchEvent>) {
        match self {
            Watch::Tripped { .. } => (self, None),
            Watch::Waiting | Watch::Healthy { .. } => {
                let reason = match finding {
                    MotionFinding::Runaway {
                        commanded,
                        measured,
                    } => TripReason::Runaway {
                        commanded_steps: commanded,
                        measured_steps: measured,
                    },
                    MotionFinding::Blind {
                        commanded,
                        measured,
                    } => TripReason::EncoderBlind {
                        commanded_steps: commanded,
                        measured_steps: measured,
                    },
                };
                (
                    Watch::Tripped {
                        at_us: now_us,
                        reason,
                        new_session: None,
                    },
                    Some(WatchEvent::Tripped(reason)),
                )
            }
        }
    }
}

/// Samples kept by the runaway check: one per 100 ms over 5 s.
pub const RUNAWAY_SAMPLES: usize = 50;

/// Microsteps the motor may run beyond its commands over the window: the
/// encoder's resolution (4 microsteps a count) with room to spare.
const RUNAWAY_SLACK_MICROSTEPS: i64 = 64;
/// Plus this part of the commanded motion (2 %).
const RUNAWAY_SLACK_DIVISOR: i64 = 50;

/// Motion commanded so far, as the heartbeat reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Commanded {
    pub forward: u64,
    pub reverse: u64,
}

/// What the motion check found over its window: net microsteps commanded
/// (forward minus reverse) and net microsteps the encoder measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotionFinding {
    /// The motor ran beyond its commands, in either direction.
    Runaway { commanded: i64, measured: i64 },
    /// Plenty of motion commanded, next to none measured.
    Blind { commanded: i64, measured: i64 },
}

/// Motion commanded over a full window (5 s), either way, from which an
/// encoder whose path (its moves either way) shows less than a quarter of it
/// counts as blind: about 1.4 mL/h on the
/// S50 (at lower rates the check cannot tell a dead encoder from a slow one).
const BLIND_MIN_MICROSTEPS: i64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Sample {
    forward: i64,
    reverse: i64,
    measured: i64,
    /// The encoder's path so far: the sum of its moves either way, sample
    /// by sample (a back-off after forward motion adds to it, where the
    /// net position would cancel).
    path: i64,
}

/// The independent runaway check: the encoder's motion against the motion
/// the heartbeats commanded, over the last 5 s. It catches a control thread
/// that is alive but commanding the wrong thing (or a driver stepping on its
/// own), in either direction.
///
/// The heartbeat counts forward and reverse microsteps apart, so each
/// direction is bounded by its own commands: over the window the motor may
/// have moved forward at most what was commanded forward, and backwards at
/// most what was commanded in reverse, each within the tolerance. A
/// commanded back-off is reverse motion that was commanded; a motor turning
/// backwards, or forwards, on its own is not. (When one window holds both a
/// forward and a reverse command, a runaway smaller than the reverse command
/// is caught once the reverse command has left the window, at most 5 s on.)
///
/// Tolerance: `RUNAWAY_SLACK_MICROSTEPS`, plus 2 % of the motion commanded
/// in the window, plus the motion commanded over the 20 ms a heartbeat's count
/// may lag the encoder (found at the start of a 999 mL/h infusion, where the
/// window is too young for its 2 % to cover the lag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunawayCheck {
    /// Oldest first once full.
    samples: [Sample; RUNAWAY_SAMPLES],
    next: usize,
    filled: usize,
    /// Encoder counts and microsteps per mechanism turn.
    counts_per_turn: i64,
    microsteps_per_turn: i64,
}

impl RunawayCheck {
    pub fn new(counts_per_turn: u32, microsteps_per_turn: u64) -> Self {
        Self {
            samples: [Sample::default(); RUNAWAY_SAMPLES],
            next: 0,
            filled: 0,
            counts_per_turn: i64::from(counts_per_turn.max(1)),
            microsteps_per_turn: i64::try_from(microsteps_per_turn)
                .unwrap_or(i64::MAX)
                .max(1),
        }
    }

    /// Starts afresh (a new session).
    pub fn reset(&mut self) {
        self.next = 0;
        self.filled = 0;
    }

    /// Takes a sample (every 100 ms): the motion the last heartbeat
    /// reported, and the encoder count now. Returns the window's motion when
    /// the motor ran beyond its commands in either direction, or when a full
    /// window of commanded motion left the encoder (nearly) still.
    pub fn sample(&mut self, commanded: Commanded, encoder_counts: i64) -> Option<MotionFinding> {
        let measured =
            encoder_counts.saturating_mul(self.microsteps_per_turn) / self.counts_per_turn;
        let previous = match (self.filled, self.next) {
            (0, _) => None,
            (_, 0) => self.samples.last().copied(),
            (_, next) => self.samples.get(next - 1).copied(),
        };
        let now = Sample {
            forward: i64::try_from(commanded.forward).unwrap_or(i64::MAX),
            reverse: i64::try_from(commanded.reverse).unwrap_or(i64::MAX),
            measured,
            path: previous.map_or(0, |previous| {
                previous
                    .path
                    .saturating_add(measured.saturating_sub(previous.measured).saturating_abs())
            }),
        };
        let oldest = if self.filled == RUNAWAY_SAMPLES {
            self.samples.get(self.next).copied()
        } else {
            self.samples.first().copied()
        };
        if let Some(slot) = self.samples.get_mut(self.next) {
            *slot = now;
        }
        self.next = (self.next + 1) % RUNAWAY_SAMPLES;
        self.filled = (self.filled + 1).min(RUNAWAY_SAMPLES);
        let oldest = oldest?;
        if self.filled < 2 {
            return None;
        }
        let forward = now.forward.saturating_sub(oldest.forward).max(0);
        let reverse = now.reverse.saturating_sub(oldest.reverse).max(0);
        let moved = now.measured.saturating_sub(oldest.measured);
        // The heartbeat's count is up to a heartbeat period (10 ms) and its
        // transit older than the encoder reading: allow what the motor was
        // commanded over 20 ms at the latest sample's pace (a fifth of the
        // last 100 ms), which a window just started has no 2 % to cover.
        let lag = previous.map_or(0, |previous| {
            now.forward
                .saturating_sub(previous.forward)
                .saturating_add(now.reverse.saturating_sub(previous.reverse))
                .max(0)
                / 5
        });
        let tolerance = RUNAWAY_SLACK_MICROSTEPS
            + forward.saturating_add(reverse) / RUNAWAY_SLACK_DIVISOR
            + lag;
        let ahead = moved.saturating_sub(forward) > tolerance;
        let behind = moved.saturating_neg().saturating_sub(reverse) > tolerance;
        let net = forward.saturating_sub(reverse);
        if ahead || behind {
            return Some(MotionFinding::Runaway {
                commanded: net,
                measured: moved,
            });
        }
        let total = forward.saturating_add(reverse);
        let path = now.path.saturating_sub(oldest.path);
        let blind = self.filled == RUNAWAY_SAMPLES
            && total >= BLIND_MIN_MICROSTEPS
            && path.saturating_mul(4) < total;
        blind.then_some(MotionFinding::Blind {
            commanded: net,
            measured: moved,
        })
    }
}
