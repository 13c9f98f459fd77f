//! The supervisor's watch: when the motor may run, what trips it, and that
//! nothing but a new session confirmed by the nurse un-trips it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_heartbeat::protocol::{AlarmLevel, AlarmVolume, Kind, Message, PumpMode, MESSAGE_LEN};
use perfuse_supervisor::watch::{
    Commanded, FloodCounter, MotionFinding, Policy, Rejected, RunawayCheck, TripReason, Watch,
    WatchEvent,
};
use proptest::prelude::*;

use perfuse_testkit::cases;

const POLICY: Policy = Policy::DEFAULT;

fn message(
    kind: Kind,
    session: u64,
    sequence: u64,
    sent_at_us: u64,
    delivering: bool,
) -> [u8; MESSAGE_LEN] {
    Message {
        kind,
        mode: if delivering {
            PumpMode::Delivering
        } else {
            PumpMode::Stopped
        },
        session,
        sequence,
        sent_at_us,
        rate_nl_per_h: 25_000_000,
        forward_steps: 0,
        reverse_steps: 0,
        alarm: AlarmLevel::None,
        audible: false,
        volume: AlarmVolume::LOUDEST,
    }
    .encode()
}

struct Harness {
    watch: Watch,
    flood: FloodCounter,
    events: Vec<WatchEvent>,
}

impl Harness {
    fn new() -> Self {
        Self {
            watch: Watch::Waiting,
            flood: FloodCounter::default(),
            events: Vec::new(),
        }
    }

    fn receive(&mut self, bytes: &[u8], now_us: u64) {
        let (watch, event) = self.watch.receive(bytes, now_us, &POLICY, &mut self.flood);
        self.watch = watch;
        self.events.extend(event);
    }

    fn tick(&mut self, now_us: u64) {
        let (watch, event) = self.watch.tick(now_us, &POLICY, None);
        self.watch = watch;
        self.events.extend(event);
    }

    /// A tick of a supervisor that last woke from standing still itself at
    /// `stood_still_at_us`.
    fn tick_after_stall(&mut self, now_us: u64, stood_still_at_us: u64) {
        let (watch, event) = self.watch.tick(now_us, &POLICY, Some(stood_still_at_us));
        self.watch = watch;
        self.events.extend(event);
    }
}

/// A session started and confirmed by the nurse, delivering, at t = 1 ms.
fn delivering(session: u64) -> Harness {
    let mut harness = Harness::new();
    harness.receive(&message(Kind::Hello, session, 1, 1000, false), 1000);
    harness.receive(
        &message(Kind::ResumeConfirmed, session, 2, 1000, true),
        1000,
    );
    harness.receive(&message(Kind::Heartbeat, session, 3, 1000, true), 1000);
    assert!(harness.watch.motor_allowed());
    harness
}

#[test]
fn the_motor_runs_only_in_a_confirmed_fresh_delivering_session() {
    let mut harness = Harness::new();
    assert!(!harness.watch.motor_allowed());
    harness.receive(&message(Kind::Hello, 7, 1, 0, false), 0);
    assert!(
        !harness.watch.motor_allowed(),
        "a session alone enables nothing"
    );
    harness.receive(&message(Kind::Heartbeat, 7, 2, 0, false), 0);
    assert!(
        !harness.watch.motor_allowed(),
        "a stopped pump needs no motor"
    );
    harness.receive(&message(Kind::ResumeConfirmed, 7, 3, 0, true), 0);
    assert!(harness.watch.motor_allowed());
    harness.receive(&message(Kind::Heartbeat, 7, 4, 10_000, false), 10_000);
    assert!(
        !harness.watch.motor_allowed(),
        "paused: the enable drops with the next heartbeat"
    );
}

#[test]
fn flow_reported_without_the_nurses_start_trips() {
    let mut harness = Harness::new();
    harness.receive(&message(Kind::Hello, 7, 1, 0, false), 0);
    harness.receive(&message(Kind::Heartbeat, 7, 2, 0, true), 0);
    assert_eq!(
        harness.events.last(),
        Some(&WatchEvent::Tripped(TripReason::Unconfirmed))
    );
    assert!(!harness.watch.motor_allowed());
}

#[test]
fn a_missed_deadline_trips_and_nothing_but_a_confirmed_new_session_recovers() {
    let mut harness = delivering(7);
    harness.tick(51_000);
    assert!(
        harness.watch.motor_allowed(),
        "50 ms of silence is within the deadline"
    );
    harness.tick(51_001);
    assert!(matches!(
        harness.events.last(),
        Some(WatchEvent::Tripped(TripReason::MissedHeartbeat { .. }))
    ));
    // The old session coming back does not re-enable.
    harness.receive(&message(Kind::Heartbeat, 7, 4, 60_000, true), 60_000);
    harness.receive(&message(Kind::ResumeConfirmed, 7, 5, 60_000, true), 60_000);
    assert!(!harness.watch.motor_allowed());
    // A new session: still off until the nurse confirms.
    harness.receive(&message(Kind::Hello, 8, 1, 70_000, false), 70_000);
    harness.receive(&message(Kind::Heartbeat, 8, 2, 70_000, false), 70_000);
    assert!(!harness.watch.motor_allowed());
    harness.receive(&message(Kind::ResumeConfirmed, 8, 3, 70_000, true), 70_000);
    assert!(harness.watch.motor_allowed());
    assert_eq!(
        harness.events.last(),
        Some(&WatchEvent::Resumed { session: 8 })
    );
}

#[test]
fn a_supervisor_that_stood_still_itself_waits_for_the_apps_first_heartbeat() {
    // The machine stood still 53 ms (the field of a virtual machine's
    // host, or an interrupt storm): the last beat was at 1 ms, the
    // supervisor woke at 54 ms and the app, which stood still too, is heard
    // 2 ms later.
    let mut harness = delivering(7);
    harness.tick_after_stall(54_000, 54_000);
    assert!(
        harness.watch.motor_allowed(),
        "a silence the supervisor did not see tripped"
    );
    harness.tick_after_stall(56_000, 54_000);
    harness.receive(&message(Kind::Heartbeat, 7, 4, 55_500, true), 56_000);
    harness.tick_after_stall(58_000, 54_000);
    assert!(harness.watch.motor_allowed());
    // The grace does not carry over: the next silence is judged afresh.
    harness.tick_after_stall(106_000, 54_000);
    assert!(
        harness.watch.motor_allowed(),
        "50 ms is within the deadline"
    );
    harness.tick_after_stall(106_001, 54_000);
    assert!(harness.watch.tripped());
    assert_eq!(
        harness.events.last(),
        Some(&WatchEvent::Tripped(TripReason::MissedHeartbeat {
            silent_us: 50_001
        }))
    );
}

#[test]
fn an_app_that_stays_silent_after_the_supervisors_stall_trips_when_the_grace_ends() {
    let mut harness = delivering(7);
    harness.tick_after_stall(54_000, 54_000);
    harness.tick_after_stall(74_000, 54_000);
    assert!(
        harness.watch.motor_allowed(),
        "20 ms of grace after the stall"
    );
    harness.tick_after_stall(74_002, 54_000);
    assert_eq!(
        harness.events.last(),
        Some(&WatchEvent::Tripped(TripReason::MissedHeartbeat {
            silent_us: 73_002
        }))
    );
}

#[test]
fn the_grace_after_a_stall_is_bounded() {
    // A stall of 100 ms or more excuses nothing: the silence trips at once.
    let mut harness = delivering(7);
    harness.tick_after_stall(101_002, 101_002);
    assert!(harness.watch.tripped());
    // A supervisor starved again and again gets no grace beyond 100 ms of
    // silence, however recent its last stall.
    let mut harness = delivering(7);
    harness.tick_after_stall(60_000, 60_000);
    harness.tick_after_stall(80_000, 80_000);
    harness.tick_after_stall(100_000, 100_000);
    assert!(harness.watch.motor_allowed());
    harness.tick_after_stall(101_002, 101_002);
    assert!(harness.watch.tripped());
    // A stall before the last heartbeat excuses nothing after it.
    let mut harness = delivering(7);
    harness.tick_after_stall(500, 500);
    harness.tick_after_stall(51_001, 500);
    assert!(harness.watch.tripped());
    // Nor does a supervisor that never stood still get any grace.
    let mut harness = delivering(7);
    harness.tick(51_001);
    assert!(harness.watch.tripped());
}

#[test]
fn the_app_vanishing_trips_at_once() {
    let harness = delivering(7);
    let (watch, event) = harness.watch.peer_closed(2000);
    assert_eq!(event, Some(WatchEvent::Tripped(TripReason::AppGone)));
    assert!(!watch.motor_allowed());
}

#[test]
fn bad_messages_count_as_missed_and_refresh_nothing() {
    let mut harness = delivering(7);
    let good = message(Kind::Heartbeat, 7, 4, 20_000, true);
    let mut corrupt = good;
    corrupt[30] ^= 0x40;
    harness.receive(&corrupt, 20_000);
    harness.receive(&message(Kind::Heartbeat, 7, 3, 20_000, true), 20_000); // replayed
    harness.receive(&message(Kind::Heartbeat, 7, 2, 20_000, true), 20_000); // out of order
    harness.receive(&message(Kind::Heartbeat, 9, 4, 20_000, true), 20_000); // another session
    harness.receive(&message(Kind::Heartbeat, 7, 4, 1000, true), 60_000); // sent 59 ms ago: stale
    let rejected: Vec<Rejected> = harness
        .events
        .iter()
        .filter_map(|event| match event {
            WatchEvent::Rejected(rejected) => Some(*rejected),
            _ => None,
        })
        .collect();
    assert!(matches!(rejected[0], Rejected::Malformed(_)));
    assert_eq!(rejected[1], Rejected::Replayed { sequence: 3 });
    assert_eq!(
        rejected[2],
        Rejected::OutOfOrder {
            expected_above: 3,
            got: 2
        }
    );
    assert_eq!(rejected[3], Rejected::WrongSession { session: 9 });
    assert_eq!(rejected[4], Rejected::Stale { age_us: 59_000 });
    // None of them refreshed the deadline.
    harness.tick(51_001);
    assert!(harness.watch.tripped());
}

#[test]
fn a_flood_is_refused_beyond_the_limit() {
    let mut harness = delivering(7);
    let mut sequence = 3;
    let mut floods = 0;
    for _ in 0..20 {
        sequence += 1;
        harness.receive(&message(Kind::Heartbeat, 7, sequence, 15_000, true), 15_000);
    }
    for event in &harness.events {
        if *event == WatchEvent::Rejected(Rejected::Flood) {
            floods += 1;
        }
    }
    assert_eq!(floods, 12, "8 per 10 ms window are accepted");
}

#[test]
fn a_sustained_flood_refreshes_nothing_and_trips_at_the_deadline() {
    let mut harness = delivering(7);
    let mut sequence = 3;
    // 20 heartbeats every 2 ms (100 per 10 ms) for 80 ms.
    for step in 0..40_u64 {
        let now = 2000 + step * 2000;
        for _ in 0..20 {
            sequence += 1;
            harness.receive(&message(Kind::Heartbeat, 7, sequence, now, true), now);
        }
        harness.tick(now);
    }
    assert!(harness.watch.tripped(), "a flood kept the motor on");
    assert!(matches!(
        harness
            .events
            .iter()
            .find(|event| matches!(event, WatchEvent::Tripped(_))),
        Some(WatchEvent::Tripped(TripReason::MissedHeartbeat { .. }))
    ));
}

fn forward(steps: i64) -> Commanded {
    Commanded {
        forward: steps as u64,
        reverse: 0,
    }
}

#[test]
fn the_runaway_check_catches_a_motor_ahead_of_its_commands() {
    // Syringe: 4000 counts and 16 000 microsteps per turn.
    let mut check = RunawayCheck::new(4000, 16_000);
    let mut found = None;
    for sample in 0..100_i64 {
        // Commanded 40 microsteps per 100 ms; the motor runs at twice that.
        found = found.or(check.sample(forward(sample * 40), sample * 80 / 4));
    }
    let Some(MotionFinding::Runaway {
        commanded,
        measured,
    }) = found
    else {
        panic!("no runaway found: {found:?}");
    };
    assert!(measured > commanded + 64);
    let mut honest = RunawayCheck::new(4000, 16_000);
    for sample in 0..200_i64 {
        assert_eq!(
            honest.sample(forward(sample * 800), sample * 200),
            None,
            "an honest motor at 999 mL/h"
        );
    }
    let mut backwards = RunawayCheck::new(4000, 16_000);
    let mut reversed = None;
    for sample in 0..60_i64 {
        reversed = reversed.or(backwards.sample(forward(0), -sample * 10));
    }
    assert!(
        reversed.is_some(),
        "a motor running backwards on its own is caught too"
    );
}

/// The field defect (issue 12): a downstream occlusion, the back-off
/// commanded in reverse, and the motor following it, read as a runaway
/// ("commanded 882 microsteps, motor moved 976") when the heartbeat carried
/// only the net count. Forward and reverse are now bounded apart.
#[test]
fn a_commanded_back_off_is_not_a_runaway_but_a_motor_beyond_it_is() {
    // 25 mL/h on the S50: about 20 microsteps per 100 ms forward for 3 s,
    // then a back-off at 400 mL/h (about 320 per 100 ms) for 1.5 s.
    let run = |reverse_beyond: i64, lost_at_the_cut: i64| {
        let mut check = RunawayCheck::new(4000, 16_000);
        let (mut forward_steps, mut reverse_steps, mut position) = (0_i64, 0_i64, 0_i64);
        let mut found = None;
        for sample in 0..100_i64 {
            if sample < 30 {
                forward_steps += 20;
                position += 20;
            } else if sample < 45 {
                reverse_steps += 320;
                position -= 320;
                if sample == 44 {
                    // The driver was cut mid-period: these moved nothing.
                    position += lost_at_the_cut;
                }
            } else if sample < 60 {
                position -= reverse_beyond;
            }
            let commanded = Commanded {
                forward: forward_steps as u64,
                reverse: reverse_steps as u64,
            };
            found = found.or(check.sample(commanded, position / 4));
        }
        found
    };
    assert_eq!(run(0, 0), None, "the motor followed the back-off");
    assert_eq!(
        run(0, 64),
        None,
        "a period of back-off lost to the driver's cut is no runaway either"
    );
    assert!(
        run(60, 0).is_some(),
        "the motor went on backwards after the back-off ended"
    );
    // Forward motion while only reverse is commanded (relieving).
    let mut check = RunawayCheck::new(4000, 16_000);
    let mut found = None;
    for sample in 0..60_i64 {
        let commanded = Commanded {
            forward: 0,
            reverse: (sample * 300) as u64,
        };
        found = found.or(check.sample(commanded, sample * 20));
    }
    assert!(
        matches!(found, Some(MotionFinding::Runaway { .. })),
        "forward motion while relieving is a runaway"
    );
}

/// Found by the system fault matrix: 140 ms into a 999 mL/h prime the
/// heartbeat's count (up to 10 ms old) lagged the encoder by 80 microsteps,
/// beyond a young window's 2 %, and the supervisor tripped on a runaway.
#[test]
fn a_heartbeat_lagging_the_encoder_at_the_start_of_a_fast_infusion_is_no_runaway() {
    // 999 mL/h on the S50: 8000 microsteps/s, 800 per 100 ms; the encoder
    // read 10 ms after the heartbeat's count (80 microsteps ahead).
    let mut check = RunawayCheck::new(4000, 16_000);
    for sample in 0..60_i64 {
        let commanded = forward(sample * 800);
        let position = sample * 800 + 80;
        assert_eq!(
            check.sample(commanded, position / 4),
            None,
            "sample {sample}"
        );
    }
    // A motor at twice its commands is still caught at once.
    let mut runaway = RunawayCheck::new(4000, 16_000);
    let found = (0..3_i64)
        .filter_map(|sample| runaway.sample(forward(sample * 800), sample * 1600 / 4))
        .next();
    assert!(
        matches!(found, Some(MotionFinding::Runaway { .. })),
        "{found:?}"
    );
}

#[test]
fn an_encoder_that_shows_no_motion_under_plenty_of_commands_is_blind() {
    // 25 mL/h on the S50: about 20 microsteps per 100 ms; the encoder frozen.
    let mut check = RunawayCheck::new(4000, 16_000);
    let mut found = None;
    for sample in 0..60_i64 {
        found = found.or(check.sample(forward(sample * 20), 1234));
    }
    assert!(
        matches!(found, Some(MotionFinding::Blind { measured: 0, .. })),
        "{found:?}"
    );
    // A back-off that undoes the forward motion leaves the net position
    // where it was: the encoder's path shows it moved, so it is not blind.
    let mut backed_off = RunawayCheck::new(4000, 16_000);
    let (mut forward_steps, mut reverse_steps, mut position) = (0_i64, 0_i64, 0_i64);
    for sample in 0..80_i64 {
        if sample % 20 < 10 {
            forward_steps += 400;
            position += 400;
        } else {
            reverse_steps += 400;
            position -= 400;
        }
        let commanded = Commanded {
            forward: forward_steps as u64,
            reverse: reverse_steps as u64,
        };
        assert_eq!(
            backed_off.sample(commanded, position / 4),
            None,
            "sample {sample}"
        );
    }
    // Too little commanded motion to judge (0.5 mL/h): no finding.
    let mut slow = RunawayCheck::new(4000, 16_000);
    for sample in 0..100_i64 {
        assert_eq!(slow.sample(forward(sample * 4), 0), None);
    }
}

#[test]
fn a_hello_on_a_healthy_session_stops_the_motor_until_the_nurse_confirms() {
    let mut harness = delivering(1);
    assert!(harness.watch.motor_allowed());
    let now = 3000;
    harness.receive(&message(Kind::Hello, 7, 1, now, false), now);
    assert!(
        !harness.watch.motor_allowed(),
        "a new session starts unconfirmed"
    );
    harness.receive(&message(Kind::Heartbeat, 7, 2, now, true), now);
    assert!(
        harness.watch.tripped(),
        "flow without the nurse's confirmation of the new session trips"
    );
    let mut harness = delivering(1);
    harness.receive(&message(Kind::Hello, 8, 1, now, false), now);
    harness.receive(&message(Kind::ResumeConfirmed, 8, 2, now, true), now);
    assert!(
        harness.watch.motor_allowed(),
        "confirmed: the motor may run"
    );
    assert!(!harness.watch.tripped());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases::cases(2000),
        failure_persistence: cases::kept(),
        ..ProptestConfig::default()
    })]

    /// Whatever arrives, the motor never comes back on after a trip without a
    /// resume confirmation of a session opened after the trip.
    #[test]
    fn never_re_enables_on_its_own(inputs in prop::collection::vec((0_u8..5, 0_u64..3, 0_u64..12, any::<bool>(), 0_u64..120_000), 1..80)) {
        let mut harness = delivering(1);
        let (watch, _) = harness.watch.peer_closed(2000);
        harness.watch = watch;
        let mut confirmed_after_trip = false;
        let mut now = 2000;
        for (what, session, sequence, delivering, advance) in inputs {
            now += advance;
            match what {
                0 => harness.receive(&message(Kind::Hello, session + 10, sequence, now, false), now),
                1 => harness.receive(&message(Kind::Heartbeat, session + 10, sequence, now, delivering), now),
                2 => {
                    let before = harness.watch;
                    harness.receive(&message(Kind::ResumeConfirmed, session + 10, sequence, now, delivering), now);
                    if before.tripped() && !harness.watch.tripped() {
                        confirmed_after_trip = true;
                    }
                }
                3 if delivering => harness.tick_after_stall(now, now.saturating_sub(sequence * 1000)),
                3 => harness.tick(now),
                _ => harness.receive(&[0xAB; MESSAGE_LEN], now),
            }
            if !confirmed_after_trip {
                prop_assert!(!harness.watch.motor_allowed(), "re-enabled without a confirmed new session");
            }
        }
    }
}
