//! Programming: the workflow's steps, the keypad and the drug search, the
//! review's overrides, and the start of what was confirmed (a new program,
//! a titration, a bolus, a secondary).

use super::*;
use crate::control::api::Standby;

/// The review's end choices, as the markup sends them back.
pub const END_KVO_ID: &str = "end-kvo";
pub const END_STOP_ID: &str = "end-stop";

impl Session {
    pub fn new_program(&mut self) {
        self.touch("new-program");
        if !matches!(self.screen, Screen::Home) || self.ask_for_syringe(AfterSyringe::NewProgram) {
            return;
        }
        self.open_program();
    }

    /// The first step of a new primary program (from home, or from the
    /// syringe confirmed on the way to it).
    pub(super) fn open_program(&mut self) {
        let workflow = Workflow::primary(
            self.programming_library(),
            self.limits,
            self.care_area.as_deref(),
        );
        self.show(Screen::Program(Box::new(Programming::new(workflow))));
    }

    // ---------------------------------------------------------------- menu

    pub(super) fn on_workflow(
        &mut self,
        action: impl FnOnce(&mut Workflow) -> Result<(), Problem>,
    ) {
        let Some(programming) = self.programming_mut() else {
            return;
        };
        let before = programming.workflow.step();
        let result = action(&mut programming.workflow);
        let after = programming.workflow.step();
        if before != after {
            programming.keyboard = false;
            programming.overrides.clear();
        }
        // The care area chosen for a new infusion is the patient's from now on.
        let chosen_area = (before == Step::CareArea
            && programming.workflow.kind() == Kind::Primary)
            .then(|| programming.workflow.care_area_id().map(str::to_owned))
            .flatten();
        if chosen_area.is_some() {
            self.care_area = chosen_area;
        }
        if let Err(problem) = &result {
            let what = match problem {
                Problem::Entry(_) => "entry",
                Problem::HardLimit { .. } => "hard-limit",
                Problem::UnknownChoice(_) => "choice",
                Problem::Key(_) => "key",
                Problem::WrongStep => "step",
            };
            self.interaction(Action::Refused, what.to_owned());
        }
        self.notice = result.err().map(Notice::Problem);
        if before != after {
            self.interaction(Action::Page, format!("program/{}", after.name()));
        }
    }

    pub fn choose(&mut self, id: &str) {
        // A choice is a touch (counted by the metrics) and a value.
        self.touch(&format!("choice {id}"));
        self.interaction(Action::Value, format!("{} {id}", self.step_name()));
        self.on_workflow(|workflow| workflow.choose(id));
    }

    pub fn search(&mut self, text: &str) {
        if let Some(programming) = self.programming_mut() {
            programming.workflow.set_search(text);
        }
        self.interaction(Action::Value, format!("search {text}"));
    }

    /// A letter of the drug list's index: the list narrows to drugs that
    /// begin with it; the same letter again shows them all.
    pub fn pick_initial(&mut self, letter: &str) {
        self.touch(&format!("initial {letter}"));
        if let Some(programming) = self.programming_mut() {
            let letter = letter.chars().next().and_then(|c| c.to_lowercase().next());
            let again = letter.is_some() && programming.workflow.initial() == letter;
            programming
                .workflow
                .set_initial(if again { None } else { letter });
        }
    }

    /// Opens or closes the on-screen letter keyboard of the drug search.
    pub fn toggle_keyboard(&mut self) {
        self.touch("search");
        if let Some(programming) = self.programming_mut() {
            programming.keyboard = !programming.keyboard;
        }
    }

    /// A letter pressed on the search keyboard.
    pub fn search_letter(&mut self, letter: &str) {
        self.touch(&format!("letter {letter}"));
        let text = format!(
            "{}{}",
            self.workflow().map(Workflow::search).unwrap_or_default(),
            letter.to_lowercase()
        );
        self.search(&text);
    }

    pub fn search_backspace(&mut self) {
        self.touch("letter backspace");
        let mut text = self
            .workflow()
            .map(Workflow::search)
            .unwrap_or_default()
            .to_owned();
        text.pop();
        self.search(&text);
    }

    pub fn key(&mut self, key: Key) {
        self.touch(&format!("key {key:?}"));
        self.on_workflow(|workflow| workflow.press(key));
    }

    /// A one-touch volume (a bag size) on the volume step.
    pub fn volume_preset(&mut self, id: &str) {
        self.touch(&format!("preset {id}"));
        match crate::therapy::parse_decimal(id) {
            Ok(volume) => {
                self.interaction(Action::Value, format!("{} {id}", self.step_name()));
                self.on_workflow(|workflow| workflow.accept_preset(volume));
            }
            Err(_) => self.notice = Some(Notice::Problem(Problem::UnknownChoice(id.to_owned()))),
        }
    }

    /// How a fluid's rate is given: typed, or from a volume and a time.
    pub fn rate_by(&mut self, id: &str) {
        self.touch(&format!("choice {id}"));
        match crate::ui::workflow::RateBy::from_id(id) {
            Some(by) => {
                self.interaction(Action::Value, format!("{} {id}", self.step_name()));
                self.on_workflow(|workflow| workflow.set_rate_by(by));
            }
            None => self.notice = Some(Notice::Problem(Problem::UnknownChoice(id.to_owned()))),
        }
    }

    /// The end of the volume, on the review: keep the vein open, or stop.
    pub fn end_choice(&mut self, id: &str) {
        self.touch(&format!("choice {id}"));
        let keep = match id {
            END_KVO_ID => true,
            END_STOP_ID => false,
            other => {
                self.notice = Some(Notice::Problem(Problem::UnknownChoice(other.to_owned())));
                return;
            }
        };
        self.interaction(Action::Value, format!("{} {id}", self.step_name()));
        self.on_workflow(|workflow| workflow.set_keep_vein_open(keep));
    }

    /// Next on a number step: accept the typed value.
    pub fn next(&mut self) {
        let typed = self
            .workflow()
            .map(|workflow| workflow.entry().text().to_owned())
            .unwrap_or_default();
        self.touch("next");
        self.interaction(Action::Value, format!("{} {typed}", self.step_name()));
        self.on_workflow(Workflow::accept);
    }

    pub fn back(&mut self) {
        self.touch("back");
        let stays = self.programming_mut().is_some_and(|programming| {
            let stays = programming.workflow.back();
            programming.overrides.clear();
            stays
        });
        if stays {
            self.notice = None;
            let page = format!("program/{}", self.step_name());
            self.interaction(Action::Page, page);
        } else {
            self.cancel_program();
        }
    }

    pub fn cancel(&mut self) {
        self.touch("cancel");
        self.cancel_program();
    }

    pub(super) fn cancel_program(&mut self) {
        // A resume given up goes back to the interrupted program, still kept.
        // A reviewed order given up goes back to the order, still waiting.
        let ordered = self.workflow().is_some_and(Workflow::is_ordered);
        let back_to = if ordered && self.order().is_some() {
            Screen::Order
        } else if self.active.is_some() {
            Screen::Running
        } else if self.interrupted.is_some()
            && self
                .programming()
                .is_some_and(|programming| programming.resuming_from.is_some())
        {
            Screen::Interrupted
        } else {
            Screen::Home
        };
        self.show(back_to);
    }

    /// Confirms the `index`th soft-limit finding of the review.
    pub fn confirm_override(&mut self, index: usize) {
        self.touch(&format!("confirm-override {index}"));
        let Some(programming) = self.programming_mut() else {
            return;
        };
        let Some(review) = programming.workflow.review() else {
            return;
        };
        if let Some(wanted) = review.overrides_needed().get(index) {
            if !programming.overrides.contains(wanted) {
                programming.overrides.push(*wanted);
            }
        }
    }

    /// Start on the review: confirm with the overrides given, then load and
    /// start (primary), or titrate, give the bolus or start the secondary.
    pub fn start(&mut self) {
        self.touch("start");
        self.begin(None);
    }

    /// The confirmed program, loaded and started now, or loaded to wait
    /// (`later`: standby, or a delayed start).
    pub(super) fn begin(&mut self, later: Option<Standby>) {
        let Some(Programming {
            workflow,
            overrides,
            resuming_from,
            ..
        }) = self.programming().cloned()
        else {
            return;
        };
        if workflow.is_ordered() && !self.order_still_valid() {
            return;
        }
        let confirmed = match workflow.confirm(&overrides) {
            Ok(confirmed) => confirmed,
            Err(error) => {
                self.notice = Some(Notice::Refused(crate::ui::words::confirm_text(
                    &self.texts,
                    &error,
                )));
                return;
            }
        };
        let infused_before_nl = match (workflow.kind(), &self.active) {
            (Kind::Primary, _) => resuming_from.map_or(0, |volume| volume.0),
            (_, Some(active)) => active.infused_before_nl,
            (_, None) => 0,
        };
        let sent = match workflow.kind() {
            Kind::Primary => self.start_primary(&workflow, &confirmed, resuming_from, later),
            Kind::Titration => self.titrate_to(&confirmed),
            Kind::Bolus => self.give_bolus(&confirmed),
            Kind::Secondary => self.start_secondary(&confirmed),
        };
        if !sent {
            return;
        }
        if workflow.is_ordered() {
            self.order_confirmed(workflow.care_area_id());
        }
        let drug = workflow
            .entry_picked()
            .map(|entry| entry.display_name.clone());
        for found in &confirmed.overrides {
            self.recorder.record(Event::SoftLimitOverride {
                drug: drug.clone().unwrap_or_else(|| "basic infusion".to_owned()),
                value: format!(
                    "{} {}",
                    found.parameter.name(),
                    display_decimal(found.value)
                ),
                limit: display_decimal(found.limit),
            });
        }
        if matches!(workflow.kind(), Kind::Primary | Kind::Titration) {
            let remaining = match &self.active {
                Some(active) if workflow.kind() == Kind::Titration => active.running.remaining,
                _ => confirmed
                    .plan
                    .total_volume()
                    .unwrap_or(Millilitres::new(Decimal::ZERO)),
            };
            let first_rate = confirmed.plan.segments.first().map(|segment| segment.rate);
            let mut running = workflow.running_after_start(remaining, first_rate);
            if workflow.kind() == Kind::Titration {
                if let Some(active) = &self.active {
                    running.medication = active.running.medication;
                }
            }
            let dose_unit = workflow
                .entry_picked()
                .map(|entry| entry.dose.unit)
                .filter(|unit| *unit != crate::druglib::model::DosingUnit::Flow)
                .map(|unit| unit.to_string());
            let drug = match (&self.active, workflow.kind()) {
                (Some(active), Kind::Titration) => active.drug.clone(),
                _ => drug,
            };
            self.active = Some(Active {
                drug,
                running,
                dose_unit,
                infused_before_nl,
            });
            if workflow.kind() == Kind::Primary {
                self.recorder.record(Event::ProgramChanged {
                    program: self
                        .active
                        .as_ref()
                        .map(|active| self.describe(active))
                        .unwrap_or_default(),
                });
            }
        }
        self.show(Screen::Running);
    }

    pub(super) fn start_primary(
        &mut self,
        workflow: &Workflow,
        confirmed: &ConfirmedProgram,
        resuming_from: Option<Nanolitres>,
        later: Option<Standby>,
    ) -> bool {
        let program = match program_from_plan(&confirmed.plan) {
            Ok(program) => program,
            Err(error) => {
                self.notice = Some(Notice::Refused(crate::ui::words::unit_text(
                    &self.texts,
                    &error,
                )));
                return false;
            }
        };
        // The rest of a dose already started: only what is left of it.
        let program = match workflow.rest_after_nl() {
            None => program,
            Some(delivered) => match program.after(Nanolitres(delivered)) {
                Some(rest) => rest,
                None => {
                    self.notice = Some(Notice::Refused(self.texts.get("refused-nothing-left")));
                    return false;
                }
            },
        };
        // A PCA resumed after an interruption: the restarted pump has no
        // history, so what the patient had of it counts as given now.
        let mut program = program;
        if let (Some(pca), Some(before)) = (program.pca.as_mut(), resuming_from) {
            pca.carried = before;
        }
        let remaining_nl = program.total_volume().0;
        if !self.send(Command::Load(program)) {
            return false;
        }
        // Kept before the start, so an interruption from here on can offer it.
        let total = confirmed
            .plan
            .total_volume()
            .map(|volume| volume.value())
            .unwrap_or_default();
        let rate = confirmed
            .plan
            .segments
            .first()
            .map(|segment| segment.rate.value())
            .unwrap_or_default();
        let kept = KeptProgram {
            rate: MillilitresPerHour::new(rate.normalize()),
            vtbi: Millilitres::new(total.normalize()),
            delivered: Nanolitres(0),
            remaining: Nanolitres(remaining_nl),
            mode: Mode::Ready,
            therapy: workflow.program().map(|program| KeptTherapy {
                care_area: workflow.care_area_id().unwrap_or_default().to_owned(),
                entry: workflow.entry_picked().map(|entry| entry.id.clone()),
                drug_name: workflow
                    .entry_picked()
                    .map(|entry| entry.display_name.clone()),
                program,
                library_version: workflow.library().identity.version.clone(),
            }),
        };
        self.interrupted = None;
        self.pump
            .keep(Some(kept), resuming_from.unwrap_or(Nanolitres(0)));
        self.send(match later {
            None => Command::Start,
            Some(standby) => Command::Standby(standby),
        })
    }

    pub(super) fn titrate_to(&mut self, confirmed: &ConfirmedProgram) -> bool {
        let rate = confirmed
            .plan
            .segments
            .first()
            .map(|segment| NanolitresPerHour::from_rate(segment.rate));
        match rate {
            Some(Ok(rate)) => self.send(Command::Titrate(rate)),
            Some(Err(error)) => {
                self.notice = Some(Notice::Refused(crate::ui::words::unit_text(
                    &self.texts,
                    &error,
                )));
                false
            }
            None => false,
        }
    }

    pub(super) fn give_bolus(&mut self, confirmed: &ConfirmedProgram) -> bool {
        let Some(segment) = confirmed.plan.segments.first() else {
            return false;
        };
        let converted = NanolitresPerHour::from_rate(segment.rate)
            .and_then(|rate| Ok((rate, Nanolitres::from_millilitres(segment.volume)?)));
        match converted {
            Ok((rate, volume)) => self.send(Command::Bolus(ControlSegment {
                purpose: segment.purpose,
                rate,
                volume,
            })),
            Err(error) => {
                self.notice = Some(Notice::Refused(crate::ui::words::unit_text(
                    &self.texts,
                    &error,
                )));
                false
            }
        }
    }

    pub(super) fn start_secondary(&mut self, confirmed: &ConfirmedProgram) -> bool {
        match program_from_plan(&confirmed.plan) {
            Ok(program) => self.send(Command::Secondary(program)),
            Err(error) => {
                self.notice = Some(Notice::Refused(crate::ui::words::unit_text(
                    &self.texts,
                    &error,
                )));
                false
            }
        }
    }

    // ---------------------------------------------------------------- running
}
