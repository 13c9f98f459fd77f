//! Times on the screen, in the device's local time zone and labelled with
//! its offset from UTC ("2026-11-18 12:06:40 UTC+01:00"). The records keep
//! UTC milliseconds; only what is shown is local.

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The device's offset from UTC at `at_ms` (ms since the Unix epoch), from
/// its time zone (`TZ`, else /etc/localtime); UTC when it has none.
pub fn local_offset(at_ms: i64) -> UtcOffset {
    use chrono::{Offset, TimeZone};
    chrono::Local
        .timestamp_millis_opt(at_ms)
        .single()
        .map(|moment| moment.offset().fix().local_minus_utc())
        .and_then(|seconds| UtcOffset::from_whole_seconds(seconds).ok())
        .unwrap_or(UtcOffset::UTC)
}

fn moment(at_ms: i64, offset: UtcOffset) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .map(|moment| moment.to_offset(offset))
}

/// The zone's label: "UTC", or "UTC+01:00".
pub fn zone_label(offset: UtcOffset) -> String {
    if offset.is_utc() {
        return "UTC".to_owned();
    }
    offset
        .format(format_description!(
            "UTC[offset_hour sign:mandatory]:[offset_minute]"
        ))
        .unwrap_or_else(|_| "UTC".to_owned())
}

/// Date, time and zone at `offset`: "2026-11-18 12:06:40 UTC+01:00".
pub fn date_time(at_ms: i64, offset: UtcOffset) -> String {
    moment(at_ms, offset)
        .and_then(|moment| {
            moment
                .format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]"
                ))
                .ok()
        })
        .map_or_else(String::new, |text| format!("{text} {}", zone_label(offset)))
}

/// The time of day at `offset`: "12:06:40".
pub fn time_of_day(at_ms: i64, offset: UtcOffset) -> String {
    moment(at_ms, offset)
        .and_then(|moment| {
            moment
                .format(format_description!("[hour]:[minute]:[second]"))
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-18 11:06:40 UTC.
    const AT_MS: i64 = 1_795_000_000_000;

    #[test]
    fn times_are_shown_at_the_zones_offset_and_labelled() {
        let berlin = UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC);
        assert_eq!(date_time(AT_MS, UtcOffset::UTC), "2026-11-18 11:06:40 UTC");
        assert_eq!(date_time(AT_MS, berlin), "2026-11-18 12:06:40 UTC+01:00");
        assert_eq!(time_of_day(AT_MS, berlin), "12:06:40");
        let new_york = UtcOffset::from_hms(-5, 0, 0).unwrap_or(UtcOffset::UTC);
        assert_eq!(date_time(AT_MS, new_york), "2026-11-18 06:06:40 UTC-05:00");
        let kolkata = UtcOffset::from_hms(5, 30, 0).unwrap_or(UtcOffset::UTC);
        assert_eq!(zone_label(kolkata), "UTC+05:30");
    }
}
