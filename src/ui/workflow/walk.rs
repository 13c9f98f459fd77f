//! Walking the steps: which steps a program of this kind and drug has,
//! where the nurse is among them, forward and back.

use super::review::basis;
use super::*;

impl Workflow {
    /// The steps of this program as answered so far, in order.
    pub fn steps(&self) -> ArrayVec<Step, MAX_STEPS> {
        let mut steps = ArrayVec::new();
        let entry = self.entry_picked();
        let drug_unit = entry.map(|entry| entry.dose.unit);
        let per_weight = |unit: Option<DosingUnit>| unit.is_some_and(|unit| basis(unit) != 0);
        let per_area = |unit: Option<DosingUnit>| unit.is_some_and(|unit| basis(unit) == 2);
        let needs_concentration =
            matches!(drug_unit, Some(DosingUnit::Rate(_) | DosingUnit::Amount(_)));
        let intermittent = matches!(drug_unit, Some(DosingUnit::Amount(_)));
        match self.kind {
            Kind::Primary | Kind::Secondary => {
                if self.kind == Kind::Primary {
                    steps.push(Step::CareArea);
                }
                steps.push(Step::Drug);
                if needs_concentration {
                    steps.push(Step::Concentration);
                }
                let has_loading = entry.is_some_and(|entry| entry.loading.is_some());
                if self.kind == Kind::Primary && has_loading && !intermittent {
                    steps.push(Step::Loading);
                    if self.answers.loading == Some(true) {
                        steps.push(Step::LoadingDose);
                        steps.push(Step::LoadingDuration);
                    }
                }
                // A fluid given as a volume over a time has no rate to type;
                // one given in steps has a rate and a volume for each.
                let by_time = self.by_time();
                let by_steps = self.by_steps();
                if by_steps {
                    let count = self.rate_step_count();
                    for index in 0..count {
                        let Ok(index) = u8::try_from(index) else {
                            break;
                        };
                        steps.push(Step::StepRate(index));
                        steps.push(Step::StepVolume(index));
                        if usize::from(index) + 1 < crate::therapy::MAX_RATE_STEPS {
                            steps.push(Step::MoreSteps(index));
                        }
                    }
                    steps.push(Step::Review);
                    return steps;
                }
                let pca = self.is_pca();
                if pca {
                    steps.push(Step::Basal);
                } else if !by_time {
                    steps.push(Step::Dose);
                }
                let loading_per_weight = self.answers.loading == Some(true)
                    && entry.and_then(|entry| entry.loading).is_some_and(|spec| {
                        spec.unit.0.basis != crate::therapy::DoseBasis::Patient
                    });
                // A secondary asks only for what the primary did not.
                let known = |height: bool| {
                    self.kind == Kind::Secondary
                        && self
                            .running
                            .as_ref()
                            .is_some_and(|running| match running.medication {
                                Medication::Drug { patient, .. } => {
                                    patient.weight.is_some()
                                        && (!height || patient.height.is_some())
                                }
                                Medication::Basic => false,
                            })
                };
                if (per_weight(drug_unit) || loading_per_weight) && !known(false) {
                    steps.push(Step::Weight);
                }
                if per_area(drug_unit) && !known(true) {
                    steps.push(Step::Height);
                }
                if pca {
                    steps.push(Step::Demand);
                    steps.push(Step::Lockout);
                    steps.push(Step::PcaLimit);
                    steps.push(Step::Volume);
                } else if intermittent {
                    steps.push(Step::Duration);
                } else if by_time {
                    steps.push(Step::Volume);
                    steps.push(Step::Duration);
                } else {
                    steps.push(Step::Volume);
                }
            }
            Kind::Bolus => {
                steps.push(Step::Dose);
                steps.push(Step::Duration);
            }
            Kind::Titration => steps.push(Step::Dose),
        }
        steps.push(Step::Review);
        steps
    }

    /// Where the current step is in the sequence (for "step 3 of 7").
    pub fn position(&self) -> (usize, usize) {
        let steps = self.steps();
        let index = steps
            .iter()
            .position(|step| *step == self.step)
            .unwrap_or(0);
        (index + 1, steps.len())
    }

    pub(super) fn advance(&mut self) {
        let steps = self.steps();
        if let Some(index) = steps.iter().position(|step| *step == self.step) {
            if let Some(next) = steps.get(index + 1) {
                self.step = *next;
            }
        }
        self.load_entry();
    }

    /// Goes back one step (false on the first step: the caller leaves the
    /// workflow). Answers are kept.
    pub fn back(&mut self) -> bool {
        if self.rest_after_nl.is_some() || self.ordered {
            return false;
        }
        let steps = self.steps();
        match steps.iter().position(|step| *step == self.step) {
            Some(index) if index > 0 => {
                if let Some(previous) = steps.get(index - 1) {
                    self.step = *previous;
                }
                self.search.clear();
                self.initial = None;
                self.load_entry();
                true
            }
            _ => false,
        }
    }

    pub(super) fn load_entry(&mut self) {
        self.entry = self
            .answer(self.step)
            .map(NumberEntry::showing)
            .unwrap_or_default();
    }
}
