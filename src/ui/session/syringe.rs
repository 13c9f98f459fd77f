//! The syringe loaded, on a syringe platform: chosen by size and brand
//! from those the signed profile lists, and confirmed at loading. The
//! controller meters with the syringe confirmed, and the programs are
//! checked against its rates and volume.
//!
//! A syringe is unconfirmed at the start and whenever the syringe switch
//! shows one newly loaded; a new infusion then asks for it first. It is
//! changed only with no program loaded (the controller refuses it
//! otherwise).

use super::*;

impl Session {
    /// Is this a syringe platform whose loaded syringe the nurse has yet
    /// to confirm?
    pub fn syringe_to_confirm(&self) -> bool {
        !self.syringes.is_empty() && !self.syringe_confirmed
    }

    /// The syringe metered with, if any.
    pub fn syringe_option(&self) -> Option<&SyringeOption> {
        self.syringes.get(self.syringe?)
    }

    /// A syringe newly loaded (the switch from empty to loaded) must be
    /// confirmed again: it may not be the one before.
    pub(super) fn watch_syringe_switch(&mut self) {
        let starting = matches!(self.snapshot.mode, Mode::SelfTest | Mode::PlatformRejected);
        if starting || self.syringes.is_empty() {
            return;
        }
        let loaded = self.snapshot.container_loaded;
        if loaded && !self.container_was_loaded && self.syringe_confirmed {
            self.syringe_confirmed = false;
            self.interaction(Action::Value, "syringe loaded, to confirm".to_owned());
        }
        self.container_was_loaded = loaded;
    }

    /// Opens the syringe page from home (to change the syringe).
    pub fn show_syringes(&mut self) {
        self.touch("syringe");
        if matches!(self.screen, Screen::Home) && !self.syringes.is_empty() {
            self.show(Screen::Syringe {
                then: AfterSyringe::Home,
            });
        }
    }

    /// Asks for the syringe before a new program or an order's review
    /// (`then`), if it is unconfirmed. True if it asked.
    pub(super) fn ask_for_syringe(&mut self, then: AfterSyringe) -> bool {
        if !self.syringe_to_confirm() {
            return false;
        }
        self.show(Screen::Syringe { then });
        true
    }

    /// The nurse confirms the syringe loaded, by its place in the
    /// profile's list: the controller meters with it from now on, and the
    /// programs are checked against its rates and volume. Only with no
    /// program loaded.
    pub fn confirm_syringe(&mut self, index: usize) {
        self.touch(&format!("syringe {index}"));
        let Screen::Syringe { then } = self.screen else {
            return;
        };
        let Some(option) = self.syringes.get(index).cloned() else {
            self.notice = Some(Notice::Problem(Problem::UnknownChoice(index.to_string())));
            return;
        };
        let free = match self.snapshot.mode {
            Mode::Idle | Mode::Completed => true,
            Mode::SelfTest
            | Mode::PlatformRejected
            | Mode::Ready
            | Mode::Delivering
            | Mode::KeepVeinOpen
            | Mode::Paused
            | Mode::AlarmStopped
            | Mode::Fault => false,
        };
        if !free {
            self.notice = Some(Notice::Refused(self.texts.get(
                crate::ui::words::command_id(crate::control::api::CommandKind::LoadSyringe),
            )));
            return;
        }
        if !self.send(Command::LoadSyringe(option.mechanics)) {
            return;
        }
        self.limits = option.limits;
        self.syringe = Some(index);
        self.syringe_confirmed = true;
        self.interaction(Action::Value, format!("syringe {}", option.name));
        // Straight on to the new infusion or the order's review (one task
        // for the metrics), or home.
        match then {
            AfterSyringe::NewProgram => self.open_program(),
            AfterSyringe::Order => self.review_order_checked(),
            AfterSyringe::Home => self.show(Screen::Home),
        }
    }

    /// Back without confirming (nothing changes): to the order if one is
    /// waiting for it, otherwise home.
    pub fn leave_syringes(&mut self) {
        self.touch("cancel");
        if let Screen::Syringe { then } = self.screen {
            match then {
                AfterSyringe::Order if self.order().is_some() => self.show(Screen::Order),
                AfterSyringe::Order | AfterSyringe::NewProgram | AfterSyringe::Home => {
                    self.show(Screen::Home)
                }
            }
        }
    }
}
