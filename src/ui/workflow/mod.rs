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

mod choices;
mod entry;
mod review;

mod walk;

mod end;
pub use end::{EndOptions, RateBy};

mod order;
pub use order::{ordered_programs, OrderMismatch};

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
    /// A step of a multi-step program (from 0): its rate, its volume, and
    /// whether another step follows.
    StepRate(u8),
    StepVolume(u8),
    MoreSteps(u8),
    /// A PCA program's basal rate (zero: demands only), its demand dose,
    /// lockout interval and limit over the library's window.
    Basal,
    Demand,
    Lockout,
    PcaLimit,
    Review,
}

impl Step {
    /// The step's name in interaction records (usability metrics read it).
    pub fn name(self) -> &'static str {
        match self {
            Step::CareArea => "CareArea",
            Step::Drug => "Drug",
            Step::Concentration => "Concentration",
            Step::Loading => "Loading",
            Step::LoadingDose => "LoadingDose",
            Step::LoadingDuration => "LoadingDuration",
            Step::Dose => "Dose",
            Step::Weight => "Weight",
            Step::Height => "Height",
            Step::Duration => "Duration",
            Step::Volume => "Volume",
            Step::StepRate(_) => "StepRate",
            Step::StepVolume(_) => "StepVolume",
            Step::MoreSteps(_) => "MoreSteps",
            Step::Basal => "Basal",
            Step::Demand => "Demand",
            Step::Lockout => "Lockout",
            Step::PcaLimit => "PcaLimit",
            Step::Review => "Review",
        }
    }

    /// The multi-step program's step this page belongs to, if any.
    pub const fn rate_step(self) -> Option<u8> {
        match self {
            Step::StepRate(index) | Step::StepVolume(index) | Step::MoreSteps(index) => Some(index),
            Step::CareArea
            | Step::Drug
            | Step::Concentration
            | Step::Loading
            | Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Basal
            | Step::Demand
            | Step::Lockout
            | Step::PcaLimit
            | Step::Review => None,
        }
    }

    /// How the step is answered: by a choice from a list, or on the keypad.
    pub const fn is_choice(self) -> bool {
        match self {
            Step::CareArea
            | Step::Drug
            | Step::Concentration
            | Step::Loading
            | Step::MoreSteps(_) => true,
            Step::StepRate(_)
            | Step::StepVolume(_)
            | Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Basal
            | Step::Demand
            | Step::Lockout
            | Step::PcaLimit
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
    /// How a fluid's rate is given: typed, from a volume over a time, or
    /// as several steps.
    rate_by: RateBy,
    /// The steps of a multi-step program as answered (rate, volume), and
    /// how many the sequence has (at least one).
    rate_steps: ArrayVec<(Option<Decimal>, Option<Decimal>), { crate::therapy::MAX_RATE_STEPS }>,
    /// Keep the vein open at the end (Some(true)) or stop (Some(false));
    /// None: as the entry's rule has it (`KvoRule`).
    keep_vein_open: Option<bool>,
    /// A PCA program's demand dose, lockout (minutes) and limit (its basal
    /// is `dose`).
    demand: Option<Decimal>,
    lockout_min: Option<Decimal>,
    pca_limit: Option<Decimal>,
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
    /// After a step of a multi-step program: add another (true) or review.
    MoreSteps(bool),
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
            Choice::MoreSteps(true) => "steps-add".to_owned(),
            Choice::MoreSteps(false) => "steps-done".to_owned(),
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
    /// The first letter the drug list is narrowed to (one touch on the
    /// letter index), if any.
    initial: Option<char>,
    /// Set when this is the rest of a kept program that was given as an
    /// amount over a time or with a loading dose: nL already infused of it.
    /// Its values are as programmed and cannot be changed here (the rest of
    /// a started dose is not a new dose).
    rest_after_nl: Option<u64>,
    /// A program from a hospital order (`order.rs`): its values are the
    /// prescriber's, confirmed or declined on the review, not edited.
    ordered: bool,
}

/// Longest step sequence: care area, drug, six steps of a multi-step
/// program (rate, volume, another or not; the last has no question), review.
const MAX_STEPS: usize = 24;

impl Workflow {
    /// Starts programming a new primary infusion, in `care_area` if it is
    /// given (the patient's, chosen before) and in the library, or in the
    /// library's only care area: it then opens on the drug, and the care
    /// area is one step back.
    pub fn primary(
        library: Arc<Library>,
        platform: RateLimits,
        care_area: Option<&str>,
    ) -> Workflow {
        let known = care_area
            .filter(|id| library.care_area(id).is_some())
            .map(str::to_owned);
        let only = match library.file.care_areas.as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        };
        let mut workflow = Workflow::new(library, platform, Kind::Primary, None);
        if let Some(area) = known.or(only) {
            workflow.answers.care_area = Some(area);
            workflow.step = workflow
                .steps()
                .into_iter()
                .find(|step| *step != Step::CareArea)
                .unwrap_or(Step::Review);
            workflow.load_entry();
        }
        workflow
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
            initial: None,
            rest_after_nl: None,
            ordered: false,
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
    /// - A fluid given as a volume over a time comes as the rate it ran at,
    ///   with what is left of its volume.
    /// - The end (stop or keep the vein open) is as programmed, if the
    ///   library still allows it.
    /// - None where the kept program no longer matches the library (its
    ///   concentration is gone).
    pub fn resuming(
        library: Arc<Library>,
        platform: RateLimits,
        care_area: &str,
        entry: Option<&str>,
        program: &Program,
        delivered: Nanolitres,
        remaining: Millilitres,
    ) -> Option<Workflow> {
        let mut workflow = Workflow::primary(library, platform, Some(care_area));
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
            // What is left of a volume over a time runs on at the rate it
            // ran at (the time left follows from it).
            Delivery::VolumeOverTime { .. } => crate::therapy::plan(program, &platform)
                .ok()?
                .segments
                .first()?
                .rate
                .value(),
            // A PCA resumes as programmed; the nurse may change any value
            // (the pump's demand history and limit carry on).
            Delivery::Pca(pca) => {
                workflow.answers.demand = Some(pca.demand.value);
                workflow.answers.lockout_min = Some(minutes(pca.lockout));
                workflow.answers.pca_limit = Some(pca.limit.value);
                pca.basal.map_or(Decimal::ZERO, |basal| basal.value)
            }
            // The rest of a multi-step program runs as programmed, each
            // step at its rate.
            Delivery::Steps(steps) => {
                workflow.answers.rate_by = RateBy::Steps;
                workflow.answers.rate_steps = steps
                    .as_slice()
                    .iter()
                    .map(|step| (Some(step.rate.value()), Some(step.volume.value())))
                    .collect();
                workflow.rest_after_nl = Some(delivered.0);
                steps.as_slice().first()?.rate.value()
            }
        };
        workflow.answers.keep_vein_open =
            Some(matches!(program.end, EndOfInfusion::KeepVeinOpen { .. }));
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

    /// A new primary of a drug the library runs as PCA.
    pub fn is_pca(&self) -> bool {
        self.kind == Kind::Primary && self.entry_picked().is_some_and(|entry| entry.pca.is_some())
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn library(&self) -> &Library {
        &self.library
    }
}
