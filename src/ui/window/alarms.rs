//! The alarm banner's controller (Alarms): the top alarm, the others
//! counted, silence and acknowledge.

use super::*;
use crate::alarms::ActiveAlarm;
use perfuse_ui::AlarmRow;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let alarms = wire.window.global::<Alarms>();
    alarms.on_silence(wire.act(Session::silence));
    alarms.on_acknowledge(wire.act(Session::acknowledge));
    alarms.on_open_list(wire.act(Session::open_alarm_list));
    alarms.on_close_list(wire.act(Session::close_alarm_list));
}

fn level_and_priority(alarm: &ActiveAlarm) -> (AlarmLevel, &'static str) {
    match alarm.priority {
        // A medium alarm nobody answered: high, and it says why.
        Priority::High if alarm.escalated => (AlarmLevel::High, "priority-escalated"),
        Priority::High => (AlarmLevel::High, "priority-high"),
        Priority::Medium => (AlarmLevel::Medium, "priority-medium"),
        Priority::Low => (AlarmLevel::Low, "priority-low"),
    }
}

/// One alarm in the list: its priority, cause, and since when and in what
/// state it is.
fn row(texts: &Texts, alarm: &ActiveAlarm, now_ms: u64) -> AlarmRow {
    let (level, priority) = level_and_priority(alarm);
    let minutes = now_ms.saturating_sub(alarm.raised_at_ms) / 60_000;
    let mut state = vec![if minutes == 0 {
        texts.get("alarm-state-just-now")
    } else {
        texts.format("alarm-state-since", &[("minutes", Arg::Count(minutes))])
    }];
    state.push(texts.get(if alarm.present {
        "alarm-state-present"
    } else {
        "alarm-state-gone"
    }));
    if alarm.acknowledged {
        state.push(texts.get("alarm-state-acknowledged"));
    }
    if alarm.escalated {
        state.push(texts.get("alarm-state-escalated"));
    }
    AlarmRow {
        level,
        priority: s(texts.get(priority)),
        cause: s(texts.get(alarm_ids(alarm.condition).0)),
        state: s(state.join(" · ")),
    }
}

pub(super) fn render(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let alarms = window.global::<Alarms>();
    let raised: Vec<_> = session.snapshot.alarms.iter().flatten().collect();
    let now_ms = session.snapshot.now_us / 1000;
    alarms.set_list_open(session.alarm_list_open && !raised.is_empty());
    alarms.set_list_title(s(texts.format(
        "alarm-list-title",
        &[(
            "count",
            Arg::Count(u64::try_from(raised.len()).unwrap_or(u64::MAX)),
        )],
    )));
    alarms.set_close_label(s(texts.get("alarm-list-close")));
    update_rows(
        || alarms.get_list(),
        |rows| alarms.set_list(rows),
        raised
            .iter()
            .map(|alarm| row(texts, alarm, now_ms))
            .collect(),
    );
    let Some(top) = raised.first() else {
        alarms.set_level(AlarmLevel::None);
        return;
    };
    let (level, priority) = level_and_priority(top);
    let (cause, action) = alarm_ids(top.condition);
    alarms.set_level(level);
    alarms.set_priority(s(texts.get(priority)));
    alarms.set_cause(s(texts.get(cause)));
    alarms.set_action(s(texts.get(action)));
    let others = raised.len().saturating_sub(1);
    alarms.set_more(s(if others > 0 {
        texts.format(
            "alarm-more",
            &[(
                "count",
                Arg::Count(u64::try_from(others).unwrap_or(u64::MAX)),
            )],
        )
    } else {
        String::new()
    }));
    let silence_s = session.snapshot.silence_remaining_ms.div_ceil(1000);
    alarms.set_silenced(s(if silence_s > 0 {
        texts.format("alarm-silenced", &[("seconds", Arg::Count(silence_s))])
    } else {
        String::new()
    }));
    // The banner flashes as the alarm lights do, from the announcement's
    // start, whether the buzzer sounds or is paused.
    let (lit, paused) = match session.snapshot.announcement {
        Some(announcement) => (
            perfuse_drivers::annunciator::light_on(
                announcement.priority,
                now_ms.saturating_sub(announcement.since_ms),
            ),
            !announcement.audible,
        ),
        None => (true, false),
    };
    alarms.set_lit(lit);
    alarms.set_audio_paused(paused);
    alarms.set_silence_label(s(texts.get("action-silence")));
    alarms.set_acknowledge_label(s(texts.get("action-acknowledge")));
    alarms.set_can_silence(silence_s == 0);
    alarms.set_can_acknowledge(raised.iter().any(|alarm| !alarm.acknowledged));
}
