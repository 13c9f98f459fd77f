//! The alarm banner's controller (Alarms): the top alarm, the others
//! counted, silence and acknowledge.

use super::*;

/// Wires this page's callbacks to the session.
pub(super) fn setup(wire: &Wire) {
    let alarms = wire.window.global::<Alarms>();
    alarms.on_silence(wire.act(Session::silence));
    alarms.on_acknowledge(wire.act(Session::acknowledge));
}

pub(super) fn render(window: &AppWindow, session: &Session) {
    let texts = &session.texts;
    let alarms = window.global::<Alarms>();
    let raised: Vec<_> = session.snapshot.alarms.iter().flatten().collect();
    let Some(top) = raised.first() else {
        alarms.set_level(AlarmLevel::None);
        return;
    };
    let (level, priority) = match top.priority {
        // A medium alarm nobody answered: high, and it says why.
        Priority::High if top.escalated => (AlarmLevel::High, "priority-escalated"),
        Priority::High => (AlarmLevel::High, "priority-high"),
        Priority::Medium => (AlarmLevel::Medium, "priority-medium"),
        Priority::Low => (AlarmLevel::Low, "priority-low"),
    };
    let (cause, action) = alarm_ids(top.condition);
    alarms.set_level(level);
    alarms.set_priority(s(texts.get(priority)));
    alarms.set_cause(s(texts.get(cause)));
    alarms.set_action(s(texts.get(action)));
    let others = raised.len().saturating_sub(1);
    alarms.set_more(s(if others > 0 {
        format!(" (+{others})")
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
    let now_ms = session.snapshot.now_us / 1000;
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
