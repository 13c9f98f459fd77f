//! The steps answered on the keypad: the number field on show, each key,
//! and the answer accepted once the therapy core parsed it and the library's
//! limits were applied.

use super::*;

impl Workflow {
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
                (_, entry) => self.fluid_rate_field(entry),
            },
            Step::Basal => NumberField {
                unit: entry
                    .map(|entry| entry.dose.unit.to_string())
                    .unwrap_or_default(),
                limits: entry.map(|entry| entry.dose.limits()),
                range: rules::Range {
                    min: Decimal::ZERO,
                    max: Decimal::from(1_000_000),
                    unit: "",
                    ..rules::RATE.named(crate::therapy::Quantity::DoseRate)
                },
            },
            Step::Demand | Step::PcaLimit => {
                let spec = entry.and_then(|entry| entry.pca).map(|pca| {
                    if self.step == Step::Demand {
                        pca.demand
                    } else {
                        pca.limit
                    }
                });
                NumberField {
                    unit: spec.map(|spec| spec.unit.0.to_string()).unwrap_or_default(),
                    limits: spec.map(|spec| spec.limits()),
                    range: rules::Range {
                        min: Decimal::ZERO,
                        max: Decimal::from(1_000_000),
                        unit: "",
                        ..rules::RATE.named(crate::therapy::Quantity::DoseAmount)
                    },
                }
            }
            Step::Lockout => NumberField {
                unit: "min".to_owned(),
                limits: entry
                    .and_then(|entry| entry.pca)
                    .map(|pca| pca.lockout_min.limits()),
                range: crate::therapy::LOCKOUT_MINUTES,
            },
            Step::StepRate(_) => self.fluid_rate_field(entry),
            Step::StepVolume(_) => self.volume_field(entry),
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
            Step::Volume => self.volume_field(entry),
            Step::CareArea
            | Step::Drug
            | Step::Concentration
            | Step::Loading
            | Step::MoreSteps(_)
            | Step::Review => return None,
        })
    }

    /// A fluid's rate: the platform's range, capped by the care area's
    /// basic maximum, narrowed by the entry's limits if a fluid entry.
    fn fluid_rate_field(&self, entry: Option<&Entry>) -> NumberField {
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

    /// A volume: no more than the loaded syringe holds, nor the library
    /// allows (for a step of a multi-step program, less what the other
    /// steps take of it).
    fn volume_field(&self, entry: Option<&Entry>) -> NumberField {
        let container = self.platform.container.map(Millilitres::value);
        let mut hard_max = match (entry.map(|entry| entry.max_vtbi_ml), container) {
            (Some(library), Some(container)) => Some(library.min(container)),
            (library, container) => library.or(container),
        };
        if let Some(index) = self.step.rate_step() {
            let others: Decimal = self
                .answers
                .rate_steps
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != usize::from(index))
                .filter_map(|(_, (_, volume))| *volume)
                .sum();
            hard_max = hard_max.map(|max| (max - others).max(Decimal::ZERO));
        }
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

    /// One-touch volumes for a bag (the volumetric pump, which has no
    /// container size to suggest): the usual bag sizes within the step's
    /// limits.
    pub fn volume_presets(&self) -> Vec<Decimal> {
        if self.step != Step::Volume || self.platform.container.is_some() {
            return Vec::new();
        }
        let Some(field) = self.field() else {
            return Vec::new();
        };
        [50, 100, 250, 500, 1000]
            .into_iter()
            .map(Decimal::from)
            .filter(|volume| field.range.check(*volume).is_ok())
            .filter(|volume| field.limits.is_none_or(|limits| *volume <= limits.hard_max))
            .collect()
    }

    /// Accepts one of the volume presets, as if typed and Next pressed.
    pub fn accept_preset(&mut self, volume: Decimal) -> Result<(), Problem> {
        if !self.volume_presets().contains(&volume) {
            return Err(Problem::UnknownChoice(volume.to_string()));
        }
        self.entry = NumberEntry::showing(volume);
        self.accept()
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
        // A PCA's basal may be zero: demands only (its limits are the
        // basal's, and do not apply to none).
        let no_basal = self.step == Step::Basal && value.is_zero();
        if value <= Decimal::ZERO && !no_basal {
            return Err(Problem::Entry(TherapyError::OutOfRange {
                quantity: field.range.quantity,
                value,
                min: Decimal::ZERO,
                max: field.range.max,
                unit: field.unit,
            }));
        }
        if let (Some(limits), false) = (field.limits, no_basal) {
            let status = LimitStatus::of(value, &limits);
            if matches!(status, LimitStatus::BeyondHard { .. }) {
                return Err(Problem::HardLimit {
                    status,
                    unit: field.unit,
                });
            }
        }
        let step = self.step;
        let slot = match step {
            Step::StepRate(index) | Step::StepVolume(index) => {
                let Some(answer) = self.answers.rate_steps.get_mut(usize::from(index)) else {
                    return Err(Problem::WrongStep);
                };
                if matches!(step, Step::StepRate(_)) {
                    &mut answer.0
                } else {
                    &mut answer.1
                }
            }
            Step::LoadingDose => &mut self.answers.loading_dose,
            Step::LoadingDuration => &mut self.answers.loading_duration_min,
            Step::Dose | Step::Basal => &mut self.answers.dose,
            Step::Demand => &mut self.answers.demand,
            Step::Lockout => &mut self.answers.lockout_min,
            Step::PcaLimit => &mut self.answers.pca_limit,
            Step::Weight => &mut self.answers.weight,
            Step::Height => &mut self.answers.height,
            Step::Duration => &mut self.answers.duration_min,
            Step::Volume => &mut self.answers.volume,
            Step::CareArea
            | Step::Drug
            | Step::Concentration
            | Step::Loading
            | Step::MoreSteps(_)
            | Step::Review => return Err(Problem::WrongStep),
        };
        *slot = Some(value);
        self.advance();
        Ok(())
    }

    pub(super) fn answer(&self, step: Step) -> Option<Decimal> {
        match step {
            Step::LoadingDose => self.answers.loading_dose,
            Step::LoadingDuration => self.answers.loading_duration_min,
            Step::Dose => self.answers.dose.or_else(|| {
                // A titration starts from the running dose.
                (self.kind == Kind::Titration)
                    .then(|| self.running.as_ref().map(|running| running.dose))
                    .flatten()
            }),
            Step::Basal => self.answers.dose,
            // The library's usual values: the nurse confirms or changes them.
            Step::Demand => self
                .answers
                .demand
                .or_else(|| self.pca_spec().map(|pca| pca.demand.default)),
            Step::Lockout => self.answers.lockout_min.or_else(|| {
                self.pca_spec()
                    .map(|pca| Decimal::from(pca.lockout_min.default))
            }),
            Step::PcaLimit => self
                .answers
                .pca_limit
                .or_else(|| self.pca_spec().map(|pca| pca.limit.default)),
            Step::Weight => self.answers.weight,
            Step::Height => self.answers.height,
            Step::Duration => self.answers.duration_min,
            Step::Volume => self.answers.volume.or_else(|| {
                // Suggest what the bag or syringe holds, never beyond the
                // entry's limit nor the loaded syringe: the step never opens
                // on a value it would refuse.
                let container = self.platform.container.map(Millilitres::value);
                let suggested = match self.entry_picked() {
                    Some(entry) => {
                        let concentration = self
                            .answers
                            .concentration
                            .and_then(|index| entry.concentrations.get(index));
                        Some(concentration.map_or(entry.max_vtbi_ml, |spec| {
                            spec.volume_ml.min(entry.max_vtbi_ml)
                        }))
                    }
                    None => container,
                };
                match (suggested, container) {
                    (Some(suggested), Some(container)) => Some(suggested.min(container)),
                    (suggested, _) => suggested,
                }
            }),
            Step::StepRate(index) => self
                .answers
                .rate_steps
                .get(usize::from(index))
                .and_then(|(rate, _)| *rate),
            Step::StepVolume(index) => self
                .answers
                .rate_steps
                .get(usize::from(index))
                .and_then(|(_, volume)| *volume),
            Step::CareArea
            | Step::Drug
            | Step::Concentration
            | Step::Loading
            | Step::MoreSteps(_)
            | Step::Review => None,
        }
    }

    /// The PCA limits of the entry picked, for a PCA program.
    pub(super) fn pca_spec(&self) -> Option<crate::druglib::model::PcaSpec> {
        self.is_pca()
            .then(|| self.entry_picked().and_then(|entry| entry.pca))
            .flatten()
    }

    /// The dose (or rate) typed on the dose step, if answered.
    pub fn typed_dose(&self) -> Option<Decimal> {
        self.answer(Step::Dose)
    }
}
