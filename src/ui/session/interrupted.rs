//! A program kept from before an interruption: shown, resumed as a new
//! program re-checked against the library, or discarded.

use super::*;

impl Session {
    /// Can the interrupted program be resumed from the touchscreen (kept
    /// whole, continuous, and a drug library to check it against)?
    pub fn can_resume_interrupted(&self) -> bool {
        self.resume_workflow().is_some()
    }

    pub(super) fn resume_workflow(&self) -> Option<Workflow> {
        let interrupted = self.interrupted.as_ref()?;
        let therapy = interrupted.program.therapy.as_ref()?;
        let hundredths = interrupted.program.remaining.0 / 10_000;
        let remaining = Millilitres::new(Decimal::new(i64::try_from(hundredths).ok()?, 2));
        Workflow::resuming(
            self.programming_library(),
            self.limits,
            &therapy.care_area,
            therapy.entry.as_deref(),
            &therapy.program,
            interrupted.program.delivered,
            remaining,
        )
    }

    /// On the review of a resume, with the review's `plan`: nL infused
    /// before, and nL the pump will give if started now (for the rest of a program given as an amount or
    /// with a loading dose, what is left of it; otherwise the volume).
    pub fn resume_volumes(&self, plan: &DeliveryPlan) -> Option<(u64, u64)> {
        let programming = self.programming()?;
        let before = programming.resuming_from?.0;
        let workflow = &programming.workflow;
        let program = program_from_plan(plan).ok()?;
        let left = match workflow.rest_after_nl() {
            Some(delivered) => program
                .after(Nanolitres(delivered))
                .map_or(0, |rest| rest.total_volume().0),
            None => program.total_volume().0,
        };
        Some((before, left))
    }

    /// Resume on the interrupted screen: the program, with what was left,
    /// goes to its review against the library now active. Never automatic:
    /// the nurse starts it there.
    pub fn resume_interrupted(&mut self) {
        self.touch("resume-interrupted");
        if !matches!(self.screen, Screen::Interrupted) {
            return;
        }
        match self.resume_workflow() {
            Some(workflow) => {
                let programming = Programming {
                    resuming_from: self.interrupted.as_ref().map(|kept| kept.program.delivered),
                    ..Programming::new(workflow)
                };
                self.show(Screen::Program(Box::new(programming)));
            }
            None => self.notice = Some(Notice::Refused(self.texts.get("refused-cannot-resume"))),
        }
    }

    /// Discard on the interrupted screen: the kept program is forgotten.
    pub fn discard_interrupted(&mut self) {
        self.touch("discard");
        if !matches!(self.screen, Screen::Interrupted) {
            return;
        }
        self.interrupted = None;
        self.pump.keep(None, Nanolitres(0));
        self.show(Screen::Home);
    }

    // ---------------------------------------------------------------- workflow
}
