//! Program now, start later: from the review of a new infusion, the
//! confirmed program is loaded to wait for the nurse's start (standby,
//! with a reminder every half hour) or to start by itself after a delay.
//! The control thread keeps the time and starts it (`Command::Standby`),
//! as a start would: never over a flow-stopping alarm.

use super::*;
use crate::control::api::Standby;

/// The choices offered, in order: standby, then delays in minutes.
/// (Four fit under the page's title and note at 800x480; the control
/// thread takes any delay from a minute to a day.)
pub const START_LATER_MINUTES: [Option<u64>; 4] = [None, Some(15), Some(30), Some(60)];

impl Session {
    /// Can the program on review start later (a new primary infusion that
    /// the library review lets start)?
    pub fn can_start_later(&self) -> bool {
        self.workflow().is_some_and(|workflow| {
            workflow.kind() == Kind::Primary
                && workflow.step() == Step::Review
                && workflow
                    .review()
                    .is_some_and(|review| review.blockers.is_empty())
        })
    }

    /// "Start later" on the review: asks when.
    pub fn start_later(&mut self) {
        self.touch("start-later");
        if !self.can_start_later() {
            return;
        }
        let screen = std::mem::replace(&mut self.screen, Screen::Home);
        match screen {
            Screen::Program(programming) => self.show(Screen::StartLater(programming)),
            other => self.screen = other,
        }
    }

    /// The nurse picks when (by its place in `START_LATER_MINUTES`): the
    /// program is confirmed and loaded as a start would, then waits.
    pub fn start_later_choice(&mut self, index: usize) {
        self.touch(&format!("start-later {index}"));
        let Some(choice) = START_LATER_MINUTES.get(index).copied() else {
            self.notice = Some(Notice::Problem(Problem::UnknownChoice(index.to_string())));
            return;
        };
        let standby = match choice {
            None => Standby::OnCommand,
            Some(minutes) => Standby::StartAfter {
                delay_ms: minutes.saturating_mul(60_000),
            },
        };
        let screen = std::mem::replace(&mut self.screen, Screen::Home);
        let Screen::StartLater(programming) = screen else {
            self.screen = screen;
            return;
        };
        self.interaction(
            Action::Value,
            match choice {
                None => "start-later standby".to_owned(),
                Some(minutes) => format!("start-later in {minutes} min"),
            },
        );
        // Back on the review (not recorded as a page: the nurse never sees
        // it again), then loaded as a start would be.
        self.screen = Screen::Program(programming);
        self.begin(Some(standby));
        if matches!(self.screen, Screen::Program(_)) {
            // Refused (the reason is on the review): nothing was started.
            self.interaction(Action::Page, self.screen.page().name().to_owned());
        }
    }

    /// Cancel: back to the review, as it was.
    pub fn leave_start_later(&mut self) {
        self.touch("cancel");
        let screen = std::mem::replace(&mut self.screen, Screen::Home);
        match screen {
            Screen::StartLater(programming) => self.show(Screen::Program(programming)),
            other => self.screen = other,
        }
    }
}
