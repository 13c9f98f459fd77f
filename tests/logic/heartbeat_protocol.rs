//! The heartbeat parser under random input: no byte string makes it panic,
//! every well-formed message round-trips, and any corruption of a valid
//! message is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_heartbeat::protocol::{AlarmLevel, AlarmVolume, Kind, Message, PumpMode, MESSAGE_LEN};
use proptest::prelude::*;

use perfuse_testkit::cases;

fn message() -> impl Strategy<Value = Message> {
    (
        prop::sample::select(vec![Kind::Hello, Kind::Heartbeat, Kind::ResumeConfirmed]),
        prop::sample::select(vec![
            PumpMode::Stopped,
            PumpMode::Delivering,
            PumpMode::Relieving,
        ]),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        (any::<u64>(), any::<u64>()),
        prop::sample::select(vec![
            AlarmLevel::None,
            AlarmLevel::Reminder,
            AlarmLevel::Low,
            AlarmLevel::Medium,
            AlarmLevel::High,
        ]),
        any::<bool>(),
        1_u8..=4,
    )
        .prop_map(
            |(
                kind,
                mode,
                session,
                sequence,
                sent_at_us,
                rate_nl_per_h,
                (forward_steps, reverse_steps),
                alarm,
                audible,
                volume,
            )| {
                Message {
                    kind,
                    mode,
                    session,
                    sequence,
                    sent_at_us,
                    rate_nl_per_h,
                    forward_steps,
                    reverse_steps,
                    alarm,
                    audible,
                    volume: AlarmVolume::new(volume).unwrap(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases::cases(20_000),
        failure_persistence: cases::kept(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn arbitrary_64_byte_strings_are_almost_never_accepted(bytes in prop::collection::vec(any::<u8>(), MESSAGE_LEN)) {
        // Without the magic and a matching CRC nothing gets through.
        prop_assert!(Message::decode(&bytes).is_err());
    }

    #[test]
    fn messages_round_trip(message in message()) {
        prop_assert_eq!(Message::decode(&message.encode()), Ok(message));
    }

    #[test]
    fn corruption_is_refused(message in message(), position in 0..MESSAGE_LEN, mask in 1_u8..=255) {
        let mut bytes = message.encode();
        bytes[position] ^= mask;
        prop_assert!(Message::decode(&bytes).is_err());
    }

    #[test]
    // Every length but the right one, drawn directly: rejecting the right
    // one with prop_assume ran into proptest's reject limit at 200 000 cases.
    fn truncation_and_padding_are_refused(
        message in message(),
        length in (0..119_usize).prop_map(|length| if length >= MESSAGE_LEN { length + 1 } else { length }),
    ) {
        let encoded = message.encode();
        let mut bytes = encoded.to_vec();
        bytes.resize(length, 0);
        prop_assert!(Message::decode(&bytes).is_err());
    }
}
