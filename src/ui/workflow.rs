//! The programming workflow: one sequence of pages for every platform and
//! every program kind.
//!
//! A program is built step by step: choices (care area, drug, concentration,
//! loading dose or not) and numbers typed on the keypad (dose or rate,
//! weight, height, duration, volume), then a review by the drug library.
//! Which steps appear depends only on the program kind and the drug picked,
//! never on the platform: the platform narrows the rate limits and names
//! itself on screen, nothing else (DESIGN.md, F1). Bolus, secondary and
//! titration walk the same steps with the same controls.
//!
//! This module decides nothing about doses: values are parsed by the therapy
//! core, limits come from the drug library (`LimitStatus::of`), and the
//! review is the library's `review`.

use std::sync::Arc;

use arrayvec::ArrayVec;
use rust_decimal::Decimal;

use super::keypad::{Key, NumberEntry, Refusal};
use crate::control::units::Nanolitres;
use crate::druglib::model::{AmountSpec, CareArea, DosingUnit, Entry, Limits};
use crate::druglib::{
    confirm, review, review_bolus, review_secondary, ConfirmError, ConfirmedProgram, DrugChoice,
    Library, LimitStatus, Override, Review,
};
use crate::therapy::{
    rules, Amount, BolusRequest, Centimetres, Concentration, Delivery, DoseAmount, DoseRate,
    EndOfInfusion, InfusionDuration, Kilograms, Medication, Millilitres, MillilitresPerHour,
    Patient, Program, RateLimits, SecondaryProgram, TherapyError,
};

/// What is being programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A new primary infusion (with a loading dose if the drug has one and
    /// the nurse asks for it).
    Primary,
    /// A piggyback from a second container, then back to the primary.
    Secondary,
    /// A clinician bolus from the primary's container.
    Bolus,
    /// A new dose or rate for the running primary.
    Titration,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Primary, Kind::Secondary, Kind::Bolus, Kind::Titration];
}

/// One page of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    CareArea,
    Drug,
    Concentration,
    /// Give a loading dose first, or not (drugs whose entry has one).
    Loading,
    LoadingDose,
    LoadingDuration,
    /// The dose (drug) or the rate (basic infusion, fluid), in its unit.
    Dose,
    Weight,
    Height,
    /// The time an amount (intermittent dose, bolus) is given over.
    Duration,
    /// The volume to be infused.
    Volume,
    Review,
}

impl Step {
    /// How the step is answered: by a choice from a list, or on the keypad.
    pub const fn is_choice(self) -> bool {
        match self {
            Step::CareArea | Step::Drug | Step::Concentration | Step::Loading => true,
            Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Review => false,
        }
    }
}

/// The drug picked, or a basic infusion outside the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Basic,
    Entry(String),
}

/// The running primary that a bolus, secondary or titration builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub care_area: String,
    pub drug: Pick,
    pub medication: Medication,
    /// The primary's dose (drug) or rate (basic), in the step's unit.
    pub dose: Decimal,
    /// What is left of the primary's volume to be infused.
    pub remaining: Millilitres,
}

/// What has been answered so far. A step's answer stays when the nurse
/// goes back, and is shown for editing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Answers {
    care_area: Option<String>,
    drug: Option<Pick>,
    concentration: Option<usize>,
    loading: Option<bool>,
    loading_dose: Option<Decimal>,
    loading_duration_min: Option<Decimal>,
    dose: Option<Decimal>,
    weight: Option<Decimal>,
    height: Option<Decimal>,
    duration_min: Option<Decimal>,
    volume: Option<Decimal>,
}

/// An option of a choice step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    CareArea {
        id: String,
        name: String,
    },
    Basic,
    Drug {
        id: String,
        display_name: String,
    },
    Concentration {
        index: usize,
        amount: Amount,
        volume: Millilitres,
    },
    Loading(bool),
}

impl Choice {
    /// The id the markup sends back when this option is pressed.
    pub fn id(&self) -> String {
        match self {
            Choice::CareArea { id, .. } | Choice::Drug { id, .. } => id.clone(),
            Choice::Basic => BASIC_ID.to_owned(),
            Choice::Concentration { index, .. } => index.to_string(),
            Choice::Loading(true) => "loading-yes".to_owned(),
            Choice::Loading(false) => "loading-no".to_owned(),
        }
    }
}

/// The id of the basic infusion in the drug list (not a valid library id,
/// which are lower-case words).
pub const BASIC_ID: &str = "#basic";

/// What a number step asks for: its unit and the limits it is checked
/// against as it is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberField {
    pub unit: String,
    /// Library or platform limits; beyond a hard one the step refuses the value.
    pub limits: Option<Limits>,
    /// The therapy core's range for the quantity, checked on Next.
    pub range: rules::Range,
}

/// Why a step did not accept its answer. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The typed text is not a number the pump reads.
    Entry(TherapyError),
    /// Beyond a hard limit of the drug library or platform.
    HardLimit { status: LimitStatus, unit: String },
    /// Nothing chosen, or an option that is not on the list.
    UnknownChoice(String),
    /// The keypad refused a key.
    Key(Refusal),
    /// The step is not the one this action belongs to.
    WrongStep,
}

/// The workflow for one program.
#[derive(Debug, Clone)]
pub struct Workflow {
    library: Arc<Library>,
    platform: RateLimits,
    kind: Kind,
    running: Option<Running>,
    answers: Answers,
    step: Step,
    entry: NumberEntry,
    search: String,
    /// Set when this is the rest of a kept program that was given as an
    /// amount over a time or with a loading dose: nL already infused of it.
    /// Its values are as programmed and cannot be changed here (the rest of
    /// a started dose is not a new dose).
    rest_after_nl: Option<u64>,
}

/// Longest step sequence: care area, drug, concentration, loading (dose and
/// duration), dose, weight, height, duration, volume, review.
const MAX_STEPS: usize = 12;

impl Workflow {
    /// Starts programming a new primary infusion.
    pub fn primary(library: Arc<Library>, platform: RateLimits) -> Workflow {
        Workflow::new(library, platform, Kind::Primary, None)
    }

    /// Starts a secondary, bolus or titration on top of `running`.
    pub fn on_running(
        library: Arc<Library>,
        platform: RateLimits,
        kind: Kind,
        running: Running,
    ) -> Workflow {
        Workflow::new(library, platform, kind, Some(running))
    }

    fn new(
        library: Arc<Library>,
        platform: RateLimits,
        kind: Kind,
        running: Option<Running>,
    ) -> Workflow {
        let mut answers = Answers::default();
        if let Some(running) = &running {
            answers.care_area = Some(running.care_area.clone());
            if matches!(kind, Kind::Bolus | Kind::Titration) {
                answers.drug = Some(running.drug.clone());
            }
            if let Medication::Drug { patient, .. } = running.medication {
                answers.weight = patient.weight.map(Kilograms::value);
                answers.height = patient.height.map(Centimetres::value);
            }
        }
        let mut workflow = Workflow {
            library,
            platform,
            kind,
            running,
            answers,
            step: Step::Review,
            entry: NumberEntry::default(),
            search: String::new(),
            rest_after_nl: None,
        };
        workflow.step = workflow.steps().first().copied().unwrap_or(Step::Review);
        workflow.load_entry();
        workflow
    }

    /// A kept program to resume after an interruption, at its review:
    /// checked again against the library now active (a limit changed since
    /// is shown there). Never started from here without the nurse.
    ///
    /// - Continuous programs (a rate, or a dose rate) come with what is left
    ///   of their volume; the nurse may go back and change any value.
    /// - Programs given as an amount over a time, or with a loading dose,
    ///   come as programmed, marked as their rest after `delivered` (see
    ///   `rest_after_nl`): the pump gives what is left of them, each part
    ///   at its rate, and their values cannot be changed.
    /// - None for what the touchscreen never programs (a volume over a time).
    pub fn resuming(
        library: Arc<Library>,
        platform: RateLimits,
        care_area: &str,
        entry: Option<&str>,
        program: &Program,
        delivered: Nanolitres,
        remaining: Millilitres,
    ) -> Option<Workflow> {
        let mut workflow = Workflow::primary(library, platform);
        workflow.answers.care_area = Some(care_area.to_owned());
        workflow.answers.drug = Some(entry.map_or(Pick::Basic, |id| Pick::Entry(id.to_owned())));
        let minutes =
            |duration: InfusionDuration| Decimal::from(duration.seconds()) / Decimal::from(60);
        let dose = match program.delivery {
            Delivery::Rate { rate, .. } => rate.value(),
            Delivery::Dose { dose, .. } => dose.value,
            Delivery::AmountOverTime { amount, duration } => {
                workflow.answers.duration_min = Some(minutes(duration));
                workflow.rest_after_nl = Some(delivered.0);
                amount.value
            }
            Delivery::LoadingThenMaintenance {
                loading,
                loading_duration,
                maintenance,
                volume,
            } => {
                workflow.answers.loading = Some(true);
                workflow.answers.loading_dose = Some(loading.value);
                workflow.answers.loading_duration_min = Some(minutes(loading_duration));
                workflow.answers.volume = Some(volume.value());
                workflow.rest_after_nl = Some(delivered.0);
                maintenance.value
            }
            Delivery::VolumeOverTime { .. } => return None,
        };
        if let Medication::Drug {
            concentration,
            patient,
        } = program.medication
        {
            let index = workflow.entry_picked().and_then(|entry| {
                entry.concentrations.iter().position(|spec| {
                    Amount::new(spec.amount, spec.unit) == concentration.amount
                        && spec.volume_ml == concentration.volume.value()
                })
            });
            workflow.answers.concentration = Some(index?);
            workflow.answers.weight = patient.weight.map(Kilograms::value);
            workflow.answers.height = patient.height.map(Centimetres::value);
        }
        workflow.answers.dose = Some(dose);
        if workflow.rest_after_nl.is_none() {
            workflow.answers.volume = Some(remaining.value());
        }
        workflow.step = Step::Review;
        Some(workflow)
    }

    /// For the rest of a kept program: nL of it already infused.
    pub fn rest_after_nl(&self) -> Option<u64> {
        self.rest_after_nl
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

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
                steps.push(Step::Dose);
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
                if intermittent {
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

    fn care_area(&self) -> Option<&CareArea> {
        self.library.care_area(self.answers.care_area.as_deref()?)
    }

    /// The library entry picked, if a drug (not a basic infusion) was.
    pub fn entry_picked(&self) -> Option<&Entry> {
        let Some(Pick::Entry(id)) = &self.answers.drug else {
            return None;
        };
        self.library.entry(self.answers.care_area.as_deref()?, id)
    }

    /// The search text of the drug list.
    pub fn search(&self) -> &str {
        &self.search
    }

    /// Narrows the drug list to names containing `text` (any case).
    pub fn set_search(&mut self, text: &str) {
        self.search = text.chars().take(32).collect();
    }

    /// The options of the current choice step (empty on a number step).
    pub fn choices(&self) -> Vec<Choice> {
        match self.step {
            Step::CareArea => self
                .library
                .file
                .care_areas
                .iter()
                .map(|area| Choice::CareArea {
                    id: area.id.clone(),
                    name: area.name.clone(),
                })
                .collect(),
            Step::Drug => {
                let needle = self.search.to_lowercase();
                let matches = |entry: &&Entry| {
                    needle.is_empty()
                        || entry.display_name.to_lowercase().contains(&needle)
                        || entry.generic_name.to_lowercase().contains(&needle)
                };
                let mut choices = vec![Choice::Basic];
                if let Some(area) = self.care_area() {
                    choices.extend(
                        area.entries
                            .iter()
                            .filter(matches)
                            .map(|entry| Choice::Drug {
                                id: entry.id.clone(),
                                display_name: entry.display_name.clone(),
                            }),
                    );
                }
                choices
            }
            Step::Concentration => self
                .entry_picked()
                .map(|entry| {
                    entry
                        .concentrations
                        .iter()
                        .enumerate()
                        .map(|(index, spec)| Choice::Concentration {
                            index,
                            amount: Amount::new(spec.amount, spec.unit),
                            volume: Millilitres::new(spec.volume_ml),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Step::Loading => vec![Choice::Loading(false), Choice::Loading(true)],
            Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Review => Vec::new(),
        }
    }

    /// The option chosen before on this step, if any (highlighted on return).
    pub fn chosen(&self) -> Option<String> {
        match self.step {
            Step::CareArea => self.answers.care_area.clone(),
            Step::Drug => self.answers.drug.as_ref().map(|pick| match pick {
                Pick::Basic => BASIC_ID.to_owned(),
                Pick::Entry(id) => id.clone(),
            }),
            Step::Concentration => self.answers.concentration.map(|index| index.to_string()),
            Step::Loading => self.answers.loading.map(|yes| Choice::Loading(yes).id()),
            Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Review => None,
        }
    }

    /// Answers a choice step with the option of id `id` and moves on.
    /// Changing an earlier choice forgets the answers that depended on it.
    pub fn choose(&mut self, id: &str) -> Result<(), Problem> {
        if !self.step.is_choice() {
            return Err(Problem::WrongStep);
        }
        let choice = self
            .choices()
            .into_iter()
            .find(|choice| choice.id() == id)
            .ok_or_else(|| Problem::UnknownChoice(id.to_owned()))?;
        let before = self.answers.clone();
        match choice {
            Choice::CareArea { id, .. } => {
                if self.answers.care_area.as_ref() != Some(&id) {
                    self.answers = Answers {
                        care_area: Some(id),
                        weight: before.weight,
                        height: before.height,
                        ..Answers::default()
                    };
                }
            }
            Choice::Basic | Choice::Drug { .. } => {
                let pick = match choice {
                    Choice::Drug { id, .. } => Pick::Entry(id),
                    _ => Pick::Basic,
                };
                if self.answers.drug.as_ref() != Some(&pick) {
                    self.answers = Answers {
                        care_area: before.care_area,
                        drug: Some(pick),
                        weight: before.weight,
                        height: before.height,
                        ..Answers::default()
                    };
                }
            }
            Choice::Concentration { index, .. } => self.answers.concentration = Some(index),
            Choice::Loading(yes) => self.answers.loading = Some(yes),
        }
        self.search.clear();
        self.advance();
        Ok(())
    }

    /// The number field of the current step (None on a choice or review).
    pub fn field(&self) -> Option<NumberField> {
        let entry = self.entry_picked();
        let spec_limits = |spec: Option<&AmountSpec>| spec.map(AmountSpec::limits);
        let duration_range = rules::Range {
            min: Decimal::ONE,
            max: rules::DURATION_SECONDS.max / Decimal::from(60),
            unit: "min",
            ..rules::DURATION_SECONDS
        };
        let minimum_minutes = |minutes: Option<u32>| {
            minutes.map(|minutes| Limits {
                hard_min: Some(Decimal::from(minutes)),
                soft_min: None,
                soft_max: None,
                hard_max: duration_range.max,
            })
        };
        Some(match self.step {
            Step::Dose => match (self.kind, entry) {
                (Kind::Bolus, Some(entry)) => NumberField {
                    unit: entry
                        .bolus
                        .map(|spec| spec.unit.0.to_string())
                        .unwrap_or_default(),
                    limits: spec_limits(entry.bolus.as_ref()),
                    range: rules::Range {
                        min: Decimal::ZERO,
                        max: Decimal::from(1_000_000),
                        unit: "",
                        ..rules::RATE.named(crate::therapy::Quantity::DoseAmount)
                    },
                },
                (Kind::Bolus, None) => NumberField {
                    unit: Millilitres::UNIT.to_owned(),
                    limits: None,
                    range: rules::VOLUME_TO_BE_INFUSED.named(crate::therapy::Quantity::BolusVolume),
                },
                (_, Some(entry)) if entry.dose.unit != DosingUnit::Flow => NumberField {
                    unit: entry.dose.unit.to_string(),
                    limits: Some(entry.dose.limits()),
                    range: rules::Range {
                        min: Decimal::ZERO,
                        max: Decimal::from(1_000_000),
                        unit: "",
                        ..rules::RATE.named(crate::therapy::Quantity::DoseRate)
                    },
                },
                (_, entry) => {
                    let area_max = self.care_area().and_then(|area| area.basic_max_rate_ml_h);
                    let hard_max = area_max.map_or(self.platform.max.value(), |max| {
                        max.min(self.platform.max.value())
                    });
                    let mut limits = Limits {
                        hard_min: Some(self.platform.min.value()),
                        soft_min: None,
                        soft_max: None,
                        hard_max,
                    };
                    if let Some(entry) = entry {
                        let library = entry.dose.limits();
                        limits = Limits {
                            hard_min: library.hard_min.max(limits.hard_min),
                            soft_min: library.soft_min,
                            soft_max: library.soft_max,
                            hard_max: library.hard_max.min(limits.hard_max),
                        };
                    }
                    NumberField {
                        unit: MillilitresPerHour::UNIT.to_owned(),
                        limits: Some(limits),
                        range: rules::RATE,
                    }
                }
            },
            Step::LoadingDose => NumberField {
                unit: entry
                    .and_then(|entry| entry.loading)
                    .map(|spec| spec.unit.0.to_string())
                    .unwrap_or_default(),
                limits: spec_limits(entry.and_then(|entry| entry.loading.as_ref())),
                range: rules::Range {
                    min: Decimal::ZERO,
                    max: Decimal::from(1_000_000),
                    unit: "",
                    ..rules::RATE.named(crate::therapy::Quantity::DoseAmount)
                },
            },
            Step::LoadingDuration => NumberField {
                unit: "min".to_owned(),
                limits: minimum_minutes(
                    entry.and_then(|entry| entry.loading.and_then(|spec| spec.min_duration_min)),
                ),
                range: duration_range,
            },
            Step::Duration => {
                let minutes = match self.kind {
                    Kind::Bolus => {
                        entry.and_then(|entry| entry.bolus.and_then(|spec| spec.min_duration_min))
                    }
                    Kind::Primary | Kind::Secondary | Kind::Titration => {
                        entry.and_then(|entry| entry.dose.min_duration_min)
                    }
                };
                NumberField {
                    unit: "min".to_owned(),
                    limits: minimum_minutes(minutes),
                    range: duration_range,
                }
            }
            Step::Weight => NumberField {
                unit: Kilograms::UNIT.to_owned(),
                limits: None,
                range: rules::WEIGHT,
            },
            Step::Height => NumberField {
                unit: Centimetres::UNIT.to_owned(),
                limits: None,
                range: rules::HEIGHT,
            },
            Step::Volume => {
                // No more than the loaded syringe holds, nor the library allows.
                let container = self.platform.container.map(Millilitres::value);
                let hard_max = match (entry.map(|entry| entry.max_vtbi_ml), container) {
                    (Some(library), Some(container)) => Some(library.min(container)),
                    (library, container) => library.or(container),
                };
                NumberField {
                    unit: Millilitres::UNIT.to_owned(),
                    limits: hard_max.map(|hard_max| Limits {
                        hard_min: None,
                        soft_min: None,
                        soft_max: None,
                        hard_max,
                    }),
                    range: rules::VOLUME_TO_BE_INFUSED,
                }
            }
            Step::CareArea | Step::Drug | Step::Concentration | Step::Loading | Step::Review => {
                return None
            }
        })
    }

    /// The keypad of the current number step.
    pub fn entry(&self) -> &NumberEntry {
        &self.entry
    }

    /// Presses a keypad key; a refused key leaves the entry unchanged.
    pub fn press(&mut self, key: Key) -> Result<(), Problem> {
        if self.field().is_none() {
            return Err(Problem::WrongStep);
        }
        self.entry.press(key).map_err(Problem::Key)
    }

    /// Where the typed value stands against the step's limits, as typed
    /// (None while the text is not yet a number).
    pub fn typed_status(&self) -> Option<LimitStatus> {
        let value = self.entry.value().ok()?;
        let limits = self.field()?.limits?;
        Some(LimitStatus::of(value, &limits))
    }

    /// Accepts the typed number and moves on; a refused value changes
    /// nothing and says why.
    pub fn accept(&mut self) -> Result<(), Problem> {
        let field = self.field().ok_or(Problem::WrongStep)?;
        let value = self.entry.value().map_err(Problem::Entry)?;
        field.range.check(value).map_err(Problem::Entry)?;
        if value <= Decimal::ZERO {
            return Err(Problem::Entry(TherapyError::OutOfRange {
                quantity: field.range.quantity,
                value,
                min: Decimal::ZERO,
                max: field.range.max,
                unit: field.unit,
            }));
        }
        if let Some(limits) = field.limits {
            let status = LimitStatus::of(value, &limits);
            if matches!(status, LimitStatus::BeyondHard { .. }) {
                return Err(Problem::HardLimit {
                    status,
                    unit: field.unit,
                });
            }
        }
        let slot = match self.step {
            Step::LoadingDose => &mut self.answers.loading_dose,
            Step::LoadingDuration => &mut self.answers.loading_duration_min,
            Step::Dose => &mut self.answers.dose,
            Step::Weight => &mut self.answers.weight,
            Step::Height => &mut self.answers.height,
            Step::Duration => &mut self.answers.duration_min,
            Step::Volume => &mut self.answers.volume,
            Step::CareArea | Step::Drug | Step::Concentration | Step::Loading | Step::Review => {
                return Err(Problem::WrongStep)
            }
        };
        *slot = Some(value);
        self.advance();
        Ok(())
    }

    fn answer(&self, step: Step) -> Option<Decimal> {
        match step {
            Step::LoadingDose => self.answers.loading_dose,
            Step::LoadingDuration => self.answers.loading_duration_min,
            Step::Dose => self.answers.dose.or_else(|| {
                // A titration starts from the running dose.
                (self.kind == Kind::Titration)
                    .then(|| self.running.as_ref().map(|running| running.dose))
                    .flatten()
            }),
            Step::Weight => self.answers.weight,
            Step::Height => self.answers.height,
            Step::Duration => self.answers.duration_min,
            Step::Volume => self.answers.volume.or_else(|| {
                // Suggest what the container holds, within the entry's limit.
                let entry = self.entry_picked()?;
                let concentration = self
                    .answers
                    .concentration
                    .and_then(|index| entry.concentrations.get(index));
                Some(concentration.map_or(entry.max_vtbi_ml, |spec| {
                    spec.volume_ml.min(entry.max_vtbi_ml)
                }))
            }),
            Step::CareArea | Step::Drug | Step::Concentration | Step::Loading | Step::Review => {
                None
            }
        }
    }

    fn load_entry(&mut self) {
        self.entry = self
            .answer(self.step)
            .map(NumberEntry::showing)
            .unwrap_or_default();
    }

    fn advance(&mut self) {
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
        if self.rest_after_nl.is_some() {
            return false;
        }
        let steps = self.steps();
        match steps.iter().position(|step| *step == self.step) {
            Some(index) if index > 0 => {
                if let Some(previous) = steps.get(index - 1) {
                    self.step = *previous;
                }
                self.search.clear();
                self.load_entry();
                true
            }
            _ => false,
        }
    }

    fn concentration(&self) -> Option<Concentration> {
        let entry = self.entry_picked()?;
        let spec = entry.concentrations.get(self.answers.concentration?)?;
        Some(Concentration {
            amount: Amount::new(spec.amount, spec.unit),
            volume: Millilitres::new(spec.volume_ml),
        })
    }

    /// The medication as answered (or of the running primary).
    pub fn medication(&self) -> Medication {
        if let (Kind::Bolus | Kind::Titration, Some(running)) = (self.kind, &self.running) {
            return running.medication;
        }
        match self.concentration() {
            Some(concentration) => Medication::Drug {
                concentration,
                patient: Patient {
                    weight: self.answers.weight.map(Kilograms::new),
                    height: self.answers.height.map(Centimetres::new),
                },
            },
            None => Medication::Basic,
        }
    }

    fn delivery(&self) -> Result<Delivery, TherapyError> {
        let missing = || TherapyError::NotANumber {
            text: String::new(),
        };
        let dose = self
            .answers
            .dose
            .or(self.answer(Step::Dose))
            .ok_or_else(missing)?;
        let unit = self.entry_picked().map(|entry| entry.dose.unit);
        let volume = match self.kind {
            Kind::Titration => self.running.as_ref().map(|running| running.remaining),
            _ => self.answers.volume.map(Millilitres::new),
        };
        let minutes = |value: Option<Decimal>| -> Result<InfusionDuration, TherapyError> {
            let value = value.ok_or_else(missing)?;
            let seconds = (value * Decimal::from(60)).round();
            let seconds = u32::try_from(seconds.mantissa()).map_err(|_| TherapyError::Overflow)?;
            Ok(InfusionDuration::from_seconds(seconds))
        };
        Ok(match unit {
            None | Some(DosingUnit::Flow) => Delivery::Rate {
                rate: MillilitresPerHour::new(dose),
                volume: volume.ok_or_else(missing)?,
            },
            Some(DosingUnit::Rate(unit)) => {
                let dose = DoseRate { value: dose, unit };
                match (
                    self.answers.loading,
                    self.entry_picked().and_then(|entry| entry.loading),
                ) {
                    (Some(true), Some(spec)) if self.kind == Kind::Primary => {
                        Delivery::LoadingThenMaintenance {
                            loading: DoseAmount {
                                value: self.answers.loading_dose.ok_or_else(missing)?,
                                unit: spec.unit.0,
                            },
                            loading_duration: minutes(self.answers.loading_duration_min)?,
                            maintenance: dose,
                            volume: volume.ok_or_else(missing)?,
                        }
                    }
                    _ => Delivery::Dose {
                        dose,
                        volume: volume.ok_or_else(missing)?,
                    },
                }
            }
            Some(DosingUnit::Amount(unit)) => Delivery::AmountOverTime {
                amount: DoseAmount { value: dose, unit },
                duration: minutes(self.answers.duration_min)?,
            },
        })
    }

    /// The drug library's review of the program as answered (the review
    /// step shows it). None before the review step.
    pub fn review(&self) -> Option<Review> {
        if self.step != Step::Review {
            return None;
        }
        let care_area = self.answers.care_area.clone().unwrap_or_default();
        let choice = match &self.answers.drug {
            Some(Pick::Entry(id)) => DrugChoice::Entry(id),
            Some(Pick::Basic) | None => DrugChoice::Basic,
        };
        let blocked = |error: TherapyError| Review {
            library: self.library.identity.clone(),
            care_area: care_area.clone(),
            entry: None,
            plan: None,
            values: Vec::new(),
            blockers: vec![error.into()],
        };
        let medication = self.medication();
        Some(match self.kind {
            Kind::Primary | Kind::Titration => match self.delivery() {
                Ok(delivery) => review(
                    &self.library,
                    &care_area,
                    choice,
                    &Program {
                        medication,
                        delivery,
                        end: EndOfInfusion::Stop,
                    },
                    &self.platform,
                ),
                Err(error) => blocked(error),
            },
            Kind::Secondary => match self.delivery() {
                Ok(delivery) => review_secondary(
                    &self.library,
                    &care_area,
                    choice,
                    &SecondaryProgram {
                        medication,
                        delivery,
                    },
                    &self.platform,
                ),
                Err(error) => blocked(error),
            },
            Kind::Bolus => {
                let duration = self
                    .answers
                    .duration_min
                    .map(|minutes| (minutes * Decimal::from(60)).round())
                    .and_then(|seconds| u32::try_from(seconds.mantissa()).ok())
                    .map(InfusionDuration::from_seconds);
                let (Some(dose), Some(duration)) = (self.answers.dose, duration) else {
                    return Some(blocked(TherapyError::NotANumber {
                        text: String::new(),
                    }));
                };
                let (entry_id, request) = match (&self.answers.drug, self.entry_picked()) {
                    (Some(Pick::Entry(id)), Some(entry)) => (
                        id.clone(),
                        match entry.bolus {
                            Some(spec) => BolusRequest::Dose {
                                amount: DoseAmount {
                                    value: dose,
                                    unit: spec.unit.0,
                                },
                                duration,
                            },
                            None => BolusRequest::Volume {
                                volume: Millilitres::new(dose),
                                duration,
                            },
                        },
                    ),
                    _ => (
                        String::new(),
                        BolusRequest::Volume {
                            volume: Millilitres::new(dose),
                            duration,
                        },
                    ),
                };
                review_bolus(
                    &self.library,
                    &care_area,
                    &entry_id,
                    &medication,
                    &request,
                    &self.platform,
                )
            }
        })
    }

    /// Confirms the review with the overrides the nurse gave; the result is
    /// the only thing the pump starts.
    pub fn confirm(&self, overrides: &[Override]) -> Result<ConfirmedProgram, ConfirmError> {
        match self.review() {
            Some(review) => confirm(review, overrides),
            None => Err(ConfirmError::Blocked(Vec::new())),
        }
    }

    /// The program as answered (primary programs), to keep for a resume.
    pub fn program(&self) -> Option<Program> {
        if self.kind != Kind::Primary {
            return None;
        }
        Some(Program {
            medication: self.medication(),
            delivery: self.delivery().ok()?,
            end: EndOfInfusion::Stop,
        })
    }

    /// The dose (or rate) typed on the dose step, if answered.
    pub fn typed_dose(&self) -> Option<Decimal> {
        self.answer(Step::Dose)
    }

    /// The care area answered.
    pub fn care_area_id(&self) -> Option<&str> {
        self.answers.care_area.as_deref()
    }

    /// The running context this program builds on, with the new answers,
    /// for the next bolus, secondary or titration.
    pub fn running_after_start(&self, remaining: Millilitres) -> Running {
        Running {
            care_area: self.answers.care_area.clone().unwrap_or_default(),
            drug: self.answers.drug.clone().unwrap_or(Pick::Basic),
            medication: self.medication(),
            dose: self.answers.dose.unwrap_or_default(),
            remaining,
        }
    }
}

/// 0 for a dose for the whole patient, 1 per kg, 2 per m².
fn basis(unit: DosingUnit) -> u8 {
    use crate::therapy::DoseBasis;
    let basis = match unit {
        DosingUnit::Flow => DoseBasis::Patient,
        DosingUnit::Rate(unit) => unit.basis,
        DosingUnit::Amount(unit) => unit.basis,
    };
    match basis {
        DoseBasis::Patient => 0,
        DoseBasis::PerKilogram => 1,
        DoseBasis::PerSquareMetre => 2,
    }
}
