//! The running infusion: pause, resume, stop, what may be done now, and
//! the alarm banner's silence and acknowledge.

use super::*;

/// The running screen's buttons that may be pressed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    pub start: bool,
    pub pause: bool,
    pub resume: bool,
    pub stop: bool,
    pub titrate: bool,
    pub bolus: bool,
    pub secondary: bool,
    pub leave: bool,
}

impl Session {
    pub fn pause(&mut self) {
        self.touch("pause");
        self.send(Command::Pause);
    }

    /// Resumes a paused infusion; on a PCA held at its limit, resumes the
    /// PCA (the pump refuses while the window still holds the limit).
    pub fn resume(&mut self) {
        if self.pca_limited() {
            self.touch("resume-pca");
            self.send(Command::ClearPcaLimit);
        } else {
            self.touch("resume");
            self.send(Command::Resume);
        }
    }

    /// A PCA runs held at its limit (KVO, no demand).
    fn pca_limited(&self) -> bool {
        self.snapshot.mode == Mode::Delivering && self.snapshot.pca.is_some_and(|pca| pca.limited)
    }

    pub fn start_loaded(&mut self) {
        self.touch("start");
        self.send(Command::Start);
    }

    pub fn stop(&mut self) {
        self.touch("stop");
        self.send(Command::Stop);
    }

    /// Leaves the running screen for home (a completed infusion).
    pub fn leave(&mut self) {
        self.touch("home");
        if matches!(self.snapshot.mode, Mode::Completed | Mode::Idle) {
            self.send(Command::Stop);
            self.active = None;
            self.show(Screen::Home);
        }
    }

    /// Starts a bolus, secondary or titration on the running primary.
    pub fn program_on_running(&mut self, kind: Kind) {
        self.touch(match kind {
            Kind::Primary => "new-program",
            Kind::Secondary => "secondary",
            Kind::Bolus => "bolus",
            Kind::Titration => "titrate",
        });
        let Some(active) = self.active.clone() else {
            return;
        };
        let library = self.programming_library();
        let mut running = active.running;
        running.remaining = Millilitres::new(Decimal::new(
            i64::try_from(self.snapshot.remaining.0).unwrap_or(i64::MAX),
            6,
        ));
        let workflow = Workflow::on_running(library, self.limits, kind, running);
        self.show(Screen::Program(Box::new(Programming::new(workflow))));
    }

    /// What may be pressed on the running screen, by the pump's mode.
    pub fn allowed(&self) -> Allowed {
        let mode = self.snapshot.mode;
        let flowing = matches!(mode, Mode::Delivering);
        let drug = self
            .active
            .as_ref()
            .and_then(|active| match &active.running.drug {
                Pick::Entry(id) => Some((active.running.care_area.as_str(), id.as_str())),
                Pick::Basic => None,
            });
        let is_drug = drug.is_some();
        let bolus_allowed = drug
            .and_then(|(area, id)| self.library.as_ref()?.entry(area, id))
            .is_some_and(|entry| entry.bolus.is_some());
        Allowed {
            start: mode == Mode::Ready,
            pause: flowing || mode == Mode::KeepVeinOpen,
            // Resume once the alarm that stopped flow is cleared: the pump
            // refuses it before, so the button does too.
            resume: mode == Mode::Paused || self.pca_limited(),
            stop: matches!(
                mode,
                Mode::Ready
                    | Mode::Delivering
                    | Mode::KeepVeinOpen
                    | Mode::Paused
                    | Mode::AlarmStopped
                    | Mode::Completed
            ),
            // A PCA's basal, demand and limits are changed by programming
            // it anew, not by a titration of its dose.
            titrate: matches!(mode, Mode::Delivering | Mode::Paused)
                && self.active.is_some()
                && self.snapshot.pca.is_none(),
            bolus: flowing && is_drug && bolus_allowed,
            secondary: flowing && self.active.is_some(),
            leave: matches!(mode, Mode::Completed | Mode::Idle),
        }
    }

    // ---------------------------------------------------------------- alarms

    pub fn silence(&mut self) {
        self.touch("silence");
        let shown = self
            .shown_alarm
            .map(|condition| condition.name().to_owned())
            .unwrap_or_default();
        self.interaction(Action::AlarmSilenced, shown.clone());
        if self.send(Command::SilenceAlarms) {
            self.recorder
                .record(Event::AlarmSilenced { condition: shown });
        }
    }

    /// The banner's "+N": every raised alarm, in priority order.
    pub fn open_alarm_list(&mut self) {
        self.touch("alarm-list");
        self.alarm_list_open = true;
    }

    pub fn close_alarm_list(&mut self) {
        self.touch("alarm-list-close");
        self.alarm_list_open = false;
    }

    pub fn acknowledge(&mut self) {
        self.touch("acknowledge");
        let shown = self
            .shown_alarm
            .map(|condition| condition.name().to_owned())
            .unwrap_or_default();
        self.interaction(Action::AlarmAcknowledged, shown.clone());
        if self.send(Command::AcknowledgeAlarms) {
            self.recorder
                .record(Event::AlarmAcknowledged { condition: shown });
        }
    }
}
